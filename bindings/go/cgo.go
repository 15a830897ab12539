package minknow

// Where the C library comes from. By default the compiler and linker find
// minknow_auth.h and libminknow_auth through CGO_CFLAGS and CGO_LDFLAGS, for
// example, for an in-tree build (test.sh does this):
//
//	export CGO_CFLAGS="-I$REPO/include"
//	export CGO_LDFLAGS="-L$REPO/target/debug -Wl,-rpath,$REPO/target/debug"
//
// With the build tag minknow_pkgconfig, pkg-config's minknow_auth.pc is used
// instead (see cgo_pkgconfig.go).

// #cgo LDFLAGS: -lminknow_auth
// #include <stdlib.h>
// #include "minknow_auth.h"
import "C"

//go:build minknow_pkgconfig

package minknow

// Built with -tags minknow_pkgconfig: take the include and library flags
// from pkg-config's minknow_auth.pc (PKG_CONFIG_PATH may point at it).

// #cgo pkg-config: minknow_auth
import "C"

package minknow

// #include <stdint.h>
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// The callbacks SetLogger gives the library (see log.go). A file with
// //export may only declare, not define, C functions in its preamble, so
// they live apart.

//export minknowGoLog
func minknowGoLog(userData unsafe.Pointer, level C.int32_t, message *C.char) {
	logger := cgo.Handle(*(*C.uintptr_t)(userData)).Value().(func(LogLevel, string))
	logger(LogLevel(level), C.GoString(message))
}

//export minknowGoLogDestroy
func minknowGoLogDestroy(userData unsafe.Pointer) {
	releaseLogger(userData)
}

package minknow

// #include <stdint.h>
// #include <stdlib.h>
// #include "minknow_auth.h"
//
// extern void minknowGoLog(void *user_data, int32_t level, char *message);
// extern void minknowGoLogDestroy(void *user_data);
//
// static void minknow_go_log(void *user_data, int32_t level, const char *message) {
//     minknowGoLog(user_data, level, (char *)message);
// }
//
// static minknow_status minknow_go_set_log(int32_t max_level, void *user_data,
//                                          minknow_error **err) {
//     return minknow_set_log_callback(max_level, minknow_go_log, user_data,
//                                     minknowGoLogDestroy, err);
// }
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// LogLevel is how much the library logs, most severe first.
type LogLevel int32

const (
	LogOff   LogLevel = C.MINKNOW_LOG_LEVEL_OFF
	LogError LogLevel = C.MINKNOW_LOG_LEVEL_ERROR
	LogWarn  LogLevel = C.MINKNOW_LOG_LEVEL_WARN
	LogInfo  LogLevel = C.MINKNOW_LOG_LEVEL_INFO
	LogDebug LogLevel = C.MINKNOW_LOG_LEVEL_DEBUG
	LogTrace LogLevel = C.MINKNOW_LOG_LEVEL_TRACE
)

// SetLogger sends the library's log messages up to maxLevel to logger,
// replacing the previous logger and stderr logging from MINKNOW_AUTH_LOG.
// LogOff or a nil logger stops logging. Messages name the source and step
// (CA file tried, token source chosen, dial phase) and never hold a token,
// key or certificate.
//
// logger is called from the library's own threads, possibly from several
// at once: it must be safe for concurrent use, return quickly, and not
// call into this package.
func SetLogger(maxLevel LogLevel, logger func(level LogLevel, message string)) error {
	var cerr *C.minknow_error
	if logger == nil || maxLevel == LogOff {
		if st := C.minknow_go_set_log(C.int32_t(LogOff), nil, &cerr); st != C.MINKNOW_STATUS_OK {
			return takeError(st, cerr)
		}
		return nil
	}

	// The handle travels to C in C memory, so no Go pointer is stored
	// there; minknowGoLogDestroy frees both.
	slot := (*C.uintptr_t)(C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))
	*slot = C.uintptr_t(cgo.NewHandle(logger))
	st := C.minknow_go_set_log(C.int32_t(maxLevel), unsafe.Pointer(slot), &cerr)
	if st != C.MINKNOW_STATUS_OK {
		// The library owns user_data from the call on, on its error paths
		// too: it has already called minknowGoLogDestroy, which freed the
		// handle and the slot.
		return takeError(st, cerr)
	}
	return nil
}

func releaseLogger(userData unsafe.Pointer) {
	if userData == nil {
		return // turning logging off passes no logger
	}
	slot := (*C.uintptr_t)(userData)
	cgo.Handle(*slot).Delete()
	C.free(userData)
}

package minknow

// #include "minknow_auth.h"
import "C"

import "fmt"

// Status is the library's status code (minknow_status in the C header).
// The values are taken from the header, so they cannot drift from it.
type Status int32

// The library's status codes; see include/minknow_auth.h for each.
const (
	StatusOK                      Status = C.MINKNOW_STATUS_OK
	StatusEndOfStream             Status = C.MINKNOW_STATUS_END_OF_STREAM
	StatusNullArgument            Status = C.MINKNOW_STATUS_NULL_ARGUMENT
	StatusInvalidArgument         Status = C.MINKNOW_STATUS_INVALID_ARGUMENT
	StatusInvalidState            Status = C.MINKNOW_STATUS_INVALID_STATE
	StatusForkedHandle            Status = C.MINKNOW_STATUS_FORKED_HANDLE
	StatusFileError               Status = C.MINKNOW_STATUS_FILE_ERROR
	StatusBadCertificate          Status = C.MINKNOW_STATUS_BAD_CERTIFICATE
	StatusBadKey                  Status = C.MINKNOW_STATUS_BAD_KEY
	StatusEncryptedKey            Status = C.MINKNOW_STATUS_ENCRYPTED_KEY
	StatusKeyMismatch             Status = C.MINKNOW_STATUS_KEY_MISMATCH
	StatusNoTrustedCA             Status = C.MINKNOW_STATUS_NO_TRUSTED_CA
	StatusBadTokenFile            Status = C.MINKNOW_STATUS_BAD_TOKEN_FILE
	StatusPEMLooksLikePath        Status = C.MINKNOW_STATUS_PEM_LOOKS_LIKE_PATH
	StatusIncompleteIdentity      Status = C.MINKNOW_STATUS_INCOMPLETE_IDENTITY
	StatusConnectFailed           Status = C.MINKNOW_STATUS_CONNECT_FAILED
	StatusTLSFailed               Status = C.MINKNOW_STATUS_TLS_FAILED
	StatusCertificateVerifyFailed Status = C.MINKNOW_STATUS_CERTIFICATE_VERIFY_FAILED
	StatusHTTP2Failed             Status = C.MINKNOW_STATUS_HTTP2_FAILED
	StatusTimeout                 Status = C.MINKNOW_STATUS_TIMEOUT
	StatusRPCFailed               Status = C.MINKNOW_STATUS_RPC_FAILED
	StatusUnauthenticated         Status = C.MINKNOW_STATUS_UNAUTHENTICATED
	StatusCancelled               Status = C.MINKNOW_STATUS_CANCELLED
	StatusDeadlineExceeded        Status = C.MINKNOW_STATUS_DEADLINE_EXCEEDED
	StatusUnavailable             Status = C.MINKNOW_STATUS_UNAVAILABLE
	StatusMessageTooLarge         Status = C.MINKNOW_STATUS_MESSAGE_TOO_LARGE
	StatusBadResponse             Status = C.MINKNOW_STATUS_BAD_RESPONSE
	StatusPositionNotFound        Status = C.MINKNOW_STATUS_POSITION_NOT_FOUND
	StatusPositionNotRunning      Status = C.MINKNOW_STATUS_POSITION_NOT_RUNNING
	StatusNoBasecaller            Status = C.MINKNOW_STATUS_NO_BASECALLER
	StatusPanic                   Status = C.MINKNOW_STATUS_PANIC
	StatusInternal                Status = C.MINKNOW_STATUS_INTERNAL
)

// String is the library's own short name for the status ("file error",
// "certificate verify failed", ...).
func (s Status) String() string {
	return C.GoString(C.minknow_status_name(C.minknow_status(s)))
}

// LibraryVersion is the version of the libminknow_auth loaded at run time,
// as "MAJOR.MINOR.PATCH".
func LibraryVersion() string {
	return C.GoString(C.minknow_auth_version())
}

// HeaderVersion is the version of the minknow_auth.h this package was
// compiled against. A difference from LibraryVersion means the program runs
// with another library than it was built for.
func HeaderVersion() string {
	return fmt.Sprintf("%d.%d.%d", C.MINKNOW_AUTH_VERSION_MAJOR, C.MINKNOW_AUTH_VERSION_MINOR,
		C.MINKNOW_AUTH_VERSION_PATCH)
}

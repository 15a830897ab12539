package minknow

// #include "minknow_auth.h"
import "C"

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is every error this package returns. Code is the library's status;
// GRPC is the gRPC status code: the one the server sent when a call ended
// with a status, else the closest code for the library's status (for
// example Unavailable for a failed TLS handshake), so that code written for
// grpc-go can branch on it. Message names the file, variable, host or port
// at fault; it never holds a token, key or certificate.
//
// Use errors.As to get one, or status.FromError / status.Code to see it as a
// gRPC status (Error implements GRPCStatus).
type Error struct {
	Code    Status
	GRPC    codes.Code
	Message string
}

// Error returns "minknow: " and the message.
func (e *Error) Error() string {
	return "minknow: " + e.Message
}

// GRPCStatus makes status.FromError, status.Code and grpc-go's helpers see
// the error as a gRPC status with code e.GRPC.
func (e *Error) GRPCStatus() *status.Status {
	return status.New(e.GRPC, e.Message)
}

// ErrClosed is returned by every method of a Channel after Close, and by
// errors.Is(err, ErrClosed) for such errors. It is shared: do not modify it.
var ErrClosed = &Error{
	Code:    StatusInvalidState,
	GRPC:    codes.FailedPrecondition,
	Message: "the channel is closed",
}

// takeError turns a status and the C error object that came with it into
// an *Error, and frees the C object (which may be NULL).
func takeError(st C.minknow_status, cerr *C.minknow_error) *Error {
	defer C.minknow_error_free(cerr)

	e := &Error{Code: Status(st), Message: Status(st).String()}
	grpcCode := C.int32_t(-1)
	if cerr != nil {
		e.Code = Status(C.minknow_error_status(cerr))
		grpcCode = C.minknow_error_grpc_status(cerr)
		if msg := C.GoString(C.minknow_error_message(cerr)); msg != "" {
			e.Message = msg
		}
	}

	if grpcCode >= 0 && grpcCode <= 16 {
		e.GRPC = codes.Code(grpcCode)
	} else {
		e.GRPC = grpcCodeFor(e.Code)
	}
	return e
}

// grpcCodeFor is the gRPC code closest to a library status that did not
// come from a gRPC status.
func grpcCodeFor(s Status) codes.Code {
	switch s {
	case StatusOK:
		return codes.OK
	case StatusNullArgument, StatusInvalidArgument, StatusFileError, StatusBadCertificate,
		StatusBadKey, StatusEncryptedKey, StatusKeyMismatch, StatusPEMLooksLikePath,
		StatusIncompleteIdentity:
		return codes.InvalidArgument
	case StatusInvalidState, StatusForkedHandle, StatusNoTrustedCA, StatusPositionNotRunning:
		return codes.FailedPrecondition
	case StatusConnectFailed, StatusTLSFailed, StatusCertificateVerifyFailed, StatusHTTP2Failed,
		StatusUnavailable:
		return codes.Unavailable
	case StatusTimeout, StatusDeadlineExceeded:
		return codes.DeadlineExceeded
	case StatusUnauthenticated:
		return codes.Unauthenticated
	case StatusCancelled:
		return codes.Canceled
	case StatusMessageTooLarge:
		return codes.ResourceExhausted
	case StatusPositionNotFound, StatusNoBasecaller:
		return codes.NotFound
	case StatusBadTokenFile:
		return codes.Unauthenticated
	case StatusBadResponse, StatusPanic, StatusInternal:
		return codes.Internal
	default:
		return codes.Unknown
	}
}

// contextError is the error for work that ctx ended: Canceled or
// DeadlineExceeded, naming what was stopped.
func contextError(ctx context.Context, what string) *Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Code: StatusDeadlineExceeded, GRPC: codes.DeadlineExceeded,
			Message: what + ": context deadline exceeded"}
	}
	return &Error{Code: StatusCancelled, GRPC: codes.Canceled, Message: what + ": context canceled"}
}

// errorf makes an *Error that did not come from the library.
func errorf(code Status, grpcCode codes.Code, message string) *Error {
	return &Error{Code: code, GRPC: grpcCode, Message: message}
}

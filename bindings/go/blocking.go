package minknow

// #include "minknow_auth.h"
import "C"

import (
	"context"
	"math"
	"time"
)

// callTimeout turns ctx's deadline into the C API's timeout argument in
// milliseconds (0: no deadline), rounding up so a call never ends before
// its context does.
func callTimeout(ctx context.Context) C.uint32_t {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	ms := durationMillis(time.Until(deadline))
	return C.uint32_t(min(ms, math.MaxUint32))
}

// runBlocking runs work, a C function that blocks for a bounded time and
// cannot be cancelled, so that ctx still ends the wait promptly. When ctx
// ends first, work finishes in the background and discard (if not nil)
// releases what it produced. A context that can never end runs work on the
// calling goroutine.
func runBlocking[T any](ctx context.Context, what string, work func() (T, error),
	discard func(T)) (T, error) {
	var zero T
	if ctx.Err() != nil {
		return zero, contextError(ctx, what)
	}
	if ctx.Done() == nil {
		return work()
	}

	type result struct {
		value T
		err   error
	}
	done := make(chan result, 1)
	go func() {
		value, err := work()
		done <- result{value, err}
	}()

	select {
	case r := <-done:
		return r.value, r.err
	case <-ctx.Done():
		go func() {
			r := <-done
			if r.err == nil && discard != nil {
				discard(r.value)
			}
		}()
		return zero, contextError(ctx, what)
	}
}

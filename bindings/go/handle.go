package minknow

import (
	"sync"
	"unsafe"
)

// handle guards one C object (a channel or a call) that several goroutines
// may use while another closes it. Every use runs between acquire and
// release; close refuses new uses at once and frees the object when the
// last use ends, so a C object is never freed under a goroutine that is
// inside a C function with it (the C API forbids that), and Close never
// has to wait for a blocked call.
type handle struct {
	mu     sync.Mutex
	ptr    unsafe.Pointer
	users  int
	closed bool
	free   func(unsafe.Pointer)
}

func newHandle(ptr unsafe.Pointer, free func(unsafe.Pointer)) *handle {
	return &handle{ptr: ptr, free: free}
}

// acquire returns the C object for one use, or false once closed.
func (h *handle) acquire() (unsafe.Pointer, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()

	if h.closed {
		return nil, false
	}
	h.users++
	return h.ptr, true
}

// release ends a use that acquire began.
func (h *handle) release() {
	h.mu.Lock()
	h.users--
	ptr := h.takeIfUnused()
	h.mu.Unlock()

	if ptr != nil {
		h.free(ptr)
	}
}

// close refuses new uses and frees the object once no use is left. It is
// idempotent and safe to call from any goroutine; it reports whether this
// call was the one that closed.
func (h *handle) close() bool {
	h.mu.Lock()
	first := !h.closed
	h.closed = true
	ptr := h.takeIfUnused()
	h.mu.Unlock()

	if ptr != nil {
		h.free(ptr)
	}
	return first
}

// takeIfUnused hands the pointer over for freeing, once, when the handle
// is closed and unused. Called with h.mu held.
func (h *handle) takeIfUnused() unsafe.Pointer {
	if !h.closed || h.users != 0 || h.ptr == nil {
		return nil
	}
	ptr := h.ptr
	h.ptr = nil
	return ptr
}

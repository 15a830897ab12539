package minknow

// #include <stdlib.h>
// #include "minknow_auth.h"
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"google.golang.org/grpc/codes"
)

// ReportSchema is the schema the Report fields below are decoded from.
const ReportSchema = "minknow-auth-doctor/1"

// Report is what Diagnose found: the fields most programs show, decoded
// from the library's JSON report, and the whole report in JSON (the layout
// is in the repository's README, "When it does not connect"). It names
// files, variables and token sources, never a token, key or certificate.
type Report struct {
	Schema string `json:"schema"`
	// OK says every step passed; Diagnosis is nil exactly then.
	OK   bool   `json:"ok"`
	Host string `json:"host"`
	Port int    `json:"port"`
	// PortReason says why this port: "given", or the default rule.
	PortReason string `json:"port_reason"`
	ServerName string `json:"server_name"`
	// Resolution is what was resolved before dialling: environment
	// variables seen, CA files tried and trusted, the client identity and
	// the token rule. Decode it yourself if you need it.
	Resolution json.RawMessage `json:"resolution"`
	// Steps are resolve, tcp, tls, http2, unauthenticated_call and
	// authenticated_call, up to and including the first that failed.
	Steps     []ReportStep `json:"steps"`
	Diagnosis *Diagnosis   `json:"diagnosis"`
	// Warnings are things that worked but look wrong (a client certificate
	// the server never asked for, ...).
	Warnings []string `json:"warnings"`

	// JSON is the report exactly as the library wrote it.
	JSON []byte `json:"-"`
}

// ReportStep is one step of the dial.
type ReportStep struct {
	Step    string `json:"step"`
	OK      bool   `json:"ok"`
	Summary string `json:"summary"`
	// Details are the step's own facts (addresses, the server certificate
	// and the CA that verified it, the gRPC status, ...).
	Details json.RawMessage `json:"details"`
}

// Diagnosis is the first failure: at which step, its likely cause (a code
// such as "wrong_ca" or "client_certificate_not_trusted"), what happened
// (naming host, port, file or certificate) and what to do about it.
type Diagnosis struct {
	Step    string `json:"step"`
	Cause   string `json:"cause"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// Diagnose dials the manager as Connect would with opts, one step at a
// time, and reports each step, stopping at the first failure with its
// likely cause and fix. A failed connection is not an error: it is a
// Report whose OK is false. The error is for what stopped the diagnosis
// itself: an option or argument the library refuses (a *Error), or ctx.
//
// Host and Port default as in Connect. The network steps together take at
// most opts.ConnectTimeout (10 s when 0), shortened by ctx's deadline; a
// cancelled ctx returns at once while the library finishes in the
// background.
func Diagnose(ctx context.Context, opts Options) (*Report, error) {
	host := opts.Host
	if host == "" {
		host = "localhost"
	}
	port := opts.Port
	if port == 0 {
		port = DefaultPort
	}
	timeout := opts.ConnectTimeout
	if deadline, ok := ctx.Deadline(); ok && (timeout == 0 || time.Until(deadline) < timeout) {
		timeout = max(time.Until(deadline), time.Millisecond)
	}

	// The work may outlive this call (when ctx ends first).
	opts = opts.clone()
	diagnose := func() (*Report, error) {
		text, err := diagnoseJSON(host, port, &opts, timeout)
		if err != nil {
			return nil, err
		}
		return parseReport(text)
	}
	return runBlocking(ctx, fmt.Sprintf("diagnose %s port %d", host, port), diagnose, nil)
}

// diagnoseJSON calls minknow_diagnose and copies the report's text out.
func diagnoseJSON(host string, port int, opts *Options, timeout time.Duration) ([]byte, error) {
	copts, err := opts.cOptions(timeout)
	if err != nil {
		return nil, err
	}
	defer C.minknow_options_free(copts)
	chost := C.CString(host)
	defer C.free(unsafe.Pointer(chost))

	var report *C.minknow_buffer
	var cerr *C.minknow_error
	if st := C.minknow_diagnose(chost, C.int32_t(port), copts, &report, &cerr); st != C.MINKNOW_STATUS_OK {
		return nil, takeError(st, cerr)
	}
	defer C.minknow_buffer_free(report)

	data := C.minknow_buffer_data(report)
	return C.GoBytes(unsafe.Pointer(data), C.int(C.minknow_buffer_len(report))), nil
}

// parseReport decodes the library's JSON, keeping the text.
func parseReport(text []byte) (*Report, error) {
	r := &Report{JSON: text}
	if err := json.Unmarshal(text, r); err != nil {
		return nil, errorf(StatusBadResponse, codes.Internal,
			"minknow_diagnose's report is not the JSON expected: "+err.Error())
	}
	if r.Schema != ReportSchema {
		return nil, errorf(StatusBadResponse, codes.Internal, fmt.Sprintf(
			"minknow_diagnose's report has schema %q; this package reads %q", r.Schema,
			ReportSchema))
	}
	return r, nil
}

// String is the report for people: one line per step, the warnings, then
// the result and, after a failure, what happened and the fix.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s port %d (%s), server name %s\n", r.Host, r.Port, r.PortReason,
		r.ServerName)
	for _, s := range r.Steps {
		mark := "ok  "
		if !s.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "[%s] %-20s %s\n", mark, s.Step, s.Summary)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if d := r.Diagnosis; d != nil {
		fmt.Fprintf(&b, "result: failed at %s (%s)\n  what: %s\n  fix:  %s\n", d.Step, d.Cause,
			d.Message, d.Fix)
	} else {
		b.WriteString("result: connected and authenticated\n")
	}
	return b.String()
}

package minknow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	minknow "github.com/minknow-auth/libminknow_auth/bindings/go"
)

func diagnose(t *testing.T, opts minknow.Options) *minknow.Report {
	t.Helper()
	r, err := minknow.Diagnose(testContext(t), opts)
	if err != nil {
		t.Fatalf("Diagnose: %v", err)
	}
	if !json.Valid(r.JSON) {
		t.Fatalf("Report.JSON is not JSON: %q", r.JSON)
	}
	return r
}

func TestDiagnoseWorkingConnection(t *testing.T) {
	s := simFor(t, "developer-token")
	opts := baseOptions(s)
	opts.DeveloperToken = *s.Ready.DeveloperToken
	r := diagnose(t, opts)

	if !r.OK || r.Diagnosis != nil {
		t.Fatalf("not ok: %+v\n%s", r.Diagnosis, r)
	}
	if r.Schema != minknow.ReportSchema || r.Host != "127.0.0.1" || r.Port != s.Ready.ManagerPort ||
		r.PortReason != "given" || r.ServerName != "localhost" {
		t.Errorf("header fields: %+v", r)
	}
	var names []string
	for _, step := range r.Steps {
		names = append(names, step.Step)
		if !step.OK || step.Summary == "" {
			t.Errorf("step %s: ok %v, summary %q", step.Step, step.OK, step.Summary)
		}
	}
	want := "resolve tcp tls http2 unauthenticated_call authenticated_call"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
	var tls struct {
		VerifiedBy struct {
			Source string `json:"source"`
		} `json:"verified_by"`
	}
	if err := json.Unmarshal(r.Steps[2].Details, &tls); err != nil {
		t.Fatal(err)
	}
	mustContain(t, tls.VerifiedBy.Source, s.Ready.CA)
	if len(r.Resolution) == 0 {
		t.Error("no resolution")
	}
	if bytes.Contains(r.JSON, []byte(*s.Ready.DeveloperToken)) {
		t.Error("the report shows the token")
	}
	mustContain(t, r.String(), "[ok  ] authenticated_call", "result: connected and authenticated")
}

func TestDiagnoseWrongCA(t *testing.T) {
	s := simFor(t, "guest")
	opts := baseOptions(s)
	opts.CAFiles = []string{s.Ready.ClientCA}
	r := diagnose(t, opts)

	if r.OK || r.Diagnosis == nil {
		t.Fatalf("ok with the wrong CA:\n%s", r)
	}
	d := r.Diagnosis
	if d.Step != "tls" || d.Cause != "wrong_ca" {
		t.Errorf("diagnosis %+v, want wrong_ca at tls", d)
	}
	if d.Fix == "" {
		t.Error("no fix")
	}
	mustContain(t, d.Message, "127.0.0.1:", "not trusted")
	if last := r.Steps[len(r.Steps)-1]; last.Step != "tls" || last.OK {
		t.Errorf("last step %+v, want a failed tls", last)
	}
	mustContain(t, r.String(), "[FAIL] tls", "failed at tls (wrong_ca)", "fix:  ")
}

func TestDiagnoseErrors(t *testing.T) {
	// A malformed host: nothing is dialled, the report says why.
	r := diagnose(t, minknow.Options{Host: "not a host", IgnoreEnvironment: true})
	if r.Port != 9502 || r.Diagnosis == nil || r.Diagnosis.Step != "resolve" {
		t.Errorf("defaults: port %d, diagnosis %+v", r.Port, r.Diagnosis)
	}

	var e *minknow.Error
	_, err := minknow.Diagnose(testContext(t), minknow.Options{Host: "127.0.0.1", Port: 70000})
	if !errors.As(err, &e) || e.Code != minknow.StatusInvalidArgument {
		t.Errorf("port 70000: %v", err)
	}
	_, err = minknow.Diagnose(testContext(t), minknow.Options{Host: "not a host",
		ClientCertificateFile: "only-the-chain.pem"})
	if !errors.As(err, &e) {
		t.Errorf("half an identity: %v", err)
	}

	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	_, err = minknow.Diagnose(ctx, minknow.Options{Host: "not a host"})
	if !errors.As(err, &e) || e.Code != minknow.StatusCancelled {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestSlogLogger(t *testing.T) {
	s := simFor(t, "guest")
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := minknow.SetLogger(minknow.LogDebug, minknow.SlogLogger(logger)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = minknow.SetLogger(minknow.LogOff, nil) })
	connect(t, baseOptions(s))
	if err := minknow.SetLogger(minknow.LogOff, nil); err != nil {
		t.Fatal(err)
	}

	text := buf.String()
	mustContain(t, text, "level=DEBUG", "library=minknow_auth", s.Ready.CA)
	if minknow.SlogLevel(minknow.LogTrace) >= slog.LevelDebug ||
		minknow.SlogLevel(minknow.LogWarn) != slog.LevelWarn {
		t.Error("SlogLevel mapping")
	}
}

// syncBuffer is a bytes.Buffer for writers on several threads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

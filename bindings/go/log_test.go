package minknow_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	minknow "github.com/minknow-auth/libminknow_auth/bindings/go"
)

type logRecorder struct {
	mu       sync.Mutex
	messages []string
}

func (r *logRecorder) log(level minknow.LogLevel, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, fmt.Sprintf("%d %s", level, message))
}

func (r *logRecorder) mentioning(part string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var found []string
	for _, m := range r.messages {
		if strings.Contains(m, part) {
			found = append(found, m)
		}
	}
	return found
}

func TestLogger(t *testing.T) {
	s := simFor(t, "developer-token")
	other := simFor(t, "guest")
	rec := &logRecorder{}
	if err := minknow.SetLogger(minknow.LogDebug, rec.log); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = minknow.SetLogger(minknow.LogOff, nil) })

	opts := baseOptions(s)
	opts.DeveloperToken = *s.Ready.DeveloperToken
	connect(t, opts)
	if len(rec.mentioning(s.Ready.CA)) == 0 {
		t.Errorf("no log message names the CA file %s: %q", s.Ready.CA, rec.mentioning(""))
	}
	if leaked := rec.mentioning(*s.Ready.DeveloperToken); len(leaked) != 0 {
		t.Errorf("the token is in the log: %q", leaked)
	}

	// Off: a later connect logs nothing here.
	if err := minknow.SetLogger(minknow.LogOff, nil); err != nil {
		t.Fatal(err)
	}
	connect(t, baseOptions(other))
	if got := rec.mentioning(other.Ready.CA); len(got) != 0 {
		t.Errorf("logged after SetLogger(LogOff): %q", got)
	}

	if err := minknow.SetLogger(minknow.LogLevel(99), rec.log); err == nil {
		t.Error("SetLogger accepted level 99")
	}
}

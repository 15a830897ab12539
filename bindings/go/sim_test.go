package minknow_test

import (
	"os"
	"strings"
	"testing"

	"github.com/minknow-auth/libminknow_auth/bindings/go/internal/simulator"
)

type sim = simulator.Sim

// simFor is the shared simulator started with --auth modes.
func simFor(t testing.TB, modes string) *sim { return simulator.For(t, modes) }

func TestMain(m *testing.M) {
	code := m.Run()
	simulator.StopAll()
	os.Exit(code)
}

// mustContain fails unless text holds every one of parts.
func mustContain(t testing.TB, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%q does not contain %q", text, p)
		}
	}
}

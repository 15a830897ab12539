package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	minknow "github.com/minknow-auth/libminknow_auth/bindings/go"
	"github.com/minknow-auth/libminknow_auth/bindings/go/internal/simulator"
)

func TestMain(m *testing.M) {
	code := m.Run()
	simulator.StopAll()
	os.Exit(code)
}

// The main job against a simulator that requires client certificates.
func TestPositionsTable(t *testing.T) {
	s := simulator.For(t, "client-cert")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var out bytes.Buffer
	err := run(ctx, minknow.Options{
		Host:                  "127.0.0.1",
		Port:                  s.Ready.ManagerPort,
		CAFiles:               []string{s.Ready.CA},
		ClientCertificateFile: s.Ready.ClientCertificate,
		ClientKeyFile:         s.Ready.ClientKey,
		IgnoreEnvironment:     true,
	}, &out)
	if err != nil {
		t.Fatal(err)
	}

	text := out.String()
	want := []string{`(?m)^MinKNOW 6\.3\.7-sim on .* \(GRD-SIM, MinKNOW simulator\)`}
	for _, p := range s.Ready.Positions {
		if p.Port == 0 {
			want = append(want, fmt.Sprintf(`(?m)^%s +%s +- +`, p.Name, p.State))
		} else {
			want = append(want, fmt.Sprintf(`(?m)^%s +running +%d +6\.3\.7-sim %s$`, p.Name, p.Port, p.Name))
		}
	}
	for _, w := range want {
		if !regexp.MustCompile(w).MatchString(text) {
			t.Errorf("the table has no line matching %s:\n%s", w, text)
		}
	}
}

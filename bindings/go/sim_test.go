package minknow_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// readyTimeout bounds how long a simulator may take to print its ready
// line (about 50 ms usually; a loaded CI machine gets slack).
const readyTimeout = 30 * time.Second

// ready is the simulator's JSON ready line.
type ready struct {
	ManagerPort       int             `json:"manager_port"`
	ManagerWebPort    int             `json:"manager_web_port"`
	BasecallerPort    int             `json:"basecaller_port"`
	Positions         []readyPosition `json:"positions"`
	CA                string          `json:"ca"`
	ClientCA          string          `json:"client_ca"`
	ClientCertificate string          `json:"client_certificate"`
	ClientKey         string          `json:"client_key"`
	TokenFile         *string         `json:"token_file"`
	DeveloperToken    *string         `json:"developer_token"`
	ProtocolToken     *string         `json:"protocol_token"`
	Dir               string          `json:"dir"`
}

type readyPosition struct {
	Name  string `json:"name"`
	Port  int    `json:"port"`
	State string `json:"state"`
}

func (r *ready) positionPort(t testing.TB, name string) int {
	t.Helper()
	for _, p := range r.Positions {
		if p.Name == name {
			return p.Port
		}
	}
	t.Fatalf("the ready line has no position %s: %+v", name, r.Positions)
	return 0
}

// sim is one running minknow-sim. Its stdin stays piped to us so that it
// exits with the test process (--exit-on-stdin-eof) even if stopSims never
// runs; --lifetime bounds it in any case.
type sim struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	ready  ready
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	simsMu sync.Mutex
	sims   = map[string]*sim{}
)

// simFor returns the simulator started with --auth modes (started on first
// use and shared by the tests).
func simFor(t testing.TB, modes string) *sim {
	t.Helper()
	simsMu.Lock()
	defer simsMu.Unlock()

	if s, ok := sims[modes]; ok {
		return s
	}
	s, err := startSim("--auth", modes)
	if err != nil {
		t.Fatal(err)
	}
	sims[modes] = s
	return s
}

func simBinary() (string, error) {
	if path := os.Getenv("MINKNOW_SIM"); path != "" {
		return path, nil
	}
	candidates := []string{filepath.Join("..", "..", "target", "debug", "minknow-sim")}
	if dir := os.Getenv("CARGO_TARGET_DIR"); dir != "" {
		candidates = append([]string{filepath.Join(dir, "debug", "minknow-sim")}, candidates...)
	}
	for _, c := range candidates {
		if info, err := os.Stat(c); err == nil && !info.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("minknow-sim is not built (tried %v): run `cargo build --workspace` "+
		"or set MINKNOW_SIM", candidates)
}

func startSim(args ...string) (*sim, error) {
	binary, err := simBinary()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, append([]string{"--lifetime", "120", "--exit-on-stdin-eof"},
		args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start %s: %w", binary, err)
	}
	s := &sim{cmd: cmd, stdin: stdin, stderr: stderr}

	lines := make(chan string, 1)
	go func() {
		reader := bufio.NewReader(stdout)
		line, _ := reader.ReadString('\n')
		lines <- line
		// Keep reading so the simulator never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, reader)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(readyTimeout):
	}
	if line == "" {
		s.stop()
		return nil, fmt.Errorf("minknow-sim %v printed no ready line; stderr:\n%s", args, stderr)
	}
	if err := json.Unmarshal([]byte(line), &s.ready); err != nil {
		s.stop()
		return nil, fmt.Errorf("minknow-sim ready line is not JSON (%v): %s", err, line)
	}
	return s, nil
}

func (s *sim) stop() {
	_ = s.stdin.Close()
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func stopSims() {
	simsMu.Lock()
	defer simsMu.Unlock()
	for modes, s := range sims {
		s.stop()
		delete(sims, modes)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopSims()
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

// Package simulator starts minknow-sim for this module's tests and reads
// its ready line.
package simulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// readyTimeout bounds how long a simulator may take to print its ready
// line (about 50 ms usually; a loaded CI machine gets slack).
const readyTimeout = 30 * time.Second

// Ready is the simulator's JSON ready line.
type Ready struct {
	ManagerPort       int        `json:"manager_port"`
	ManagerWebPort    int        `json:"manager_web_port"`
	BasecallerPort    int        `json:"basecaller_port"`
	Positions         []Position `json:"positions"`
	CA                string     `json:"ca"`
	ClientCA          string     `json:"client_ca"`
	ClientCertificate string     `json:"client_certificate"`
	ClientKey         string     `json:"client_key"`
	TokenFile         *string    `json:"token_file"`
	DeveloperToken    *string    `json:"developer_token"`
	ProtocolToken     *string    `json:"protocol_token"`
	Dir               string     `json:"dir"`
}

type Position struct {
	Name  string `json:"name"`
	Port  int    `json:"port"`
	State string `json:"state"`
}

func (r *Ready) PositionPort(t testing.TB, name string) int {
	t.Helper()
	for _, p := range r.Positions {
		if p.Name == name {
			return p.Port
		}
	}
	t.Fatalf("the ready line has no position %s: %+v", name, r.Positions)
	return 0
}

// Sim is one running minknow-sim. Its stdin stays piped to us so that it
// exits with the test process (--exit-on-stdin-eof) even if StopAll never
// runs; --lifetime bounds it in any case.
type Sim struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	Ready  Ready
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
	sims   = map[string]*Sim{}
)

// For returns the simulator started with --auth modes (started on first
// use and shared by the tests).
func For(t testing.TB, modes string) *Sim {
	t.Helper()
	simsMu.Lock()
	defer simsMu.Unlock()

	if s, ok := sims[modes]; ok {
		return s
	}
	s, err := Start("--auth", modes)
	if err != nil {
		t.Fatal(err)
	}
	sims[modes] = s
	return s
}

// binary finds minknow-sim: $MINKNOW_SIM, else $CARGO_TARGET_DIR/debug,
// else target/debug in the nearest directory above the working directory
// that has one (tests run in their package's directory inside the repo).
func binary() (string, error) {
	if path := os.Getenv("MINKNOW_SIM"); path != "" {
		return path, nil
	}
	var candidates []string
	if dir := os.Getenv("CARGO_TARGET_DIR"); dir != "" {
		candidates = append(candidates, filepath.Join(dir, "debug", "minknow-sim"))
	}
	if dir, err := os.Getwd(); err == nil {
		for i := 0; i < 10; i++ {
			candidates = append(candidates, filepath.Join(dir, "target", "debug", "minknow-sim"))
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	for _, c := range candidates {
		if info, err := os.Stat(c); err == nil && !info.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("minknow-sim is not built: run `cargo build --workspace` in the " +
		"repository or set MINKNOW_SIM")
}

func Start(args ...string) (*Sim, error) {
	path, err := binary()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, append([]string{"--lifetime", "120", "--exit-on-stdin-eof"},
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
		return nil, fmt.Errorf("cannot start %s: %w", path, err)
	}
	s := &Sim{cmd: cmd, stdin: stdin, stderr: stderr}

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
		s.Stop()
		return nil, fmt.Errorf("minknow-sim %v printed no ready line; stderr:\n%s", args, stderr)
	}
	if err := json.Unmarshal([]byte(line), &s.Ready); err != nil {
		s.Stop()
		return nil, fmt.Errorf("minknow-sim ready line is not JSON (%v): %s", err, line)
	}
	return s, nil
}

func (s *Sim) Stop() {
	_ = s.stdin.Close()
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func StopAll() {
	simsMu.Lock()
	defer simsMu.Unlock()
	for modes, s := range sims {
		s.Stop()
		delete(sims, modes)
	}
}

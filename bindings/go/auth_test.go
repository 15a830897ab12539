package minknow_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	minknow "github.com/minknow-auth/libminknow_auth/bindings/go"
	"github.com/minknow-auth/libminknow_auth/bindings/go/pb/simtest"
)

// testTimeout bounds every call a test makes, so a hang fails the test
// instead of the run.
const testTimeout = 30 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// baseOptions trusts s's CA, dials its manager on 127.0.0.1, and ignores
// the environment so a developer's MINKNOW_* variables cannot leak in.
func baseOptions(s *sim) minknow.Options {
	return minknow.Options{
		Host:              "127.0.0.1",
		Port:              s.Ready.ManagerPort,
		CAFiles:           []string{s.Ready.CA},
		IgnoreEnvironment: true,
	}
}

func certOptions(s *sim) minknow.Options {
	opts := baseOptions(s)
	opts.ClientCertificateFile = s.Ready.ClientCertificate
	opts.ClientKeyFile = s.Ready.ClientKey
	return opts
}

func connect(t testing.TB, opts minknow.Options) *minknow.Channel {
	t.Helper()
	ch, err := minknow.Connect(testContext(t), opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	return ch
}

func whoami(t testing.TB, ch *minknow.Channel) *simtest.WhoAmIResponse {
	t.Helper()
	who, err := simtest.NewTestServiceClient(ch).Whoami(testContext(t), &simtest.WhoAmIRequest{})
	if err != nil {
		t.Fatalf("whoami on %v: %v", ch, err)
	}
	return who
}

// asError checks that err is a *minknow.Error with the given library
// status and gRPC code, both through errors.As and status.FromError.
func asError(t testing.TB, err error, code minknow.Status, grpcCode codes.Code) *minknow.Error {
	t.Helper()
	var e *minknow.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v (%T) is not a *minknow.Error", err, err)
	}
	if e.Code != code || e.GRPC != grpcCode {
		t.Fatalf("got status %v (%d), gRPC %v; want %v (%d), gRPC %v: %v",
			e.Code, e.Code, e.GRPC, code, code, grpcCode, err)
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() != grpcCode || st.Message() != e.Message {
		t.Fatalf("status.FromError(%v) = %v, %v; want code %v", err, st, ok, grpcCode)
	}
	return e
}

func TestHeaderMatchesLibrary(t *testing.T) {
	if minknow.LibraryVersion() != minknow.HeaderVersion() {
		t.Fatalf("library %s, header %s", minknow.LibraryVersion(), minknow.HeaderVersion())
	}
	if minknow.StatusCertificateVerifyFailed.String() != "server certificate not trusted" {
		t.Fatalf("status name %q", minknow.StatusCertificateVerifyFailed.String())
	}
}

func TestClientCertificateFiles(t *testing.T) {
	s := simFor(t, "client-cert")
	ch := connect(t, certOptions(s))

	who := whoami(t, ch)
	mustContain(t, who.ClientCertificateSubject, "minknow-sim client")
	if who.TokenHeader != "" || who.Port != uint32(s.Ready.ManagerPort) {
		t.Fatalf("whoami %v", who)
	}
}

func TestClientCertificatePEM(t *testing.T) {
	s := simFor(t, "client-cert")
	read := func(path string) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	opts := minknow.Options{
		Host:                 "::1",
		Port:                 s.Ready.ManagerPort,
		CAPEM:                [][]byte{read(s.Ready.CA)},
		ClientCertificatePEM: read(s.Ready.ClientCertificate),
		ClientKeyPEM:         read(s.Ready.ClientKey),
		IgnoreEnvironment:    true,
	}
	// The simulator only listens on 127.0.0.1, so ::1 is refused: a
	// failure that names the address.
	_, err := minknow.Connect(testContext(t), opts)
	e := asError(t, err, minknow.StatusConnectFailed, codes.Unavailable)
	mustContain(t, e.Message, "::1")

	opts.Host = "127.0.0.1"
	ch := connect(t, opts)
	mustContain(t, whoami(t, ch).ClientCertificateSubject, "minknow-sim client")
}

func TestWithoutClientCertificateIsRefused(t *testing.T) {
	s := simFor(t, "client-cert")
	_, err := minknow.Connect(testContext(t), baseOptions(s))
	asError(t, err, minknow.StatusUnauthenticated, codes.Unauthenticated)
}

func TestDeveloperToken(t *testing.T) {
	s := simFor(t, "developer-token")
	opts := baseOptions(s)
	opts.DeveloperToken = *s.Ready.DeveloperToken
	ch := connect(t, opts)

	who := whoami(t, ch)
	if who.TokenHeader != "local-auth" || who.TokenKind != "developer" {
		t.Fatalf("whoami %v", who)
	}
	// Child channels carry the same token.
	pos, err := ch.OpenPosition(testContext(t), "X1")
	if err != nil {
		t.Fatal(err)
	}
	defer pos.Close()
	if who := whoami(t, pos); who.TokenKind != "developer" || who.Port != uint32(s.Ready.PositionPort(t, "X1")) {
		t.Fatalf("whoami on X1: %v", who)
	}

	opts.DeveloperToken = "not-the-token"
	_, err = minknow.Connect(testContext(t), opts)
	asError(t, err, minknow.StatusUnauthenticated, codes.Unauthenticated)
}

func TestLocalToken(t *testing.T) {
	s := simFor(t, "local-token")
	ch := connect(t, baseOptions(s))
	who := whoami(t, ch)
	if who.TokenHeader != "local-auth" || who.TokenKind != "local" {
		t.Fatalf("whoami %v", who)
	}

	opts := baseOptions(s)
	opts.LocalToken = minknow.LocalTokenOff
	_, err := minknow.Connect(testContext(t), opts)
	e := asError(t, err, minknow.StatusUnauthenticated, codes.Unauthenticated)
	mustContain(t, e.Message, "credentials used: no token")
}

func TestProtocolToken(t *testing.T) {
	s := simFor(t, "protocol-token")
	opts := baseOptions(s)
	opts.ProtocolToken = *s.Ready.ProtocolToken
	ch := connect(t, opts)
	who := whoami(t, ch)
	if who.TokenHeader != "protocol-auth" || who.TokenKind != "protocol" {
		t.Fatalf("whoami %v", who)
	}
}

// The environment fills in what the options leave out: the CA and the
// protocol token here.
func TestEnvironment(t *testing.T) {
	s := simFor(t, "protocol-token")
	t.Setenv("MINKNOW_TRUSTED_CA", s.Ready.CA)
	t.Setenv("PROTOCOL_TOKEN", *s.Ready.ProtocolToken)
	t.Setenv("MINKNOW_API_USE_LOCAL_TOKEN", "0")
	t.Setenv("MINKNOW_API_CLIENT_CERTIFICATE_CHAIN", "")
	t.Setenv("MINKNOW_API_CLIENT_KEY", "")

	ch := connect(t, minknow.Options{Host: "127.0.0.1", Port: s.Ready.ManagerPort})
	if who := whoami(t, ch); who.TokenKind != "protocol" {
		t.Fatalf("whoami %v", who)
	}

	_, err := minknow.Connect(testContext(t), minknow.Options{
		Host: "127.0.0.1", Port: s.Ready.ManagerPort, CAFiles: []string{s.Ready.CA},
		IgnoreEnvironment: true,
	})
	asError(t, err, minknow.StatusUnauthenticated, codes.Unauthenticated)
}

func TestGuest(t *testing.T) {
	s := simFor(t, "guest")
	opts := baseOptions(s)
	opts.LocalToken = minknow.LocalTokenOff
	ch := connect(t, opts)
	who := whoami(t, ch)
	if who.TokenHeader != "" || who.TokenKind != "" || who.ClientCertificateSubject != "" {
		t.Fatalf("whoami %v", who)
	}
}

func TestWrongCA(t *testing.T) {
	s := simFor(t, "client-cert")
	other := simFor(t, "guest")
	opts := certOptions(s)
	opts.CAFiles = []string{other.Ready.CA}
	_, err := minknow.Connect(testContext(t), opts)
	e := asError(t, err, minknow.StatusCertificateVerifyFailed, codes.Unavailable)
	mustContain(t, e.Message, "127.0.0.1")
}

func TestBadOptions(t *testing.T) {
	s := simFor(t, "client-cert")

	opts := certOptions(s)
	opts.CAFiles = []string{s.Ready.Dir + "/no-such-ca.crt"}
	_, err := minknow.Connect(testContext(t), opts)
	e := asError(t, err, minknow.StatusFileError, codes.InvalidArgument)
	mustContain(t, e.Message, "no-such-ca.crt")

	opts = baseOptions(s)
	opts.ClientCertificateFile = s.Ready.ClientCertificate
	opts.ClientKeyPEM = []byte("key")
	_, err = minknow.Connect(testContext(t), opts)
	asError(t, err, minknow.StatusInvalidArgument, codes.InvalidArgument)

	opts = baseOptions(s)
	opts.DeveloperToken = "has a\nnewline"
	_, err = minknow.Connect(testContext(t), opts)
	asError(t, err, minknow.StatusInvalidArgument, codes.InvalidArgument)
}

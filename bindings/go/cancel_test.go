package minknow_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/proto"

	minknow "github.com/minknow-auth/libminknow_auth/bindings/go"
	"github.com/minknow-auth/libminknow_auth/bindings/go/pb/simtest"
)

// silentListener accepts TCP connections on loopback and never answers,
// like a port that hangs; it is closed when the test ends.
func silentListener(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			select {
			case held <- c:
			default:
				_ = c.Close()
			}
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		close(held)
		for c := range held {
			_ = c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// A ctx deadline shorter than the connect timeout bounds Connect.
func TestConnectDeadline(t *testing.T) {
	s := simFor(t, "guest")
	opts := baseOptions(s)
	opts.Port = silentListener(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := minknow.Connect(ctx, opts)
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("Connect took %v with a 300 ms deadline", elapsed)
	}
	var e *minknow.Error
	if !errors.As(err, &e) || e.GRPC != codes.DeadlineExceeded {
		t.Fatalf("Connect to a silent port: %v", err)
	}
}

// Cancelling ctx ends Connect promptly even though the C connect cannot be
// cancelled: it finishes in the background.
func TestConnectCancel(t *testing.T) {
	s := simFor(t, "guest")
	opts := baseOptions(s)
	opts.Port = silentListener(t)
	opts.ConnectTimeout = 3 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := minknow.Connect(ctx, opts)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("Connect took %v to notice the cancel", elapsed)
	}
	asError(t, err, minknow.StatusCancelled, codes.Canceled)
}

// A unary call with a cancellable context runs on the call object, so a
// cancel stops it mid-call. server_stream's second chunk is a minute away,
// so Invoke (which waits for the end of the call) blocks until cancelled.
func TestCancelEndsUnaryCall(t *testing.T) {
	_, ch := certChannel(t)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()

	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := ch.Invoke(ctx, "/minknow_sim.TestService/server_stream",
		&simtest.StreamRequest{Count: 2, Size: 1, IntervalMs: 60_000}, &simtest.Chunk{})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("Invoke took %v to notice the cancel", elapsed)
	}
	asError(t, err, minknow.StatusCancelled, codes.Canceled)
}

// countingCodec is protobuf, counting its uses, to show that
// grpc.ForceCodec's codec is the one used.
type countingCodec struct{ marshals, unmarshals atomic.Int32 }

func (c *countingCodec) Marshal(v any) ([]byte, error) {
	c.marshals.Add(1)
	return proto.Marshal(v.(proto.Message))
}

func (c *countingCodec) Unmarshal(data []byte, v any) error {
	c.unmarshals.Add(1)
	return proto.Unmarshal(data, v.(proto.Message))
}

func (c *countingCodec) Name() string { return "counting-proto" }

var _ encoding.Codec = (*countingCodec)(nil)

func TestForceCodec(t *testing.T) {
	_, ch := certChannel(t)
	codec := &countingCodec{}
	client := simtest.NewTestServiceClient(ch)

	reply, err := client.Echo(testContext(t), &simtest.Chunk{Sequence: 9}, grpc.ForceCodec(codec))
	if err != nil || reply.GetSequence() != 9 {
		t.Fatalf("echo %v, %v", reply, err)
	}
	stream, err := client.BidiEcho(testContext(t), grpc.ForceCodec(codec))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&simtest.Chunk{Sequence: 3}); err != nil {
		t.Fatal(err)
	}
	if back, err := stream.Recv(); err != nil || back.GetSequence() != 3 {
		t.Fatalf("bidi %v, %v", back, err)
	}
	_ = stream.CloseSend()
	if m, u := codec.marshals.Load(), codec.unmarshals.Load(); m != 2 || u != 2 {
		t.Fatalf("codec used %d/%d times, want 2/2", m, u)
	}
}

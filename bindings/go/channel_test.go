package minknow_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	minknow "github.com/minknow-auth/libminknow_auth/bindings/go"
	"github.com/minknow-auth/libminknow_auth/bindings/go/pb/instance"
	"github.com/minknow-auth/libminknow_auth/bindings/go/pb/manager"
	"github.com/minknow-auth/libminknow_auth/bindings/go/pb/simtest"
)

// certChannel is a manager channel to the client-certificate simulator.
func certChannel(t testing.TB) (*sim, *minknow.Channel) {
	s := simFor(t, "client-cert")
	return s, connect(t, certOptions(s))
}

func TestManagerHelpers(t *testing.T) {
	s, ch := certChannel(t)
	ctx := testContext(t)

	v, err := ch.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := minknow.VersionInfo{Major: 6, Minor: 3, Patch: 7, Full: "6.3.7-sim",
		Distribution: "24.11.8-sim", Bream: v.Bream}
	if v != want || v.Bream == "" {
		t.Fatalf("version %+v, want %+v", v, want)
	}

	host, err := ch.DescribeHost(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if host.ProductCode != "GRD-SIM" || host.Serial != "SIM0001" ||
		host.Description != "MinKNOW simulator" || host.NetworkName == "" {
		t.Fatalf("host %+v", host)
	}

	port, err := ch.BasecallerPort(ctx)
	if err != nil || int(port) != s.Ready.BasecallerPort {
		t.Fatalf("basecaller port %d, %v; want %d", port, err, s.Ready.BasecallerPort)
	}
	bc, err := ch.Basecaller(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	if who := whoami(t, bc); int(who.Port) != s.Ready.BasecallerPort || who.ClientCertificateSubject == "" {
		t.Fatalf("whoami on the basecaller: %v", who)
	}
	if ch.Host() != "127.0.0.1" || int(ch.Port()) != s.Ready.ManagerPort {
		t.Fatalf("channel dials %s:%d", ch.Host(), ch.Port())
	}
}

func TestPositions(t *testing.T) {
	s, ch := certChannel(t)
	positions, err := ch.Positions(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(positions) != len(s.Ready.Positions) {
		t.Fatalf("%d positions, the simulator has %v", len(positions), s.Ready.Positions)
	}
	for i, p := range positions {
		r := s.Ready.Positions[i]
		if p.Name != r.Name || int(p.SecurePort) != r.Port || p.StateName != r.State || !p.IsSimulated {
			t.Errorf("position %d: %+v, simulator says %+v", i, p, r)
		}
	}
	x1, x3 := positions[0], positions[2]
	if x1.Name != "X1" || x1.State != minknow.PositionRunning || !x1.Running() {
		t.Errorf("X1: %+v", x1)
	}
	if x3.Name != "X3" || x3.State != minknow.PositionHardwareRemoved || x3.Running() || x3.SecurePort != 0 {
		t.Errorf("X3: %+v", x3)
	}
}

func TestOpenPositionAndInstanceStub(t *testing.T) {
	s, ch := certChannel(t)
	ctx := testContext(t)

	pos, err := ch.OpenPosition(ctx, "X1")
	if err != nil {
		t.Fatal(err)
	}
	defer pos.Close()
	if int(pos.Port()) != s.Ready.PositionPort(t, "X1") {
		t.Fatalf("X1 on port %d, simulator says %d", pos.Port(), s.Ready.PositionPort(t, "X1"))
	}

	reply, err := instance.NewInstanceServiceClient(pos).GetVersionInfo(ctx, &instance.GetVersionInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if reply.GetMinknow().GetFull() != "6.3.7-sim X1" || reply.GetMinknow().GetMajor() != 6 ||
		reply.GetDistributionVersion() != "24.11.8-sim" {
		t.Fatalf("X1 version %v", reply)
	}
	v, err := pos.PositionVersion(ctx)
	if err != nil || v.Full != "6.3.7-sim X1" {
		t.Fatalf("PositionVersion %+v, %v", v, err)
	}

	_, err = ch.OpenPosition(ctx, "X3")
	e := asError(t, err, minknow.StatusPositionNotRunning, codes.FailedPrecondition)
	mustContain(t, e.Message, "X3")
	_, err = ch.OpenPosition(ctx, "X9")
	e = asError(t, err, minknow.StatusPositionNotFound, codes.NotFound)
	mustContain(t, e.Message, "X1", "X2")

	other, err := ch.OpenPort(ctx, s.Ready.PositionPort(t, "X2"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if who := whoami(t, other); int(who.Port) != s.Ready.PositionPort(t, "X2") {
		t.Fatalf("whoami through OpenPort: %v", who)
	}
}

func TestManagerStubs(t *testing.T) {
	_, ch := certChannel(t)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	client := manager.NewManagerServiceClient(ch)

	v, err := client.GetVersionInfo(ctx, &manager.GetVersionInfoRequest{})
	if err != nil || v.GetMinknow().GetFull() != "6.3.7-sim" {
		t.Fatalf("get_version_info %v, %v", v, err)
	}

	// flow_cell_positions sends every position in pages, then stays open
	// as MinKNOW does; read until all are in, then cancel.
	stream, err := client.FlowCellPositions(ctx, &manager.FlowCellPositionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for pages := 0; pages < 100; pages++ {
		page, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %v: %v", names, err)
		}
		for _, p := range page.GetPositions() {
			names = append(names, p.GetName())
		}
		if len(names) >= int(page.GetTotalCount()) {
			break
		}
	}
	if fmt.Sprint(names) != "[X1 X2 X3]" {
		t.Fatalf("positions %v", names)
	}
	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestUnaryStub(t *testing.T) {
	_, ch := certChannel(t)
	client := simtest.NewTestServiceClient(ch)

	// context.Background takes minknow_unary; a cancellable context the
	// call object. Both must give the same answer.
	for _, ctx := range []context.Context{context.Background(), testContext(t)} {
		reply, err := client.Echo(ctx, &simtest.Chunk{Payload: []byte("hello MinKNOW"), Sequence: 42})
		if err != nil {
			t.Fatal(err)
		}
		if string(reply.GetPayload()) != "hello MinKNOW" || reply.GetSequence() != 42 {
			t.Fatalf("echo %v", reply)
		}
	}
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	reply, err := client.Echo(testContext(t), &simtest.Chunk{Payload: big})
	if err != nil || string(reply.GetPayload()) != string(big) {
		t.Fatalf("4 MiB echo: %d bytes, %v", len(reply.GetPayload()), err)
	}
}

func TestServerStreamStub(t *testing.T) {
	_, ch := certChannel(t)
	stream, err := simtest.NewTestServiceClient(ch).ServerStream(testContext(t),
		&simtest.StreamRequest{Count: 5, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint32(0); i < 5; i++ {
		chunk, err := stream.Recv()
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		if chunk.GetSequence() != i || len(chunk.GetPayload()) != 100 || chunk.GetPayload()[0] != 0x5a {
			t.Fatalf("chunk %d: sequence %d, %d bytes", i, chunk.GetSequence(), len(chunk.GetPayload()))
		}
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("after the last chunk: %v", err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("again after the end: %v", err)
	}
	if md, err := stream.Header(); err != nil || len(md) != 0 {
		t.Fatalf("header %v, %v", md, err)
	}
}

func TestClientStreamStub(t *testing.T) {
	_, ch := certChannel(t)
	stream, err := simtest.NewTestServiceClient(ch).ClientStream(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ {
		if err := stream.Send(&simtest.Chunk{Payload: make([]byte, 1000+i)}); err != nil {
			t.Fatal(err)
		}
	}
	summary, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	if summary.GetCount() != 7 || summary.GetBytes() != 7*1000+21 {
		t.Fatalf("summary %v", summary)
	}
}

func TestBidiStub(t *testing.T) {
	_, ch := certChannel(t)
	stream, err := simtest.NewTestServiceClient(ch).BidiEcho(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	// Lock-step: each chunk comes back before the next goes out.
	for i := uint32(0); i < 10; i++ {
		payload := []byte(fmt.Sprintf("chunk %d", i))
		if err := stream.Send(&simtest.Chunk{Payload: payload, Sequence: i}); err != nil {
			t.Fatal(err)
		}
		back, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if back.GetSequence() != i || string(back.GetPayload()) != string(payload) {
			t.Fatalf("sent %d %q, got %v", i, payload, back)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("after CloseSend: %v", err)
	}
}

// A blocked receive ends promptly with Canceled when its context is
// cancelled: the server sends one chunk, then waits a minute.
func TestCancelEndsBlockedRecv(t *testing.T) {
	_, ch := certChannel(t)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	stream, err := simtest.NewTestServiceClient(ch).ServerStream(ctx,
		&simtest.StreamRequest{Count: 3, Size: 8, IntervalMs: 60_000})
	if err != nil {
		t.Fatal(err)
	}
	if chunk, err := stream.Recv(); err != nil || chunk.GetSequence() != 0 {
		t.Fatalf("first chunk %v, %v", chunk, err)
	}

	type outcome struct {
		err error
		at  time.Time
	}
	done := make(chan outcome, 1)
	go func() {
		_, err := stream.Recv() // blocks: the next chunk is a minute away
		done <- outcome{err, time.Now()}
	}()
	// The receive is (almost certainly) blocked in the library by now; the
	// assertion below holds either way, and the timer is the cancellation
	// under test, not a wait for the other goroutine.
	cancelled := make(chan time.Time, 1)
	time.AfterFunc(200*time.Millisecond, func() {
		cancelled <- time.Now()
		cancel()
	})

	select {
	case got := <-done:
		at := <-cancelled
		if lag := got.at.Sub(at); lag > 2*time.Second {
			t.Fatalf("Recv returned %v after the cancel", lag)
		}
		e := asError(t, got.err, minknow.StatusCancelled, codes.Canceled)
		mustContain(t, e.Message, "server_stream")
	case <-time.After(20 * time.Second):
		t.Fatal("Recv still blocked 20 s after starting; cancel did not reach it")
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("Recv after the cancel: %v", err)
	}
}

func TestDeadlineEndsBlockedRecv(t *testing.T) {
	_, ch := certChannel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	stream, err := simtest.NewTestServiceClient(ch).ServerStream(ctx,
		&simtest.StreamRequest{Count: 3, Size: 8, IntervalMs: 60_000})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var last error
	for i := 0; i < 3 && last == nil; i++ {
		_, last = stream.Recv()
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("the deadline took %v to end the stream", elapsed)
	}
	asError(t, last, minknow.StatusDeadlineExceeded, codes.DeadlineExceeded)
}

func TestCancelledContextBeforeCall(t *testing.T) {
	_, ch := certChannel(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := simtest.NewTestServiceClient(ch).Echo(ctx, &simtest.Chunk{})
	asError(t, err, minknow.StatusCancelled, codes.Canceled)
	_, err = ch.Positions(ctx)
	asError(t, err, minknow.StatusCancelled, codes.Canceled)
	_, err = minknow.Connect(ctx, minknow.Options{})
	asError(t, err, minknow.StatusCancelled, codes.Canceled)
}

func TestUnimplementedMethod(t *testing.T) {
	_, ch := certChannel(t)
	for _, ctx := range []context.Context{context.Background(), testContext(t)} {
		err := ch.Invoke(ctx, "/minknow_sim.TestService/no_such_method", &simtest.WhoAmIRequest{},
			&simtest.WhoAmIResponse{})
		e := asError(t, err, minknow.StatusRPCFailed, codes.Unimplemented)
		mustContain(t, e.Message, "no_such_method")
	}
	err := ch.Invoke(context.Background(), "not a path", &simtest.WhoAmIRequest{}, &simtest.WhoAmIResponse{})
	asError(t, err, minknow.StatusInvalidArgument, codes.InvalidArgument)
}

func TestManyGoroutinesShareOneChannel(t *testing.T) {
	_, ch := certChannel(t)
	client := simtest.NewTestServiceClient(ch)
	ctx := testContext(t)

	const workers, rounds = 16, 10
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs <- exercise(ctx, client, w, rounds)
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// exercise makes unary and streaming calls whose answers depend on w.
func exercise(ctx context.Context, client simtest.TestServiceClient, w, rounds int) error {
	for r := 0; r < rounds; r++ {
		payload := fmt.Sprintf("worker %d round %d", w, r)
		reply, err := client.Echo(ctx, &simtest.Chunk{Payload: []byte(payload), Sequence: uint32(r)})
		if err != nil {
			return err
		}
		if string(reply.GetPayload()) != payload || reply.GetSequence() != uint32(r) {
			return fmt.Errorf("worker %d: echo %v", w, reply)
		}
	}
	stream, err := client.ServerStream(ctx, &simtest.StreamRequest{Count: uint32(w + 1), Size: 16})
	if err != nil {
		return err
	}
	for n := 0; ; n++ {
		chunk, err := stream.Recv()
		if err == io.EOF {
			if n != w+1 {
				return fmt.Errorf("worker %d: %d chunks", w, n)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if chunk.GetSequence() != uint32(n) {
			return fmt.Errorf("worker %d: chunk %d has sequence %d", w, n, chunk.GetSequence())
		}
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	_, ch := certChannel(t)
	ctx := testContext(t)

	// A stream started before Close keeps working after it.
	stream, err := simtest.NewTestServiceClient(ch).ServerStream(ctx, &simtest.StreamRequest{Count: 2, Size: 4})
	if err != nil {
		t.Fatal(err)
	}

	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}

	for i := 0; i < 2; i++ {
		if _, err := stream.Recv(); err != nil {
			t.Fatalf("stream after Close: %v", err)
		}
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("stream end after Close: %v", err)
	}

	_, err = ch.Version(ctx)
	if !errors.Is(err, minknow.ErrClosed) {
		t.Fatalf("Version after Close: %v", err)
	}
	asError(t, err, minknow.StatusInvalidState, codes.FailedPrecondition)
	_, err = simtest.NewTestServiceClient(ch).Echo(context.Background(), &simtest.Chunk{})
	if !errors.Is(err, minknow.ErrClosed) {
		t.Fatalf("Echo after Close: %v", err)
	}
	_, err = ch.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/minknow_sim.TestService/server_stream")
	if !errors.Is(err, minknow.ErrClosed) {
		t.Fatalf("NewStream after Close: %v", err)
	}
	for _, f := range []func() error{
		func() error { _, err := ch.Positions(ctx); return err },
		func() error { _, err := ch.DescribeHost(ctx); return err },
		func() error { _, err := ch.OpenPosition(ctx, "X1"); return err },
		func() error { _, err := ch.OpenPort(ctx, 1); return err },
		func() error { _, err := ch.Basecaller(ctx); return err },
		func() error { _, err := ch.BasecallerPort(ctx); return err },
	} {
		if err := f(); !errors.Is(err, minknow.ErrClosed) {
			t.Fatalf("after Close: %v", err)
		}
	}
}

// Close racing with calls on other goroutines: every call either works or
// gets ErrClosed; nothing crashes, and -race sees no race.
func TestCloseWhileInUse(t *testing.T) {
	_, ch := certChannel(t)
	client := simtest.NewTestServiceClient(ch)
	ctx := testContext(t)

	start := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for r := 0; r < 20; r++ {
				_, err := client.Echo(ctx, &simtest.Chunk{Payload: []byte("x")})
				if errors.Is(err, minknow.ErrClosed) {
					errs <- nil
					return
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	close(start)
	var closers sync.WaitGroup
	for i := 0; i < 3; i++ {
		closers.Add(1)
		go func() { defer closers.Done(); _ = ch.Close() }()
	}
	closers.Wait()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if _, err := client.Echo(ctx, &simtest.Chunk{}); !errors.Is(err, minknow.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// A unary call that gets two replies is an error, and the call is
// cancelled, as grpc-go treats a cardinality violation. (This is the call
// object path; minknow_unary, taken with context.Background, refuses a
// second reply itself, with gRPC INTERNAL.)
func TestTwoRepliesToUnaryCall(t *testing.T) {
	_, ch := certChannel(t)
	err := ch.Invoke(testContext(t), "/minknow_sim.TestService/server_stream",
		&simtest.StreamRequest{Count: 3, Size: 1}, &simtest.Chunk{})
	e := asError(t, err, minknow.StatusBadResponse, codes.Internal)
	mustContain(t, e.Message, "more than one reply")
}

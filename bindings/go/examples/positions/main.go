// Command positions does the main job from Go: connect to a MinKNOW
// manager, print its version and host, list the flow cell positions, open
// each running one and ask it for its version through a generated stub,
// and print a table.
//
//	positions [-host H] [-port P] [-ca FILE] [-cert CHAIN -key KEY]
//	          [-token DEVELOPER_TOKEN] [-server-name NAME] [-timeout 30s]
//
// Anything not given on the command line comes from MinKNOW's environment
// variables (MINKNOW_TRUSTED_CA, MINKNOW_API_CLIENT_CERTIFICATE_CHAIN,
// MINKNOW_API_CLIENT_KEY, PROTOCOL_TOKEN, ...), as the Python client does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"
	"time"

	minknow "github.com/minknow-auth/libminknow_auth/bindings/go"
	"github.com/minknow-auth/libminknow_auth/bindings/go/pb/instance"
)

func main() {
	opts := minknow.Options{}
	var ca string
	var timeout time.Duration
	flag.StringVar(&opts.Host, "host", "localhost", "MinKNOW host")
	flag.IntVar(&opts.Port, "port", minknow.DefaultPort, "manager port (default: 9501 with a client certificate, else 9502)")
	flag.StringVar(&ca, "ca", "", "trusted CA file (default: MINKNOW_TRUSTED_CA, then MinKNOW's install locations)")
	flag.StringVar(&opts.ClientCertificateFile, "cert", "", "client certificate chain (PEM)")
	flag.StringVar(&opts.ClientKeyFile, "key", "", "client key (unencrypted PEM)")
	flag.StringVar(&opts.DeveloperToken, "token", "", "developer API token")
	flag.StringVar(&opts.ServerName, "server-name", "", `name to check the server's certificate against (default "localhost")`)
	flag.DurationVar(&timeout, "timeout", 30*time.Second, "bound on the whole job")
	flag.Parse()
	if (opts.ClientCertificateFile == "") != (opts.ClientKeyFile == "") {
		fmt.Fprintln(os.Stderr, "positions: -cert and -key go together")
		os.Exit(2)
	}
	if ca != "" {
		opts.CAFiles = []string{ca}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "positions: %v\n", err)
		var e *minknow.Error
		if errors.As(err, &e) {
			fmt.Fprintf(os.Stderr, "positions: (library status: %v; gRPC: %v)\n", e.Code, e.GRPC)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, opts minknow.Options, out io.Writer) error {
	mgr, err := minknow.Connect(ctx, opts)
	if err != nil {
		return err
	}
	defer mgr.Close()

	version, err := mgr.Version(ctx)
	if err != nil {
		return err
	}
	host, err := mgr.DescribeHost(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "MinKNOW %s on %s (%s, %s) at %s\n\n", version.Full, host.NetworkName,
		host.ProductCode, host.Description, mgr)

	positions, err := mgr.Positions(ctx)
	if err != nil {
		return err
	}
	table := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(table, "POSITION\tSTATE\tPORT\tVERSION")
	for _, p := range positions {
		fmt.Fprintf(table, "%s\t%s\t%s\t%s\n", p.Name, p.StateName, port(p), positionVersion(ctx, mgr, p))
	}
	return table.Flush()
}

func port(p minknow.Position) string {
	if p.SecurePort == 0 {
		return "-"
	}
	return fmt.Sprint(p.SecurePort)
}

// positionVersion opens a running position and asks its instance service
// for the version, through the stub protoc-gen-go-grpc generated.
func positionVersion(ctx context.Context, mgr *minknow.Channel, p minknow.Position) string {
	if !p.Running() {
		if p.ErrorInfo != "" {
			return "(" + p.ErrorInfo + ")"
		}
		return "-"
	}
	pos, err := mgr.OpenPosition(ctx, p.Name)
	if err != nil {
		return "error: " + err.Error()
	}
	defer pos.Close()

	reply, err := instance.NewInstanceServiceClient(pos).GetVersionInfo(ctx, &instance.GetVersionInfoRequest{})
	if err != nil {
		return "error: " + err.Error()
	}
	return reply.GetMinknow().GetFull()
}

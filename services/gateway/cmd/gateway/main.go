// Command gateway serves Tenure's public JSON API in front of the gRPC
// services. Configuration is in flags and TENURE_GATEWAY_* variables; see
// README.md. Keep this file small: the gateway itself lives in package app.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/tenurehq/tenure/services/gateway/app"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg app.Config
	cfg.RegisterFlags(flag.CommandLine)
	flag.Parse()
	ctx, cancel := grpcserver.SignalContext(context.Background())
	defer cancel()
	gw, cleanup, err := app.New(ctx, cfg, app.Deps{})
	if err != nil {
		return err
	}
	defer cleanup()
	return gw.Run(ctx)
}

// Command gateway serves Tenure's public JSON API in front of the gRPC
// services. Configuration is in flags and TENURE_GATEWAY_* variables; see
// README.md. Keep this file small: the gateway itself lives in package app.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tenurehq/tenure/services/gateway/app"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	gw, cleanup, err := app.New(ctx, cfg, app.Deps{})
	if err != nil {
		return err
	}
	defer cleanup()
	return gw.Run(ctx)
}

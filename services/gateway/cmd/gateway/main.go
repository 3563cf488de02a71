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
	"time"

	"github.com/tenurehq/tenure/services/gateway/app"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

func main() {
	var cfg app.Config
	cfg.RegisterFlags(flag.CommandLine)
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(cfg app.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	level, _ := telemetry.ParseLevel(cfg.LogLevel)
	tel, shutdownTelemetry, err := telemetry.Setup(ctx, app.ServiceName)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdownTelemetry(sctx)
	}()

	gw, cleanup, err := app.New(ctx, cfg, app.Deps{Logger: telemetry.NewLogger(os.Stderr, app.ServiceName, level), Telemetry: tel})
	if err != nil {
		return err
	}
	defer cleanup()
	return gw.Run(ctx)
}

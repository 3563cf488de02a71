// Command promotion runs the Tenure promotion service. All logic lives in
// the app package; keep this file small.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tenurehq/tenure/services/promotion/app"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "promotion:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg app.Config
	cfg.RegisterFlags(flag.CommandLine)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, cleanup, err := app.New(ctx, cfg, app.Deps{})
	if err != nil {
		return err
	}
	defer cleanup()
	return a.Run(ctx)
}

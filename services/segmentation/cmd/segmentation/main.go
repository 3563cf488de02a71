// Command segmentation runs the Tenure segmentation service. All logic
// lives in the app package; keep this file small.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/tenurehq/tenure/services/segmentation/app"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "segmentation:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg app.Config
	cfg.RegisterFlags(flag.CommandLine)
	flag.Parse()
	if limit, ok := cfg.SoftMemoryLimit(); ok {
		debug.SetMemoryLimit(limit) // process-wide, so here rather than in app.New
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, cleanup, err := app.New(ctx, cfg, app.Deps{})
	if err != nil {
		return err
	}
	defer cleanup()
	return a.Run(ctx)
}

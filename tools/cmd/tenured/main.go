// Command tenured runs all of Tenure in one process for local development:
// an embedded etcd, every service on its own fixed gRPC port (profile
// 127.0.0.1:9101, segmentation 127.0.0.1:9102; SQLite databases under the
// data directory) and the JSON gateway on 127.0.0.1:8080. Once everything
// is up it prints on stdout what listens where. Ctrl-C stops the gateway,
// then the services, then etcd. `make run` starts it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
)

func main() {
	var cfg config
	cfg.registerFlags(flag.CommandLine)
	flag.Parse()
	// The segmentation service's memory limit is process-wide: main sets it
	// from segmentation's defaults and TENURE_SEGMENTATION_MEMORY_LIMIT.
	var seg segmentationapp.Config
	seg.RegisterFlags(flag.NewFlagSet(segmentationapp.ServiceName, flag.ContinueOnError))
	if limit, ok := seg.SoftMemoryLimit(); ok {
		debug.SetMemoryLimit(limit)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stderr, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "tenured:", err)
		os.Exit(1)
	}
}

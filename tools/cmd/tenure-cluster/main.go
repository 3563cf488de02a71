// Command tenure-cluster runs Tenure on loopback as separate processes, the
// way a deployment does: a three-member etcd cluster, three replicas of
// each service on PostgreSQL and the gateway, and prints every address.
// Ctrl-C stops them all. It runs the binaries make static-build writes:
//
//	make cluster
//
// See deploy/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"github.com/tenurehq/tenure/tools/internal/cluster"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "etcd-member" {
		os.Exit(cluster.RunMember(os.Args[2:], os.Stderr))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tenure-cluster:", err)
		os.Exit(1)
	}
}

func run() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg := cluster.Config{EtcdCommand: []string{self, "etcd-member"}}
	flag.StringVar(&cfg.Bin, "bin", ".build/static", "directory of the service and gateway binaries (make static-build)")
	flag.StringVar(&cfg.Dir, "dir", ".build/cluster", "directory for etcd data and the processes' logs")
	flag.IntVar(&cfg.EtcdMembers, "etcd-members", 3, "etcd members")
	flag.IntVar(&cfg.Replicas, "replicas", 3, "replicas of each service")
	flag.StringVar(&cfg.PostgresDSN, "postgres", envOr("TENURE_TEST_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL server on which each service gets its database (env TENURE_TEST_POSTGRES_DSN)")
	flag.StringVar(&cfg.DatabasePrefix, "database-prefix", "tenure_cluster_", "prefix of the services' database names")
	flag.IntVar(&cfg.BasePort, "base-port", 20000, "first loopback port; see deploy/README.md for the layout")
	flag.Parse()
	for _, p := range []*string{&cfg.Bin, &cfg.Dir} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := cluster.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROCESS\tADDRESS\tLOG")
	for _, p := range c.Processes() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, p.Addr, p.Log)
	}
	_ = tw.Flush()
	fmt.Println("\nTenure is running as separate processes; Ctrl-C stops them.")
	<-ctx.Done()
	return nil
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

package cluster

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tenurehq/tenure/services/platform/embedetcd"
)

// RunMember runs one etcd member until SIGINT or SIGTERM, from the flags
// Start passes: -name, -client (its client address), -peers (every
// member's name=peer address, comma-separated) and -dir (its data). It
// returns the process's exit status.
func RunMember(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("etcd-member", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "member name, one of -peers")
	client := fs.String("client", "", "client address, host:port")
	peers := fs.String("peers", "", "every member as name=host:port, comma-separated")
	dir := fs.String("dir", "", "data directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cl := &embedetcd.Cluster{Name: *name, Peers: map[string]string{}, Token: "tenure-cluster"}
	for _, p := range strings.Split(*peers, ",") {
		n, addr, ok := strings.Cut(p, "=")
		if !ok {
			fmt.Fprintf(stderr, "etcd-member: -peers: %q is not name=host:port\n", p)
			return 2
		}
		cl.Peers[n] = addr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("member", *name)
	s, err := embedetcd.Start(ctx, embedetcd.Config{Dir: *dir, ClientAddr: *client, Logger: log, Cluster: cl})
	if err != nil {
		fmt.Fprintln(stderr, "etcd-member:", err)
		return 1
	}
	log.Info("etcd member ready", "endpoints", s.Endpoints())
	<-ctx.Done()
	s.Close()
	return 0
}

package embedetcd_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/tenurehq/tenure/services/platform/embedetcd"
	"github.com/tenurehq/tenure/services/platform/internal/testlog"
)

func TestStartPutGetClose(t *testing.T) {
	var logs testlog.Buffer
	lg := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0", Logger: lg})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer s.Close()

	eps := s.Endpoints()
	if len(eps) != 1 || !strings.HasPrefix(eps[0], "http://127.0.0.1:") || strings.HasSuffix(eps[0], ":0") {
		t.Fatalf("Endpoints() = %v, want one http://127.0.0.1:<port>", eps)
	}

	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "k", "v"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	resp, err := cli.Get(ctx, "k")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("Get(k) = %v, want v", resp.Kvs)
	}

	s.Close()
	s.Close() // idempotent

	if !strings.Contains(logs.String(), `"component":"etcd"`) {
		t.Errorf("etcd logs not forwarded to slog; got %q", logs.String())
	}
}

func TestStartTempDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := embedetcd.Start(ctx, embedetcd.Config{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	s.Close()
}

func TestStartCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir()}); err == nil {
		t.Fatal("Start with a cancelled context: got nil error")
	}
}

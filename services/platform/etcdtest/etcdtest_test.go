package etcdtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/etcdtest"
)

func TestStartAndClient(t *testing.T) {
	cli := etcdtest.Client(t, etcdtest.Start(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "k", "v"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	resp, err := cli.Get(ctx, "k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("Get(k) = %v, %v; want v", resp, err)
	}
}

func TestProxyCutAndForward(t *testing.T) {
	srv := etcdtest.Start(t)
	px := etcdtest.NewProxy(t, "") // etcd not reachable yet
	cli := px.Client(t)

	get := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := cli.Get(ctx, "k")
		return err
	}
	if err := get(); err == nil {
		t.Fatal("Get through a proxy with no target succeeded, want an error")
	}
	px.Forward(srv.Endpoints()[0])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Get(ctx, "k"); err != nil {
		t.Fatalf("Get after Forward: %v", err)
	}
	px.Cut()
	if err := get(); err == nil {
		t.Fatal("Get after Cut succeeded, want an error")
	}
}

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

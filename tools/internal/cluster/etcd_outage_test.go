package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/tools/internal/cluster"
)

// TestEtcdMajorityOutage stops two of three etcd members for twice the
// discovery lease TTL while clients read through the gateway: traffic goes
// on to the replicas already known, and once the members are back every
// replica reports itself registered (health "tenure.discovery") within
// TTL + 5 s.
func TestEtcdMajorityOutage(t *testing.T) {
	c := startCluster(t, 2)
	stop := seedAndLoop(t, c, "outage", 10, 2)

	outage := 2 * time.Duration(discovery.DefaultTTL) * time.Second
	down := c.Etcd[1:]
	for _, p := range down {
		p.Kill()
	}
	time.Sleep(outage)
	// By now the replicas know they lost their registration: the check
	// below that they get it back must not pass on a status that never
	// changed.
	var all []*cluster.Process
	for _, ps := range c.Services {
		all = append(all, ps...)
	}
	unregistered := 0
	for _, p := range all {
		sctx, scancel := context.WithTimeout(context.Background(), time.Second)
		if cluster.WaitServing(sctx, p.Addr, grpcserver.RegistrationHealth) != nil {
			unregistered++
		}
		scancel()
	}
	if unregistered != len(all) {
		t.Errorf("%d of %d replicas report themselves registered after %s without an etcd quorum, want none", len(all)-unregistered, len(all), outage)
	}
	back := time.Now()
	for _, p := range down {
		if _, err := c.RestartEtcd(p); err != nil {
			t.Fatal(err)
		}
	}
	limit := time.Duration(discovery.DefaultTTL)*time.Second + 5*time.Second
	wctx, wcancel := context.WithTimeout(context.Background(), limit)
	defer wcancel()
	for _, p := range all {
		if err := cluster.WaitServing(wctx, p.Addr, grpcserver.RegistrationHealth); err != nil {
			t.Errorf("%s not registered again within %s of etcd's return: %v", p.Name, limit, err)
		}
	}
	registered := time.Since(back)
	results := stop()
	var errs int
	for _, r := range results {
		if r.err != nil {
			errs++
			if errs <= 3 {
				t.Logf("error: %v", r.err)
			}
		}
	}
	t.Logf("2 of 3 etcd members down for %s under 2 reading clients: %d requests, %d errors; every replica registered again %s after etcd's return (limit %s)",
		outage, len(results), errs, registered.Round(time.Millisecond), limit)
	if errs > 0 {
		t.Errorf("%d of %d reads failed during the etcd outage, want none: the gateway keeps the replicas it knew", errs, len(results))
	}
}

package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenurehq/tenure/tools/internal/cluster"
)

// result is one request of a client loop.
type result struct {
	at  time.Time
	err error
}

// loop reads customers through the gateway from workers goroutines until
// ctx is done, and returns every result.
func loop(ctx context.Context, gateway string, ids []string, workers int) []result {
	var (
		mu  sync.Mutex
		out []result
		n   atomic.Int64
		wg  sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				id := ids[int(n.Add(1))%len(ids)]
				var err error
				resp, gerr := client.Get(gateway + "/v1/customers/" + id)
				switch {
				case gerr != nil:
					err = gerr
				case resp.StatusCode != http.StatusOK:
					err = fmt.Errorf("GET %s: %d", id, resp.StatusCode)
				}
				if resp != nil {
					resp.Body.Close()
				}
				mu.Lock()
				out = append(out, result{time.Now(), err})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}

// seedAndLoop creates n customers through the gateway, named prefix-0…,
// and starts workers clients reading them; stop ends the loop and returns
// its results.
func seedAndLoop(t *testing.T, c *cluster.Cluster, prefix string, n, workers int) (stop func() []result) {
	t.Helper()
	gateway := "http://" + c.Gateway.Addr
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		if code := post(t, gateway+"/v1/customers?customerId="+id, `{"fullName":"Ada"}`); code != http.StatusOK {
			t.Fatalf("create %s: %d", id, code)
		}
		ids = append(ids, id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []result)
	go func() { done <- loop(ctx, gateway, ids, workers) }()
	return func() []result {
		cancel()
		return <-done
	}
}

// TestKillReplica kills one of three profile replicas with SIGKILL while
// clients read through the gateway, then restarts it: the clients see
// (almost) no errors and the killed replica is registered again.
// Targets: under 0.1 % errors, recovered (last error) within 5 s of the kill.
func TestKillReplica(t *testing.T) {
	c := startCluster(t, 3)
	stop := seedAndLoop(t, c, "kill", 20, 4)

	time.Sleep(2 * time.Second)
	victim := c.Services["profile"][1]
	killed := time.Now()
	victim.Kill()
	time.Sleep(5 * time.Second)
	rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
	restart := time.Now()
	if _, err := c.Restart(rctx, "profile", victim); err != nil {
		t.Fatalf("restart %s: %v", victim.Name, err)
	}
	registered := time.Since(restart)
	rcancel()
	time.Sleep(3 * time.Second)
	results := stop()

	var errs int
	var last time.Time
	for _, r := range results {
		if r.err != nil {
			errs++
			last = r.at
			if errs <= 3 {
				t.Logf("error at %s after the kill: %v", r.at.Sub(killed).Round(time.Millisecond), r.err)
			}
		}
	}
	recovery := time.Duration(0)
	if errs > 0 {
		recovery = last.Sub(killed)
	}
	rate := float64(errs) / float64(len(results))
	t.Logf("kill -9 of 1 of 3 profile replicas under 4 reading clients: %d requests, %d errors (%.3f %%), last error %s after the kill; replica restarted 5 s after the kill and serving %s after its start",
		len(results), errs, 100*rate, recovery.Round(time.Millisecond), registered.Round(time.Millisecond))
	if rate >= 0.001 {
		t.Errorf("error rate %.3f %%, want under 0.1 %%", 100*rate)
	}
	if recovery >= 5*time.Second {
		t.Errorf("last error %s after the kill, want under 5 s", recovery)
	}
}

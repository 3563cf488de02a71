package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// call is one request of TestPostgresRestart's clients.
type call struct {
	start, end time.Time
	code       int // HTTP status; 0 when the request failed without one
	err        error
	created    string // the customer a successful create made
}

// TestPostgresRestart stops profile's PostgreSQL server (a fast shutdown)
// for four seconds while clients read and create customers through the
// gateway, then starts it again on the same port and data. While it is
// down every failed request is a 503 (gRPC UNAVAILABLE), none hangs, and
// once it is back requests succeed again without any profile process
// restarting; every customer created before the outage is still there.
// Targets: no answer other than 200 or 503, no request over 5 s, first
// success under 10 s after the server's return.
func TestPostgresRestart(t *testing.T) {
	pg := startPostgres(t)
	c := startClusterOn(t, 2, map[string]string{"profile": pg.DSN})
	gateway := "http://" + c.Gateway.Addr
	pids := map[string]int{}
	for _, p := range c.Services["profile"] {
		pids[p.Name] = p.PID()
	}
	var ids []string
	for i := range 10 {
		id := fmt.Sprintf("pg-%d", i)
		if code := post(t, gateway+"/v1/customers?customerId="+id, `{"fullName":"Ada"}`); code != http.StatusOK {
			t.Fatalf("create %s: %d", id, code)
		}
		ids = append(ids, id)
	}
	ctx, stopClients := context.WithCancel(context.Background())
	done := make(chan []call)
	go func() { done <- pgClients(ctx, gateway, ids) }()

	time.Sleep(2 * time.Second)
	stopping := time.Now()
	pg.Stop()
	stopped := time.Now()
	time.Sleep(4 * time.Second)
	starting := time.Now()
	pg.Start()
	back := time.Now() // the server accepts connections
	time.Sleep(5 * time.Second)
	stopClients()
	calls := <-done

	var (
		byCode             = map[int]int{}
		outage, slow       int
		firstOK            time.Duration = -1
		longest            time.Duration
		beforeOutage, kept []string
	)
	for _, r := range calls {
		if d := r.end.Sub(r.start); d > longest {
			longest = d
		}
		if r.end.Sub(r.start) > 5*time.Second {
			slow++
		}
		if !r.end.Before(stopping) && r.start.Before(back) {
			outage++
			byCode[r.code]++
		}
		switch {
		case r.err != nil:
			t.Errorf("request at %s after the shutdown began: %v", r.start.Sub(stopping).Round(time.Millisecond), r.err)
		case r.code != http.StatusOK && r.code != http.StatusServiceUnavailable:
			t.Errorf("request at %s after the shutdown began: status %d, want 200 or 503", r.start.Sub(stopping).Round(time.Millisecond), r.code)
		case r.code == http.StatusOK && !r.start.Before(back) && (firstOK < 0 || r.end.Sub(back) < firstOK):
			firstOK = r.end.Sub(back)
		}
		if r.created != "" {
			kept = append(kept, r.created)
			if r.end.Before(stopping) {
				beforeOutage = append(beforeOutage, r.created)
			}
		}
	}
	t.Logf("profile's PostgreSQL down for %s (fast shutdown took %s) under 3 clients (2 reading, 1 creating customers): %d requests, %d during the outage by status %v; longest request %s; server back up %s after its start began, first success %s after that",
		back.Sub(stopping).Round(time.Millisecond), stopped.Sub(stopping).Round(time.Millisecond), len(calls), outage, byCode,
		longest.Round(time.Millisecond), back.Sub(starting).Round(time.Millisecond), firstOK.Round(time.Millisecond))
	if byCode[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no request failed with 503 while PostgreSQL was down (%v): the outage went unseen", byCode)
	}
	if slow > 0 {
		t.Errorf("%d requests took over 5 s (longest %s), want none: a request must not hang on a database that is down", slow, longest)
	}
	if firstOK < 0 || firstOK >= 10*time.Second {
		t.Errorf("first success %s after PostgreSQL's return, want under 10 s", firstOK)
	}
	for _, p := range c.Services["profile"] {
		if p.Exited() || pids[p.Name] != p.PID() {
			t.Errorf("%s restarted or exited (pid %d, was %d)", p.Name, p.PID(), pids[p.Name])
		}
	}
	for _, id := range append(ids, kept...) {
		resp, err := http.Get(gateway + "/v1/customers/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("customer %s, created before the outage or after it, reads %d", id, resp.StatusCode)
		}
	}
	t.Logf("%d customers created through the outage (%d before it), each still there", len(kept), len(beforeOutage))
}

// pgClients reads ids through the gateway from two goroutines and creates
// customers pg-new-0… from a third until ctx is done.
func pgClients(ctx context.Context, gateway string, ids []string) []call {
	var mu sync.Mutex
	var calls []call
	var next atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 15 * time.Second}
	do := func(req func() (*http.Response, error), created string) {
		r := call{start: time.Now()}
		resp, err := req()
		r.end = time.Now()
		if err != nil {
			r.err = err
		} else {
			r.code = resp.StatusCode
			resp.Body.Close()
			if r.code == http.StatusOK {
				r.created = created
			}
		}
		mu.Lock()
		calls = append(calls, r)
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				id := ids[int(next.Add(1))%len(ids)]
				do(func() (*http.Response, error) { return client.Get(gateway + "/v1/customers/" + id) }, "")
			}
		})
	}
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			id := fmt.Sprintf("pg-new-%d", i)
			do(func() (*http.Response, error) {
				return client.Post(gateway+"/v1/customers?customerId="+id, "application/json", strings.NewReader(`{"fullName":"Ada"}`))
			}, id)
		}
	})
	wg.Wait()
	return calls
}

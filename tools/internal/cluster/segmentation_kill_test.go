package cluster_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/tools/internal/cluster"
)

// TestKillSegmentation kills a segmentation replica at a random moment
// twenty times (and starts it again) while events stream into profile:
// once the kills are over, a recompute (which first waits until
// segmentation has applied profile's whole log) scores every customer with
// exactly the orders recorded for it.
func TestKillSegmentation(t *testing.T) {
	c := startCluster(t, 2)
	gateway := "http://" + c.Gateway.Addr
	const customers = 20
	for i := range customers {
		if code := post(t, fmt.Sprintf("%s/v1/customers?customerId=seg-%d", gateway, i), `{"fullName":"Ada"}`); code != http.StatusOK {
			t.Fatalf("create seg-%d: %d", i, code)
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	written := make(chan map[string]int)
	go func() { written <- writeOrders(ctx, t, gateway, customers) }()

	for range 20 {
		time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
		victim := c.Services["segmentation"][rand.IntN(len(c.Services["segmentation"]))]
		victim.Kill()
		rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := c.Restart(rctx, "segmentation", victim); err != nil {
			t.Fatalf("restart %s: %v", victim.Name, err)
		}
		rcancel()
	}
	stop()
	orders := <-written
	total := 0
	for _, n := range orders {
		total += n
	}
	t.Logf("20 kills of a segmentation replica (of 2) while %d order events streamed in", total)
	recompute(t, gateway)
	checkAppliedLog(t, c)
	for id, want := range orders {
		resp, err := http.Get(gateway + "/v1/customers/" + id + "/scores")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var sc struct {
			Frequency string `json:"frequency"`
		}
		if err := json.Unmarshal(b, &sc); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("scores of %s: %d %s", id, resp.StatusCode, b)
		}
		if sc.Frequency != fmt.Sprint(want) {
			t.Errorf("%s: frequency %s, want the %d orders recorded", id, sc.Frequency, want)
		}
	}
}

// writeOrders records order events for customers seg-0… in batches of ten
// until ctx is done, and returns how many each got.
func writeOrders(ctx context.Context, t *testing.T, gateway string, customers int) map[string]int {
	orders := map[string]int{}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for n := 0; ctx.Err() == nil; {
		var evs []string
		for range 10 {
			id := fmt.Sprintf("seg-%d", n%customers)
			evs = append(evs, fmt.Sprintf(`{"eventId":"seg-ev-%d","customerId":%q,"occurredAt":%q,
				"orderPlaced":{"orderId":"o-%d","total":{"currencyCode":"GBP","amountMinor":"100"}}}`,
				n, id, at.Add(time.Duration(n)*time.Minute).Format(time.RFC3339), n))
			orders[id]++
			n++
		}
		resp, err := http.Post(gateway+"/v1/events:batchRecord", "application/json", strings.NewReader(`{"events":[`+strings.Join(evs, ",")+`]}`))
		if err != nil {
			t.Errorf("record events: %v", err)
			return orders
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"acceptedCount":10`) {
			t.Errorf("record events: %d %s", resp.StatusCode, b)
			return orders
		}
		time.Sleep(20 * time.Millisecond)
	}
	return orders
}

// recompute runs a recompute through the gateway (it waits for segmentation
// to have applied profile's whole log) and waits until it has succeeded.
func recompute(t *testing.T, gateway string) {
	t.Helper()
	op := struct {
		Name  string `json:"name"`
		Done  bool   `json:"done"`
		State string `json:"state"`
	}{}
	get := func(method, url, body string) {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &op) != nil {
			t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
		}
	}
	get(http.MethodPost, gateway+"/v1/segmentation:recompute", `{"asOfTime":"2026-01-01T00:00:00Z"}`)
	deadline := time.Now().Add(time.Minute)
	for !op.Done {
		if time.Now().After(deadline) {
			t.Fatalf("recompute %s not done after a minute", op.Name)
		}
		time.Sleep(50 * time.Millisecond)
		get(http.MethodGet, gateway+"/v1/"+op.Name, "")
	}
	if op.State != "OPERATION_STATE_SUCCEEDED" {
		t.Fatalf("recompute %s ended %s", op.Name, op.State)
	}
}

// checkAppliedLog compares segmentation's cursor and applied-events count
// with profile's log: the inputs hold snapshots, so an event applied twice
// (or lost, unless it was its customer's last) changes no score, but it
// changes the count.
func checkAppliedLog(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	var events, head, cursor, applied int64
	query(t, c.DSN("profile"), "SELECT count(*), coalesce(max(sequence), 0) FROM events", &events, &head)
	query(t, c.DSN("segmentation"), "SELECT sequence, applied_events FROM stream_cursor WHERE id = 1", &cursor, &applied)
	t.Logf("profile's log: %d events up to sequence %d; segmentation: cursor %d, %d events applied", events, head, cursor, applied)
	if cursor != head {
		t.Errorf("segmentation's cursor is %d, want profile's last sequence %d", cursor, head)
	}
	if applied != events {
		t.Errorf("segmentation applied %d events, want the %d of profile's log: events were applied twice or lost", applied, events)
	}
}

// query scans the one row of a query on the database at dsn into dest.
func query(t *testing.T, dsn, q string, dest ...any) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(q).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

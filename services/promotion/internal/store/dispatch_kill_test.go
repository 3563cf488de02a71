package store_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/platform/webhook"
	"github.com/tenurehq/tenure/services/promotion/internal/channel"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

// killingReceiver is the shop's webhook endpoint. At its kill-th request
// it kills the dispatcher (kill is set by the test); it counts deliveries
// per Idempotency-Key, the message id the shop deduplicates by.
type killingReceiver struct {
	mu         sync.Mutex
	requests   int
	kill       int
	killer     func()
	deliveries map[string]int
}

func (r *killingReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests++
	r.deliveries[req.Header.Get(webhook.HeaderIdempotencyKey)]++
	kill := r.requests == r.kill
	r.mu.Unlock()
	if kill {
		r.killer()
	}
}

// TestDispatcherKilledMidBatch kills a dispatcher in the middle of a batch
// of 300 due SMS messages (its context cancelled, or its database closed,
// at the 100th delivery), then starts a new dispatcher on the same
// database once the dead one's claims lapse. Every message reaches the
// receiver and ends sent; a message is delivered a second time only if
// its attempt was under way or its outcome not yet recorded at the kill
// (at most 4 per worker), and then with the same Idempotency-Key, so the
// shop keeps one.
func TestDispatcherKilledMidBatch(t *testing.T) {
	for _, kill := range []string{"cancel", "close"} {
		t.Run(kill, func(t *testing.T) {
			sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) { killMidBatch(t, db, dsn, kill) })
		})
	}
}

func killMidBatch(t *testing.T, db *sqlstore.DB, dsn, kill string) {
	ctx := context.Background()
	s := store.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 300
	j := outreach.Journey{ID: "hol", Trigger: outreach.Trigger{Kind: outreach.TriggerFirstOrder}, Channels: []outreach.Channel{outreach.ChannelSMS}}
	var ms []outreach.Message
	for i := range n {
		ms = append(ms, outreach.NewMessage(j, fmt.Sprintf("c%03d", i), "first-order", t0, time.UTC, outreach.QuietHours{}, t0))
	}
	if made, err := s.CreateMessages(ctx, ms); err != nil || made != n {
		t.Fatalf("CreateMessages: %d, %v", made, err)
	}
	rcv := &killingReceiver{kill: 100, deliveries: map[string]int{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	workers := 4
	now := t0
	dispatcher := func(s *store.Store) *outreach.Dispatcher {
		tmpl, err := outreach.Compile("t", outreach.Template{Text: "Hi {{.Customer.FirstName}}"})
		if err != nil {
			t.Fatal(err)
		}
		return &outreach.Dispatcher{Store: s,
			Journeys: oneJourney{outreach.Content{Journey: j, Templates: map[outreach.TemplateKey]*outreach.Compiled{{Channel: outreach.ChannelSMS}: tmpl}}},
			Contacts: everyone{outreach.Contact{Recipient: outreach.Recipient{Consent: func(outreach.Channel) bool { return true }},
				Addresses: map[outreach.Channel]string{outreach.ChannelSMS: "+447700900123"}, Data: outreach.SampleData}},
			Sender: &channel.Router{Providers: map[outreach.Channel]channel.Provider{
				outreach.ChannelSMS: channel.Webhook{URL: srv.URL, Sender: &webhook.Sender{Secret: []byte("k")}}}},
			Retry: outreach.DefaultRetryPolicy, Clock: func() time.Time { return now }, Lease: time.Minute, Batch: 50, Workers: workers,
		}
	}
	dying, cancel := context.WithCancel(ctx)
	defer cancel()
	rcv.killer = cancel
	if kill == "close" {
		rcv.killer = func() { db.Close() }
	}
	if _, err := dispatcher(s).RunOnce(dying); err == nil {
		t.Fatal("the killed dispatcher reported no error")
	}
	rcv.mu.Lock()
	before := rcv.requests
	rcv.mu.Unlock()
	if before >= n {
		t.Fatalf("the dispatcher made %d deliveries before dying, want it killed mid-run", before)
	}

	// A new dispatcher on the same database, once the claims lapsed.
	db2, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	s2 := store.New(db2)
	now = now.Add(2 * time.Minute)
	if _, err := dispatcher(s2).RunOnce(ctx); err != nil {
		t.Fatalf("the new dispatcher: %v", err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	twice := 0
	for _, m := range ms {
		switch d := rcv.deliveries[m.ID]; {
		case d == 0:
			t.Errorf("message %s never reached the receiver", m.CustomerID)
		case d == 2:
			twice++
		case d > 2:
			t.Errorf("message %s delivered %d times", m.CustomerID, d)
		}
		if got, err := s2.GetMessage(ctx, m.ID); err != nil || got.State != outreach.StateSent {
			t.Errorf("message %s: %s, %v; want sent", m.CustomerID, got.State, err)
		}
	}
	if len(rcv.deliveries) != n || twice > 4*workers {
		t.Errorf("got %d distinct messages, %d of them twice; want %d, at most %d (those under way or being recorded at the kill) twice",
			len(rcv.deliveries), twice, n, 4*workers)
	}
	if claimed, err := s2.Claim(ctx, now.Add(time.Hour), time.Minute, 10); err != nil || len(claimed) != 0 {
		t.Errorf("outbox after the run: %d entries, %v; want none", len(claimed), err)
	}
	t.Logf("%s: %d deliveries before the kill, %d messages delivered twice", kill, before, twice)
}

package store_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/platform/webhook"
	"github.com/tenurehq/tenure/services/promotion/internal/channel"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

// BenchmarkWebhookDispatch sends 2,000 due SMS messages, one customer
// each, under a per-day cap, through the webhook provider to a local
// receiver: claim, caps, render, signed POST and record per message, one
// dispatcher with batches of 500 and 16 workers, as the service runs it.
// It reports messages per second.
func BenchmarkWebhookDispatch(b *testing.B) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) *sqlstore.DB
	}{{"sqlite", sqlstoretest.SQLite}, {"postgres", sqlstoretest.Postgres}} {
		b.Run(eng.name, func(b *testing.B) {
			ctx := context.Background()
			s := store.New(eng.open(b))
			if err := s.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer srv.Close()
			tmpl, err := outreach.Compile("t", outreach.Template{Text: "Hi {{.Customer.FirstName}}"})
			if err != nil {
				b.Fatal(err)
			}
			j := outreach.Journey{ID: "j", Trigger: outreach.Trigger{Kind: outreach.TriggerFirstOrder}, Channels: []outreach.Channel{outreach.ChannelSMS}}
			now := t0
			d := &outreach.Dispatcher{
				Store:    s,
				Journeys: oneJourney{outreach.Content{Journey: j, Templates: map[outreach.TemplateKey]*outreach.Compiled{{Channel: outreach.ChannelSMS}: tmpl}}},
				Contacts: everyone{outreach.Contact{Recipient: outreach.Recipient{Consent: func(outreach.Channel) bool { return true }},
					Addresses: map[outreach.Channel]string{outreach.ChannelSMS: "+447700900123"}, Data: outreach.SampleData}},
				Sender: &channel.Router{Providers: map[outreach.Channel]channel.Provider{
					outreach.ChannelSMS: channel.Webhook{URL: srv.URL, Sender: &webhook.Sender{Secret: []byte("k")}}}},
				Caps:  []outreach.Cap{{Channel: outreach.ChannelSMS, Limit: 1, PerLocalDay: true}},
				Retry: outreach.DefaultRetryPolicy, Clock: func() time.Time { return now }, Batch: 500,
			}
			const n = 2000
			var total time.Duration
			round := 0
			for b.Loop() {
				b.StopTimer()
				for i := range n {
					m := outreach.NewMessage(j, fmt.Sprintf("c%d-%d", round, i), "first-order", now, time.UTC, outreach.QuietHours{}, now)
					if _, err := s.CreateMessage(ctx, m); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				sent, err := d.RunOnce(ctx)
				total += time.Since(start)
				if err != nil || sent != n {
					b.Fatalf("sent %d, %v; want %d", sent, err, n)
				}
				round++
			}
			b.ReportMetric(float64(n*round)/total.Seconds(), "msgs/s")
		})
	}
}

// everyone gives every customer the same contact.
type everyone struct{ c outreach.Contact }

func (e everyone) Contact(context.Context, string, outreach.Journey) (outreach.Contact, error) {
	return e.c, nil
}

package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	loyaltyapp "github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/platform/webhook"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/promotion/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// shopHook is the shop's webhook endpoint: it checks signatures against
// clock and records the messages it accepts.
type shopHook struct {
	*httptest.Server
	mu  sync.Mutex
	got []map[string]string
}

func newShopHook(t *testing.T, clock func() time.Time) *shopHook {
	h := &shopHook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte("hook"), r.Header, b, clock(), time.Hour); err != nil {
			t.Errorf("webhook signature: %v", err)
		}
		var body map[string]string
		_ = json.Unmarshal(b, &body)
		h.mu.Lock()
		h.got = append(h.got, body)
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// wait returns the messages once n arrived, after a few more dispatch
// rounds in which no other may arrive.
func (h *shopHook) wait(t *testing.T, n int) []map[string]string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		h.mu.Lock()
		k := len(h.got)
		h.mu.Unlock()
		if k >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages reached the webhook, want %d", k, n)
		}
	}
	time.Sleep(500 * time.Millisecond)
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]string(nil), h.got...)
}

func smsJourney(trigger *promotionv1.JourneyTrigger, text string) *promotionv1.Journey {
	return &promotionv1.Journey{Trigger: trigger, Channels: []promotionv1.OutreachChannel{promotionv1.OutreachChannel_OUTREACH_CHANNEL_SMS},
		Templates: []*promotionv1.MessageTemplate{{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_SMS, Text: text}}}
}

func smsCustomer(id, name, birthday, zone string) *profilev1.CreateCustomerRequest {
	return &profilev1.CreateCustomerRequest{CustomerId: id, Customer: &profilev1.Customer{FullName: name, Phone: "+447700900123",
		Birthday: birthday, TimeZone: zone, Consent: &profilev1.Consent{Sms: profilev1.ConsentState_CONSENT_STATE_GRANTED}}}
}

// TestBirthdayJourneyEndToEnd runs profile and promotion, promotion on a
// clock running 30 minutes a second from 22:00 UTC on 28 March 2026: Ada,
// born on 31 March and living in London, gets the journey's SMS two days
// before, at 01:00 local time, which London skips that night (summer time
// starts), so at 01:00 UTC; Bob, born in April, gets nothing. Profile's
// customer_updated events bring the birthdays and zones.
func TestBirthdayJourneyEndToEnd(t *testing.T) {
	start, base := time.Now(), time.Date(2026, 3, 28, 22, 0, 0, 0, time.UTC)
	clock := func() time.Time { return base.Add(time.Since(start) * 1800) }
	hook := newShopHook(t, clock)
	s := stacktest.Start(t, stacktest.Options{})
	p := s.Add(profileapp.Component(nil))
	pr := s.Add(app.Component(func(c *app.Config, d *app.Deps) {
		d.Clock = clock
		c.Outreach.Interval = 20 * time.Millisecond
		c.Outreach.WebhookURL, c.Outreach.WebhookSecret = hook.URL, "hook"
		c.Outreach.QuietHours = ""
	}))
	profile := profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
	out := promotionv1.NewOutreachServiceClient(stacktest.Dial(t, pr.Addr()))
	for _, c := range []*profilev1.CreateCustomerRequest{smsCustomer("ada", "Ada Lovelace", "1990-03-31", "Europe/London"),
		smsCustomer("bob", "Bob Babbage", "1990-04-30", "Europe/London")} {
		if _, err := profile.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "birthday", Journey: smsJourney(
		&promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_BIRTHDAY, Days: 2, LocalMinute: 60},
		"Happy birthday for Tuesday, {{.Customer.FirstName}}")}); err != nil {
		t.Fatal(err)
	}
	got := hook.wait(t, 1)
	if len(got) != 1 || got[0]["customer_id"] != "ada" || got[0]["text"] != "Happy birthday for Tuesday, Ada" {
		t.Fatalf("webhook got %v, want one birthday SMS to ada", got)
	}
	if sent := clock(); sent.Before(time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("sent by %s, before 01:00 UTC", sent)
	}
}

// TestPointsJourneyEndToEnd runs profile, loyalty and promotion: an order
// earns Ada points that expire in a month, and the journey for points
// expiring within 40 days sends her one SMS naming them.
func TestPointsJourneyEndToEnd(t *testing.T) {
	hook := newShopHook(t, time.Now)
	s := stacktest.Start(t, stacktest.Options{})
	p := s.Add(profileapp.Component(nil))
	l := s.Add(loyaltyapp.Component(nil))
	pr := s.Add(app.Component(func(c *app.Config, _ *app.Deps) {
		c.Outreach.Interval, c.Outreach.PointsInterval = 20*time.Millisecond, 50*time.Millisecond
		c.Outreach.WebhookURL, c.Outreach.WebhookSecret = hook.URL, "hook"
		c.Outreach.QuietHours = ""
	}))
	profile := profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
	loyalty := loyaltyv1.NewLoyaltyServiceClient(stacktest.Dial(t, l.Addr()))
	out := promotionv1.NewOutreachServiceClient(stacktest.Dial(t, pr.Addr()))
	if _, err := loyalty.UpdateProgramme(ctx, &loyaltyv1.UpdateProgrammeRequest{Programme: &loyaltyv1.Programme{ExpiryMonths: 1},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"expiry_months"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := profile.CreateCustomer(ctx, smsCustomer("ada", "Ada Lovelace", "", "Asia/Tokyo")); err != nil {
		t.Fatal(err)
	}
	if _, err := profile.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{{
		EventId: "o1", CustomerId: "ada", OccurredAt: timestamppb.New(time.Now().Add(-time.Minute)),
		Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o1", Total: gbp(4200)}}}}}); err != nil {
		t.Fatal(err)
	}
	var expiry time.Time
	for deadline := time.Now().Add(30 * time.Second); expiry.IsZero(); time.Sleep(20 * time.Millisecond) {
		resp, err := loyalty.ListExpiringPoints(ctx, &loyaltyv1.ListExpiringPointsRequest{WithinDays: 40})
		if err == nil && len(resp.GetMembers()) == 1 {
			expiry = resp.GetMembers()[0].GetEarliestExpireTime().AsTime()
		}
		if time.Now().After(deadline) {
			t.Fatalf("loyalty lists no expiring points: %v", err)
		}
	}
	if _, err := out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "points", Journey: smsJourney(
		&promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_POINTS_EXPIRING, Days: 40},
		`{{.ExpiringPoints}} of your {{.Points}} points expire on {{date "2006-01-02" .PointsExpiry}}`)}); err != nil {
		t.Fatal(err)
	}
	got := hook.wait(t, 1)
	want := "42 of your 42 points expire on " + expiry.Format("2006-01-02")
	if len(got) != 1 || got[0]["customer_id"] != "ada" || got[0]["text"] != want {
		t.Errorf("webhook got %v, want one SMS to ada: %q", got, want)
	}
}

// TestHolidayJourneyAudienceEndToEnd runs profile, segmentation and
// promotion: a Christmas journey for the audience stages/new reaches Ada,
// whose first order put her there, and not Bob, a prospect. Promotion's
// clock stands at 19:30 UTC on Christmas Eve until the journey is made,
// then runs 30 minutes a second; the programme's zone is Kiritimati's
// (UTC+14), where 10:00 on Christmas Day is 20:00 UTC on Christmas Eve.
func TestHolidayJourneyAudienceEndToEnd(t *testing.T) {
	var started atomic.Int64 // unix nanoseconds; 0 before the journey
	base := time.Date(2026, 12, 24, 19, 30, 0, 0, time.UTC)
	clock := func() time.Time {
		if s := started.Load(); s != 0 {
			return base.Add(time.Since(time.Unix(0, s)) * 1800)
		}
		return base
	}
	hook := newShopHook(t, clock)
	s := stacktest.Start(t, stacktest.Options{})
	p := s.Add(profileapp.Component(nil))
	seg := s.Add(segmentationapp.Component(nil))
	pr := s.Add(app.Component(func(c *app.Config, d *app.Deps) {
		d.Clock = clock
		c.Outreach.Interval = 20 * time.Millisecond
		c.Outreach.WebhookURL, c.Outreach.WebhookSecret = hook.URL, "hook"
		c.Outreach.QuietHours, c.Outreach.TimeZone = "", "Pacific/Kiritimati"
	}))
	profile := profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
	segs := segmentationv1.NewSegmentationServiceClient(stacktest.Dial(t, seg.Addr()))
	out := promotionv1.NewOutreachServiceClient(stacktest.Dial(t, pr.Addr()))
	for _, c := range []*profilev1.CreateCustomerRequest{smsCustomer("ada", "Ada Lovelace", "", ""), smsCustomer("bob", "Bob Babbage", "", "")} {
		if _, err := profile.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := profile.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{{
		EventId: "o1", CustomerId: "ada", OccurredAt: timestamppb.New(time.Now().Add(-time.Hour)),
		Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o1", Total: gbp(2500)}}}}}); err != nil {
		t.Fatal(err)
	}
	recompute(t, segs)
	journey := smsJourney(&promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_HOLIDAY, LocalMinute: 600,
		Holidays: []*promotionv1.Holiday{{DisplayName: "Christmas", Date: "2026-12-25"}}}, "Merry Christmas, {{.Customer.FirstName}}")
	journey.AudienceFilter = "stages/new"
	started.Store(time.Now().UnixNano())
	if _, err := out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "christmas", Journey: journey}); err != nil {
		t.Fatal(err)
	}
	got := hook.wait(t, 1)
	if len(got) != 1 || got[0]["customer_id"] != "ada" || got[0]["text"] != "Merry Christmas, Ada" {
		t.Errorf("webhook got %v, want one SMS to ada", got)
	}
}

package app_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// operation is a recompute operation as the gateway renders it.
type operation struct {
	Name           string `json:"name"`
	Done           bool   `json:"done"`
	State          string `json:"state"`
	AsOfTime       string `json:"asOfTime"`
	CustomersDone  string `json:"customersDone"`
	CustomersTotal string `json:"customersTotal"`
	ErrorMessage   string `json:"errorMessage"`
}

// scores is CustomerScores as the gateway renders it.
type scores struct {
	Name           string   `json:"name"`
	CustomerID     string   `json:"customerId"`
	Scored         bool     `json:"scored"`
	RecencyDays    string   `json:"recencyDays"`
	Frequency      string   `json:"frequency"`
	Monetary       money    `json:"monetary"`
	RScore         int      `json:"rScore"`
	FScore         int      `json:"fScore"`
	MScore         int      `json:"mScore"`
	RFMSegment     string   `json:"rfmSegment"`
	ValueTier      string   `json:"valueTier"`
	LifecycleStage string   `json:"lifecycleStage"`
	Segments       []string `json:"segments"`
}

type count struct {
	Key       string `json:"key"`
	Customers string `json:"customers"`
}

type report struct {
	Operation       string  `json:"operation"`
	AsOfTime        string  `json:"asOfTime"`
	Customers       string  `json:"customers"`
	ScoredCustomers string  `json:"scoredCustomers"`
	RFMSegments     []count `json:"rfmSegments"`
	ValueTiers      []count `json:"valueTiers"`
	LifecycleStages []count `json:"lifecycleStages"`
	RScores         []count `json:"rScores"`
	FScores         []count `json:"fScores"`
	MScores         []count `json:"mScores"`
	Segments        []count `json:"segments"`
	MonetaryTotal   []money `json:"monetaryTotal"`
}

// shopper is one customer of the segmentation fixture: orders of the same
// amount every 30 days, the last one at last.
type shopper struct {
	id     string
	orders int
	last   time.Time
	amount int64 // pence per order
}

// The fixture as of 2011-12-10T00:00:00Z. Five scored customers with
// distinct R, F and M: W (customers strictly worse) runs 0…4, so with N = 5
// the scores are 1 + floor(5 × W / 5) = W + 1, one customer per score.
var (
	asOf     = time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	shoppers = []shopper{
		// R = 0 (14 h before as of), F 5, M 5 × 100.00 → R5 F5 M5 champions, vip;
		// first order 120 days earlier, last within 90 days → active.
		{"s1", 5, time.Date(2011, 12, 9, 10, 0, 0, 0, time.UTC), 10000},
		// R = 8 (8 days 14 h), F 4, M 320.00 → R4 F4 M4 loyal, vip, active.
		{"s2", 4, time.Date(2011, 12, 1, 10, 0, 0, 0, time.UTC), 8000},
		// R = 38 (Nov 1 10:00 → Dec 10 is 38 days 14 h), F 3, M 180.00 →
		// R3 F3 M3 need_attention, regular, active.
		{"s3", 3, time.Date(2011, 11, 1, 10, 0, 0, 0, time.UTC), 6000},
		// R = 130 (Aug 1 → Dec 1 is 122 days, + 9 days − 10 h), F 2, M 80.00 →
		// R2 F2 M2 hibernating, at_risk, dormant (91–180 days).
		{"s4", 2, time.Date(2011, 8, 1, 10, 0, 0, 0, time.UTC), 4000},
		// R = 342 (Jan 1 → Dec 10 is 343 days − 10 h), F 1, M 20.00 →
		// R1 F1 M1 lost, at_risk, churned.
		{"s5", 1, time.Date(2011, 1, 1, 10, 0, 0, 0, time.UTC), 2000},
	}
)

// orderEvents renders every shopper's orders as a batchRecord body.
func orderEvents() string {
	var evs []string
	for _, sh := range shoppers {
		for k := range sh.orders {
			at := sh.last.AddDate(0, 0, -30*k)
			evs = append(evs, fmt.Sprintf(`{"eventId":"%[1]s-o%[2]d","customerId":"%[1]s","occurredAt":%[3]q,
				"orderPlaced":{"orderId":"%[1]s-%[2]d","channel":"web",
				 "lines":[{"sku":"A","category":"tea","quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"%[4]d"}}],
				 "total":{"currencyCode":"GBP","amountMinor":"%[4]d"}}}`, sh.id, k, at.Format(time.RFC3339), sh.amount))
		}
	}
	return `{"events":[` + strings.Join(evs, ",") + `]}`
}

// waitConsumed blocks until the segmentation service has applied profile's
// log up to seq.
func (s *stack) waitConsumed(t *testing.T, seq int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := s.segmentation.Cursor(ctx)
		if err != nil {
			t.Fatalf("cursor: %v", err)
		}
		if c >= seq {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("segmentation consumed up to %d, want %d", c, seq)
		}
	}
}

// recompute starts a recompute through the gateway and polls the operation
// route until it is done.
func (s *stack) recompute(t *testing.T) operation {
	t.Helper()
	code, b := s.do(t, http.MethodPost, "/v1/segmentation:recompute", strings.NewReader(`{"asOfTime":"2011-12-10T00:00:00Z"}`), nil)
	if code != http.StatusOK {
		t.Fatalf("recompute = %d %s", code, b)
	}
	op := decode[operation](t, b)
	if !strings.HasPrefix(op.Name, "operations/") || op.AsOfTime != "2011-12-10T00:00:00Z" {
		t.Fatalf("recompute returned %s, want an operation as of 2011-12-10", b)
	}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !op.Done {
		if time.Now().After(deadline) {
			t.Fatalf("operation %s not done after 30 s: %+v", op.Name, op)
		}
		<-tick.C
		code, b := s.do(t, http.MethodGet, "/v1/"+op.Name, nil, nil)
		if code != http.StatusOK {
			t.Fatalf("GET /v1/%s = %d %s", op.Name, code, b)
		}
		op = decode[operation](t, b)
	}
	if op.State != "OPERATION_STATE_SUCCEEDED" || op.CustomersDone != op.CustomersTotal {
		t.Fatalf("operation %+v, want succeeded with every customer done", op)
	}
	return op
}

func counts(cs []count) map[string]string {
	m := make(map[string]string, len(cs))
	for _, c := range cs {
		m[c.Key] = c.Customers
	}
	return m
}

// TestSegmentationRoutes drives the segmentation JSON contract through the
// gateway, with the real profile service feeding the real segmentation
// service over its event stream.
// Its length is the tables of steps, each working on the state the ones
// before it left.
func TestSegmentationRoutes(t *testing.T) {
	s := startStack(t, stackOptions{})

	// s1 carries the tag the rule segment asks for; s6 never orders (a prospect).
	for _, c := range []struct{ id, body string }{
		{"s1", `{"fullName":"One","tags":["newsletter"]}`},
		{"s6", `{"fullName":"Six"}`},
	} {
		if code, b := s.do(t, http.MethodPost, "/v1/customers?customerId="+c.id, strings.NewReader(c.body), nil); code != http.StatusOK {
			t.Fatalf("create %s = %d %s", c.id, code, b)
		}
	}
	code, b := s.do(t, http.MethodPost, "/v1/events:batchRecord", strings.NewReader(orderEvents()), nil)
	if code != http.StatusOK {
		t.Fatalf("batchRecord = %d %s", code, b)
	}
	rec := decode[struct {
		AcceptedCount int
		Results       []struct{ Sequence string }
	}](t, b)
	if rec.AcceptedCount != 15 {
		t.Fatalf("accepted %d of 15 orders: %s", rec.AcceptedCount, b)
	}
	var head int64
	for _, r := range rec.Results {
		var seq int64
		fmt.Sscan(r.Sequence, &seq)
		head = max(head, seq)
	}
	s.waitConsumed(t, head)
	first := s.recompute(t)
	if first.CustomersTotal != "6" {
		t.Errorf("recompute scored %s customers, want 6 (five buyers and a prospect)", first.CustomersTotal)
	}

	// Segments: a rule segment, a static one, and a rule that does not compile.
	segSteps := []struct {
		name, method, path, body string
		want                     int
		check                    func(t *testing.T, b []byte)
	}{
		{
			name: "create rule segment", method: http.MethodPost, path: "/v1/segments?segmentId=engaged",
			body: `{"displayName":"Engaged","kind":"SEGMENT_KIND_RULE","rule":"rfm.r_score >= 4 && features.order_count >= 3 && \"newsletter\" in tags"}`,
			want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				seg := decode[struct{ Name, SegmentID, Kind, Rule string }](t, b)
				if seg.Name != "segments/engaged" || seg.SegmentID != "engaged" || seg.Kind != "SEGMENT_KIND_RULE" || !strings.Contains(seg.Rule, "newsletter") {
					t.Errorf("created %s, want rule segment segments/engaged", b)
				}
			},
		},
		{
			name: "create static segment", method: http.MethodPost, path: "/v1/segments?segmentId=hand-picked",
			body: `{"displayName":"Hand picked","kind":"SEGMENT_KIND_STATIC"}`, want: http.StatusOK,
		},
		{
			name: "add static members", method: http.MethodPost, path: "/v1/segments/hand-picked:addMembers",
			body: `{"customerIds":["s5","s3","s6"]}`, want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				if r := decode[struct{ AddedCount, MemberCount string }](t, b); r.AddedCount != "3" || r.MemberCount != "3" {
					t.Errorf("addMembers %s, want 3 added, 3 members", b)
				}
			},
		},
		{
			name: "check membership", method: http.MethodPost, path: "/v1/segments:checkMembership",
			body: `{"customerIds":["s5","s1"],"audiences":["segments/hand-picked","segments/engaged"]}`, want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				// Customer-major: s5's two answers, then s1's. The rule
				// segment is not computed yet: false for everyone.
				r := decode[struct{ Members []bool }](t, b)
				if want := []bool{true, false, false, false}; !slices.Equal(r.Members, want) {
					t.Errorf("checkMembership %s, want members %v", b, want)
				}
			},
		},
		{
			name: "rule that does not compile", method: http.MethodPost, path: "/v1/segments?segmentId=broken",
			body: `{"kind":"SEGMENT_KIND_RULE","rule":"rfm.r_score >= "}`, want: http.StatusBadRequest,
			check: func(t *testing.T, b []byte) {
				st := decode[rpcStatus](t, b)
				if st.Code != 3 || !strings.Contains(st.Message, "line 1, column") {
					t.Errorf("error %s, want INVALID_ARGUMENT naming the position", b)
				}
			},
		},
	}
	for _, st := range segSteps {
		t.Run(st.name, func(t *testing.T) {
			code, b := s.do(t, st.method, st.path, strings.NewReader(st.body), nil)
			if code != st.want {
				t.Fatalf("status = %d, want %d; body %s", code, st.want, b)
			}
			if st.check != nil {
				st.check(t, b)
			}
		})
	}
	// The rule segment gets its members at the next recompute.
	s.recompute(t)

	wantScores := map[string]scores{
		"s1": {RecencyDays: "0", // zero is written out, not omitted
			Frequency: "5", Monetary: money{"GBP", "50000"}, RScore: 5, FScore: 5, MScore: 5,
			RFMSegment: "champions", ValueTier: "vip", LifecycleStage: "active", Segments: []string{"engaged"}},
		"s2": {RecencyDays: "8", Frequency: "4", Monetary: money{"GBP", "32000"}, RScore: 4, FScore: 4, MScore: 4,
			RFMSegment: "loyal", ValueTier: "vip", LifecycleStage: "active"},
		"s3": {RecencyDays: "38", Frequency: "3", Monetary: money{"GBP", "18000"}, RScore: 3, FScore: 3, MScore: 3,
			RFMSegment: "need_attention", ValueTier: "regular", LifecycleStage: "active", Segments: []string{"hand-picked"}},
		"s4": {RecencyDays: "130", Frequency: "2", Monetary: money{"GBP", "8000"}, RScore: 2, FScore: 2, MScore: 2,
			RFMSegment: "hibernating", ValueTier: "at_risk", LifecycleStage: "dormant"},
		"s5": {RecencyDays: "342", Frequency: "1", Monetary: money{"GBP", "2000"}, RScore: 1, FScore: 1, MScore: 1,
			RFMSegment: "lost", ValueTier: "at_risk", LifecycleStage: "churned", Segments: []string{"hand-picked"}},
	}
	for id, want := range wantScores {
		t.Run("scores "+id, func(t *testing.T) {
			code, b := s.do(t, http.MethodGet, "/v1/customers/"+id+"/scores", nil, nil)
			if code != http.StatusOK {
				t.Fatalf("status = %d %s", code, b)
			}
			got := decode[scores](t, b)
			if got.Name != "customers/"+id+"/scores" || got.CustomerID != id || !got.Scored {
				t.Errorf("scores %s, want scored customers/%s/scores", b, id)
			}
			got.Name, got.CustomerID, got.Scored = "", "", false
			if got.RecencyDays != want.RecencyDays || got.Frequency != want.Frequency || got.Monetary != want.Monetary ||
				got.RScore != want.RScore || got.FScore != want.FScore || got.MScore != want.MScore ||
				got.RFMSegment != want.RFMSegment || got.ValueTier != want.ValueTier || got.LifecycleStage != want.LifecycleStage ||
				!slices.Equal(got.Segments, want.Segments) {
				t.Errorf("scores\n got %+v\nwant %+v\nbody %s", got, want, b)
			}
		})
	}
	t.Run("prospect scores", func(t *testing.T) {
		code, b := s.do(t, http.MethodGet, "/v1/customers/s6/scores", nil, nil)
		if code != http.StatusOK {
			t.Fatalf("status = %d %s", code, b)
		}
		got := decode[scores](t, b)
		if got.Scored || got.LifecycleStage != "prospect" || got.RFMSegment != "" || !slices.Equal(got.Segments, []string{"hand-picked"}) {
			t.Errorf("scores %s, want an unscored prospect in hand-picked", b)
		}
	})

	members := []struct {
		path string
		want []string
	}{
		{"/v1/segments/engaged/members", []string{"s1"}},
		{"/v1/segments/hand-picked/members", []string{"s3", "s5", "s6"}},
		{"/v1/tiers/vip/members", []string{"s1", "s2"}},
		{"/v1/stages/active/members", []string{"s1", "s2", "s3"}},
		{"/v1/rfmSegments/lost/members", []string{"s5"}},
	}
	for _, m := range members {
		t.Run("members "+m.path, func(t *testing.T) {
			// Two per page, to exercise paging in customer id order.
			var got []string
			token := ""
			for range 10 {
				code, b := s.do(t, http.MethodGet, m.path+"?pageSize=2&pageToken="+token, nil, nil)
				if code != http.StatusOK {
					t.Fatalf("status = %d %s", code, b)
				}
				page := decode[struct {
					CustomerIDs   []string `json:"customerIds"`
					NextPageToken string   `json:"nextPageToken"`
					TotalSize     string   `json:"totalSize"`
				}](t, b)
				if page.TotalSize != fmt.Sprint(len(m.want)) {
					t.Errorf("totalSize %s, want %d", page.TotalSize, len(m.want))
				}
				got = append(got, page.CustomerIDs...)
				if token = page.NextPageToken; token == "" {
					break
				}
			}
			if !slices.Equal(got, m.want) {
				t.Errorf("members %q, want %q", got, m.want)
			}
		})
	}

	t.Run("report", func(t *testing.T) {
		code, b := s.do(t, http.MethodGet, "/v1/segmentation/report", nil, nil)
		if code != http.StatusOK {
			t.Fatalf("status = %d %s", code, b)
		}
		r := decode[report](t, b)
		if r.Customers != "6" || r.ScoredCustomers != "5" || r.AsOfTime != "2011-12-10T00:00:00Z" {
			t.Errorf("report %s, want 6 customers, 5 scored, as of 2011-12-10", b)
		}
		// Every score 1–5 once; M totals 500 + 320 + 180 + 80 + 20 = 1,100.00.
		one := map[string]string{"1": "1", "2": "1", "3": "1", "4": "1", "5": "1"}
		for name, cs := range map[string][]count{"r": r.RScores, "f": r.FScores, "m": r.MScores} {
			if got := dropZero(counts(cs)); !maps.Equal(got, one) {
				t.Errorf("%s scores %v, want one customer per score", name, got)
			}
		}
		checks := []struct {
			name string
			got  map[string]string
			want map[string]string
		}{
			{"rfm segments", counts(r.RFMSegments), map[string]string{"champions": "1", "loyal": "1", "need_attention": "1", "hibernating": "1", "lost": "1"}},
			{"tiers", counts(r.ValueTiers), map[string]string{"vip": "2", "regular": "1", "at_risk": "2"}},
			{"stages", counts(r.LifecycleStages), map[string]string{"prospect": "1", "active": "3", "dormant": "1", "churned": "1"}},
			{"segments", counts(r.Segments), map[string]string{"engaged": "1", "hand-picked": "3"}},
		}
		for _, c := range checks {
			if !maps.Equal(dropZero(c.got), c.want) {
				t.Errorf("%s %v, want %v", c.name, c.got, c.want)
			}
		}
		if len(r.MonetaryTotal) != 1 || r.MonetaryTotal[0] != (money{"GBP", "110000"}) {
			t.Errorf("monetary total %+v, want GBP 110000", r.MonetaryTotal)
		}
	})
}

// dropZero removes keys counted zero times: a report may list every key.
func dropZero(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != "0" && v != "" {
			out[k] = v
		}
	}
	return out
}

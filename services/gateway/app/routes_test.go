package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"

	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// streamedEvent is one line of the events:stream response.
type streamedEvent struct {
	Result struct {
		Event struct {
			EventID         string                    `json:"eventId"`
			CustomerID      string                    `json:"customerId"`
			Sequence        string                    `json:"sequence"`
			CustomerUpdated *struct{ Tags []string }  `json:"customerUpdated"`
			OrderPlaced     *struct{ OrderID string } `json:"orderPlaced"`
			CustomerErased  *struct {
				AnonymousID string `json:"anonymousId"`
			} `json:"customerErased"`
		} `json:"event"`
	} `json:"result"`
}

// stream reads n events from GET /v1/events:stream after the given
// sequence, then closes the connection (the stream follows the log for
// as long as the client listens).
func (s *stack) stream(t *testing.T, after int64, n int) []streamedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.gateway+"/v1/events:stream?afterSequence="+strconv.FormatInt(after, 10), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("GET /v1/events:stream: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/events:stream = %d", resp.StatusCode)
	}
	var out []streamedEvent
	sc := bufio.NewScanner(resp.Body)
	for len(out) < n && sc.Scan() {
		var ev streamedEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("stream line %s: %v", sc.Bytes(), err)
		}
		out = append(out, ev)
	}
	if len(out) < n {
		t.Fatalf("stream ended after %d events, want %d: %v", len(out), n, sc.Err())
	}
	return out
}

// head returns GET /v1/events:head's headSequence.
func (s *stack) head(t *testing.T) int64 {
	t.Helper()
	code, b := s.do(t, http.MethodGet, "/v1/events:head", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/events:head = %d %s", code, b)
	}
	h := decode[map[string]string](t, b)
	seq, err := strconv.ParseInt(h["headSequence"], 10, 64)
	if err != nil {
		t.Fatalf("events:head %s: headSequence: %v", b, err)
	}
	return seq
}

// TestProfileRoutes covers the profile routes the journey test does not:
// tags, a single event, the log's head and stream, and erasure.
func TestProfileRoutes(t *testing.T) {
	s := startStack(t, stackOptions{})
	if code, b := s.do(t, http.MethodPost, "/v1/customers?customerId=p1",
		strings.NewReader(`{"fullName":"Pat","email":"pat@example.com","tags":["b"]}`), nil); code != http.StatusOK {
		t.Fatalf("create = %d %s", code, b)
	}
	start := s.head(t)
	if start == 0 {
		t.Fatal("events:head = 0 after creating a customer, want its customer_updated event")
	}

	tags := func(path, body string, want []string) {
		t.Helper()
		code, b := s.do(t, http.MethodPost, path, strings.NewReader(body), nil)
		if code != http.StatusOK {
			t.Fatalf("POST %s = %d %s", path, code, b)
		}
		if got := decode[struct{ Customer customer }](t, b).Customer.Tags; !slices.Equal(got, want) {
			t.Errorf("POST %s: tags %v, want %v", path, got, want)
		}
	}
	tags("/v1/customers/p1:addTags", `{"tags":["vip","a"]}`, []string{"a", "b", "vip"})
	tags("/v1/customers/p1:removeTags", `{"tags":["b","absent"]}`, []string{"a", "vip"})

	code, b := s.do(t, http.MethodPost, "/v1/events", strings.NewReader(`{"eventId":"e-1","customerId":"p1","occurredAt":"2011-05-01T09:00:00Z",
		"orderPlaced":{"orderId":"o-1","channel":"app","total":{"currencyCode":"GBP","amountMinor":"1250"},
		 "lines":[{"sku":"S","category":"tea","quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"1250"}}]}}`), nil)
	if code != http.StatusOK {
		t.Fatalf("POST /v1/events = %d %s", code, b)
	}
	res := decode[struct {
		Result struct {
			EventID  string `json:"eventId"`
			Outcome  string `json:"outcome"`
			Sequence string `json:"sequence"`
		} `json:"result"`
	}](t, b).Result
	if res.EventID != "e-1" || res.Outcome != "EVENT_OUTCOME_ACCEPTED" || res.Sequence != strconv.FormatInt(start+3, 10) {
		t.Errorf("POST /v1/events: %s, want e-1 accepted at sequence %d (after two tag changes)", b, start+3)
	}
	if got := s.head(t); got != start+3 {
		t.Errorf("events:head = %d, want %d", got, start+3)
	}
	code, b = s.do(t, http.MethodPost, "/v1/events", strings.NewReader(`{"eventId":"e-1","customerId":"p1","occurredAt":"2011-05-01T09:00:00Z",
		"orderPlaced":{"orderId":"o-1","channel":"app","total":{"currencyCode":"GBP","amountMinor":"1250"}}}`), nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"EVENT_OUTCOME_DUPLICATE"`) {
		t.Errorf("the same event again: %d %s, want a duplicate", code, b)
	}

	evs := s.stream(t, start, 3)
	if e := evs[0].Result.Event; e.CustomerID != "p1" || e.Sequence != strconv.FormatInt(start+1, 10) || e.CustomerUpdated == nil ||
		!slices.Equal(e.CustomerUpdated.Tags, []string{"a", "b", "vip"}) {
		t.Errorf("first streamed event %+v, want p1's customer_updated with tags [a b vip]", e)
	}
	if e := evs[2].Result.Event; e.EventID != "e-1" || e.OrderPlaced == nil || e.OrderPlaced.OrderID != "o-1" {
		t.Errorf("third streamed event %+v, want order e-1", e)
	}

	code, b = s.do(t, http.MethodPost, "/v1/customers/p1:erase", strings.NewReader(`{}`), nil)
	if code != http.StatusOK {
		t.Fatalf("erase = %d %s", code, b)
	}
	erased := decode[struct {
		AnonymousID string `json:"anonymousId"`
		EventCount  string `json:"eventCount"`
	}](t, b)
	if !strings.HasPrefix(erased.AnonymousID, "anon-") || erased.EventCount == "" || erased.EventCount == "0" {
		t.Fatalf("erase: %s, want an anon- id and the events moved", b)
	}
	code, b = s.do(t, http.MethodGet, "/v1/customers/p1", nil, nil)
	if st := decode[rpcStatus](t, b); code != http.StatusNotFound || len(st.Details) == 0 || st.Details[0].Reason != "CUSTOMER_NOT_FOUND" {
		t.Errorf("GET the erased id: %d %s, want 404 CUSTOMER_NOT_FOUND", code, b)
	}
	code, b = s.do(t, http.MethodGet, "/v1/customers/"+erased.AnonymousID, nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET the anonymous id = %d %s", code, b)
	}
	anon := decode[struct {
		Customer map[string]json.RawMessage `json:"customer"`
	}](t, b).Customer
	if string(anon["state"]) != `"CUSTOMER_STATE_ERASED"` || !strings.Contains(string(anon["features"]), `"orderCount":"1"`) {
		t.Errorf("anonymous customer %s, want state CUSTOMER_STATE_ERASED with the order kept in its features", b)
	}
	for f, empty := range map[string]string{"fullName": `""`, "email": `""`, "tags": `[]`} {
		if v, ok := anon[f]; ok && string(v) != empty {
			t.Errorf("anonymous customer keeps %s = %s", f, v)
		}
	}
	last := s.stream(t, start+3, 1)[0].Result.Event
	if last.CustomerID != "p1" || last.CustomerErased == nil || last.CustomerErased.AnonymousID != erased.AnonymousID {
		t.Errorf("streamed after the order: %+v, want p1's customer_erased naming %s", last, erased.AnonymousID)
	}
}

// TestUpdateCustomerWithoutMask calls UpdateCustomer over gRPC without an
// update_mask: the fields set in the request are updated and the others
// are left alone (AIP-134), as a frontend then reads through the gateway.
func TestUpdateCustomerWithoutMask(t *testing.T) {
	s := startStack(t, stackOptions{})
	if code, b := s.do(t, http.MethodPost, "/v1/customers?customerId=u1",
		strings.NewReader(`{"fullName":"Uma","email":"uma@example.com","country":"GB","tags":["t"]}`), nil); code != http.StatusOK {
		t.Fatalf("create = %d %s", code, b)
	}
	pc := profilev1.NewProfileServiceClient(stacktest.Dial(t, s.profileAddr))
	resp, err := pc.UpdateCustomer(context.Background(), &profilev1.UpdateCustomerRequest{Customer: &profilev1.Customer{
		Name: "customers/u1", Email: "uma@new.example", State: profilev1.CustomerState_CUSTOMER_STATE_ERASED}})
	if err != nil {
		t.Fatalf("UpdateCustomer without a mask: %v", err)
	}
	if c := resp.GetCustomer(); c.GetEmail() != "uma@new.example" || c.GetFullName() != "Uma" || c.GetState() != profilev1.CustomerState_CUSTOMER_STATE_ACTIVE {
		t.Errorf("UpdateCustomer = %v, want the new email, the name kept and the output-only state ignored", c)
	}
	// Nothing to update: no mask and no updatable field set.
	_, err = pc.UpdateCustomer(context.Background(), &profilev1.UpdateCustomerRequest{Customer: &profilev1.Customer{Name: "customers/u1"}})
	st := status.Convert(err)
	var reason string
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason = info.GetReason()
		}
	}
	if st.Code() != codes.InvalidArgument || reason == "" || !strings.Contains(st.Message(), "update_mask") {
		t.Errorf("UpdateCustomer with nothing to update: %v (reason %q), want INVALID_ARGUMENT with ErrorInfo naming update_mask", err, reason)
	}
	code, b := s.do(t, http.MethodGet, "/v1/customers/u1", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("get = %d %s", code, b)
	}
	c := decode[struct{ Customer customer }](t, b).Customer
	if c.Email != "uma@new.example" || c.FullName != "Uma" || c.Country != "GB" || !slices.Equal(c.Tags, []string{"t"}) {
		t.Errorf("through the gateway: %+v, want the new email with name, country and tags unchanged", c)
	}
}

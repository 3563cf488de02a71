package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// recommendedItem is a RecommendedItem as the gateway renders it.
type recommendedItem struct {
	SKU        string  `json:"sku"`
	Score      float64 `json:"score"`
	Reason     string  `json:"reason"`
	ReasonKind string  `json:"reasonKind"`
	Source     string  `json:"source"`
}

type recommendations struct {
	Items     []recommendedItem `json:"items"`
	Fallback  bool              `json:"fallback"`
	ModelTime string            `json:"modelTime"`
}

// basketEvents are three orders: x1 and x2 buy A and B, x3 buys A.
const basketEvents = `{"events":[
 {"eventId":"x1","customerId":"x1","occurredAt":"2011-11-01T10:00:00Z","orderPlaced":{"orderId":"x1","lines":[
  {"sku":"A","category":"tea","quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"100"}},
  {"sku":"B","category":"tea","quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"100"}}]}},
 {"eventId":"x2","customerId":"x2","occurredAt":"2011-11-02T10:00:00Z","orderPlaced":{"orderId":"x2","lines":[
  {"sku":"A","category":"tea","quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"100"}},
  {"sku":"B","category":"tea","quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"100"}}]}},
 {"eventId":"x3","customerId":"x3","occurredAt":"2011-11-03T10:00:00Z","orderPlaced":{"orderId":"x3","lines":[
  {"sku":"A","category":"tea","quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"100"}}]}}]}`

// TestRecommendationRoutes reads recommendations, related products and
// the backtest through the gateway.
func TestRecommendationRoutes(t *testing.T) {
	s := startStack(t, stackOptions{})
	code, b := s.do(t, http.MethodPost, "/v1/events:batchRecord", strings.NewReader(basketEvents), nil)
	if code != http.StatusOK {
		t.Fatalf("batchRecord = %d %s", code, b)
	}
	s.waitConsumed(t, s.head(t))
	s.recompute(t)

	code, b = s.do(t, http.MethodGet, "/v1/customers/x3/recommendations?pageSize=1", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("recommendations = %d %s", code, b)
	}
	got := decode[recommendations](t, b)
	if len(got.Items) != 1 || got.Items[0].SKU != "B" || got.Items[0].Reason != "bought with A" ||
		got.Items[0].ReasonKind != "RECOMMENDATION_REASON_BOUGHT_WITH" || got.Fallback || got.ModelTime != "2011-12-10T00:00:00Z" {
		t.Errorf("x3's recommendations: got %s, want B bought with A", b)
	}

	code, b = s.do(t, http.MethodGet, "/v1/customers/nobody/recommendations", nil, nil)
	if got := decode[recommendations](t, b); code != http.StatusOK || !got.Fallback || len(got.Items) != 2 || got.Items[0].SKU != "A" {
		t.Errorf("unknown customer: got %d %s, want the popular items, A first, marked fallback", code, b)
	}

	code, b = s.do(t, http.MethodGet, "/v1/products/A/related", nil, nil)
	if got := decode[recommendations](t, b); code != http.StatusOK || len(got.Items) != 1 || got.Items[0].SKU != "B" {
		t.Errorf("related to A: got %d %s, want B", code, b)
	}

	code, b = s.do(t, http.MethodPost, "/v1/recommendations:evaluate", strings.NewReader(`{"asOfTime":"2011-11-02T12:00:00Z","k":5}`), nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"k":5`) || !strings.Contains(string(b), `"baseline"`) {
		t.Errorf("evaluate = %d %s, want a report for k 5 with the baseline", code, b)
	}

	code, b = s.do(t, http.MethodGet, "/v1/customers/x3/recommendations?pageSize=-1", nil, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(b), "page_size") {
		t.Errorf("pageSize -1 = %d %s, want 400 naming page_size", code, b)
	}
}

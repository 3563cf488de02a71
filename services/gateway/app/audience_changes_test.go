package app_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// audienceChange is an AudienceChange as the gateway renders it.
type audienceChange struct {
	Operation  string `json:"operation"`
	Audience   string `json:"audience"`
	CustomerID string `json:"customerId"`
	Kind       string `json:"kind"`
	AsOfTime   string `json:"asOfTime"`
}

// TestAudienceChangeRoutes lists, over HTTP, who entered and who left the
// lifecycle stages when a churned customer ordered again, page by page,
// and checks the errors of bad requests.
func TestAudienceChangeRoutes(t *testing.T) {
	s := startStack(t, stackOptions{})
	if code, b := s.do(t, http.MethodPost, "/v1/events:batchRecord", strings.NewReader(orderEvents()), nil); code != http.StatusOK {
		t.Fatalf("batchRecord = %d %s", code, b)
	}
	s.waitConsumed(t, s.head(t))
	first := s.recompute(t)
	again := `{"events":[{"eventId":"s5-back","customerId":"s5","occurredAt":"2011-12-09T12:00:00Z",
		"orderPlaced":{"orderId":"s5-back","channel":"web",
		 "lines":[{"sku":"A","category":"tea","quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"2000"}}],
		 "total":{"currencyCode":"GBP","amountMinor":"2000"}}}]}`
	if code, b := s.do(t, http.MethodPost, "/v1/events:batchRecord", strings.NewReader(again), nil); code != http.StatusOK {
		t.Fatalf("batchRecord = %d %s", code, b)
	}
	s.waitConsumed(t, s.head(t))
	second := s.recompute(t)

	list := func(path string) []string {
		t.Helper()
		var out []string
		token := ""
		for range 10 {
			code, b := s.do(t, http.MethodGet, path+"&pageSize=1&pageToken="+token, nil, nil)
			if code != http.StatusOK {
				t.Fatalf("GET %s = %d %s", path, code, b)
			}
			page := decode[struct {
				AudienceChanges []audienceChange `json:"audienceChanges"`
				NextPageToken   string           `json:"nextPageToken"`
			}](t, b)
			for _, c := range page.AudienceChanges {
				if c.AsOfTime != "2011-12-10T00:00:00Z" {
					t.Errorf("change %+v: as of %s, want 2011-12-10T00:00:00Z", c, c.AsOfTime)
				}
				out = append(out, fmt.Sprintf("%s %s %s %s", c.Operation, c.Audience, c.CustomerID, c.Kind))
			}
			if token = page.NextPageToken; token == "" {
				return out
			}
		}
		t.Fatalf("GET %s: more than 10 pages", path)
		return nil
	}
	want := []string{second.Name + " stages/active s5 AUDIENCE_CHANGE_KIND_ENTERED", second.Name + " stages/churned s5 AUDIENCE_CHANGE_KIND_LEFT"}
	stages := "audiences=stages/churned&audiences=stages/active"
	if got := list("/v1/operations/-/audienceChanges?afterOperation=" + first.Name + "&" + stages); !slices.Equal(got, want) {
		t.Errorf("changes after the first recompute: got %q, want %q", got, want)
	}
	if got := list("/v1/" + second.Name + "/audienceChanges?" + stages); !slices.Equal(got, want) {
		t.Errorf("changes of the second recompute: got %q, want %q", got, want)
	}
	if got := list("/v1/" + second.Name + "/audienceChanges?kind=AUDIENCE_CHANGE_KIND_LEFT&" + stages); !slices.Equal(got, want[1:]) {
		t.Errorf("departures of the second recompute: got %q, want %q", got, want[1:])
	}
	if got := list("/v1/" + first.Name + "/audienceChanges?" + stages); len(got) != 0 {
		t.Errorf("the first recompute is the baseline: got %q, want none", got)
	}

	for _, tt := range []struct {
		path   string
		code   int
		reason string
	}{
		{"/v1/operations/-/audienceChanges?audiences=tiers/gold", http.StatusBadRequest, "INVALID_AUDIENCE"},
		{"/v1/operations/nope/audienceChanges", http.StatusNotFound, "OPERATION_NOT_FOUND"},
		{"/v1/operations/-/audienceChanges?pageToken=bogus", http.StatusBadRequest, "INVALID_PAGE_TOKEN"},
	} {
		code, b := s.do(t, http.MethodGet, tt.path, nil, nil)
		if st := decode[rpcStatus](t, b); code != tt.code || len(st.Details) == 0 || st.Details[0].Reason != tt.reason {
			t.Errorf("GET %s = %d %s, want %d with reason %s", tt.path, code, b, tt.code, tt.reason)
		}
	}
}

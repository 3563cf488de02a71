package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// segment is a Segment as the gateway renders it.
type segment struct {
	Name        string `json:"name"`
	SegmentID   string `json:"segmentId"`
	DisplayName string `json:"displayName"`
	Kind        string `json:"kind"`
	Rule        string `json:"rule"`
	MemberCount string `json:"memberCount"`
	Etag        string `json:"etag"`
}

// TestSegmentManagementRoutes covers the segmentation routes the other
// gateway tests do not: listing, updating and deleting segments, removing
// static members, the operations list and the size history.
func TestSegmentManagementRoutes(t *testing.T) {
	s := startStack(t, stackOptions{})
	code, b := s.do(t, http.MethodPost, "/v1/events:batchRecord", strings.NewReader(orderEvents()), nil)
	if code != http.StatusOK {
		t.Fatalf("batchRecord = %d %s", code, b)
	}
	s.waitConsumed(t, s.head(t))
	for _, c := range []struct{ id, body string }{
		{"big", `{"displayName":"Big","kind":"SEGMENT_KIND_RULE","rule":"features.order_count >= 3"}`},
		{"gone", `{"kind":"SEGMENT_KIND_RULE","rule":"true"}`},
		{"picked", `{"displayName":"Picked","kind":"SEGMENT_KIND_STATIC"}`},
	} {
		if code, b := s.do(t, http.MethodPost, "/v1/segments?segmentId="+c.id, strings.NewReader(c.body), nil); code != http.StatusOK {
			t.Fatalf("create %s = %d %s", c.id, code, b)
		}
	}
	if code, b := s.do(t, http.MethodPost, "/v1/segments/picked:addMembers", strings.NewReader(`{"customerIds":["s1","s4","s5"]}`), nil); code != http.StatusOK {
		t.Fatalf("addMembers = %d %s", code, b)
	}
	first := s.recompute(t)

	// Listing, two per page, in id order, with the member counts.
	var listed []segment
	token := ""
	for range 3 {
		code, b := s.do(t, http.MethodGet, "/v1/segments?pageSize=2&pageToken="+token, nil, nil)
		if code != http.StatusOK {
			t.Fatalf("list = %d %s", code, b)
		}
		page := decode[struct {
			Segments      []segment `json:"segments"`
			NextPageToken string    `json:"nextPageToken"`
		}](t, b)
		listed = append(listed, page.Segments...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if len(listed) != 3 {
		t.Fatalf("listed %+v, want big, gone and picked", listed)
	}
	for i, want := range []segment{
		{Name: "segments/big", SegmentID: "big", DisplayName: "Big", Kind: "SEGMENT_KIND_RULE", Rule: "features.order_count >= 3", MemberCount: "3"},
		{Name: "segments/gone", SegmentID: "gone", Kind: "SEGMENT_KIND_RULE", Rule: "true", MemberCount: "5"},
		{Name: "segments/picked", SegmentID: "picked", DisplayName: "Picked", Kind: "SEGMENT_KIND_STATIC", MemberCount: "3"},
	} {
		got := listed[i]
		if got.Etag == "" {
			t.Errorf("listed %s without an etag", got.Name)
		}
		got.Etag = ""
		if got != want {
			t.Errorf("listed %+v, want %+v", got, want)
		}
	}

	// Update one field through the mask; the others stay.
	code, b = s.do(t, http.MethodPatch, "/v1/segments/big?updateMask=rule",
		strings.NewReader(`{"rule":"features.order_count >= 4","displayName":"not in the mask"}`), nil)
	if code != http.StatusOK {
		t.Fatalf("PATCH /v1/segments/big = %d %s", code, b)
	}
	if got := decode[segment](t, b); got.Rule != "features.order_count >= 4" || got.DisplayName != "Big" || got.Etag == listed[0].Etag {
		t.Errorf("PATCH /v1/segments/big: %s, want the new rule, the display name kept and a new etag", b)
	}

	code, b = s.do(t, http.MethodPost, "/v1/segments/picked:removeMembers", strings.NewReader(`{"customerIds":["s4","nobody"]}`), nil)
	if code != http.StatusOK {
		t.Fatalf("removeMembers = %d %s", code, b)
	}
	if r := decode[map[string]string](t, b); r["removedCount"] != "1" || r["memberCount"] != "2" {
		t.Errorf("removeMembers: %s, want removedCount 1 and memberCount 2", b)
	}

	if code, b := s.do(t, http.MethodDelete, "/v1/segments/gone", nil, nil); code != http.StatusOK || strings.TrimSpace(string(b)) != "{}" {
		t.Fatalf("DELETE /v1/segments/gone = %d %s, want 200 {}", code, b)
	}
	code, b = s.do(t, http.MethodGet, "/v1/segments/gone", nil, nil)
	if st := decode[rpcStatus](t, b); code != http.StatusNotFound || len(st.Details) == 0 || st.Details[0].Reason != "SEGMENT_NOT_FOUND" {
		t.Errorf("GET a deleted segment: %d %s, want 404 SEGMENT_NOT_FOUND", code, b)
	}
	second := s.recompute(t)
	code, b = s.do(t, http.MethodGet, "/v1/segments/big/members", nil, nil)
	if got := decode[struct{ CustomerIDs []string }](t, b).CustomerIDs; code != http.StatusOK || !slices.Equal(got, []string{"s1", "s2"}) {
		t.Errorf("big members after the update: %d %s, want s1 and s2 (4 orders or more)", code, b)
	}

	// Operations, newest first, one per page.
	var ops []operation
	token = ""
	for range 3 {
		code, b := s.do(t, http.MethodGet, "/v1/operations?pageSize=1&pageToken="+token, nil, nil)
		if code != http.StatusOK {
			t.Fatalf("GET /v1/operations = %d %s", code, b)
		}
		page := decode[struct {
			Operations    []operation `json:"operations"`
			NextPageToken string      `json:"nextPageToken"`
		}](t, b)
		ops = append(ops, page.Operations...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if len(ops) != 2 || ops[0].Name != second.Name || ops[1].Name != first.Name ||
		ops[0].State != "OPERATION_STATE_SUCCEEDED" || ops[1].CustomersTotal != "5" {
		t.Errorf("operations %+v, want %s then %s, succeeded, 5 customers", ops, second.Name, first.Name)
	}

	// Size history: each audience's size at each recompute, oldest first.
	code, b = s.do(t, http.MethodGet, "/v1/segmentation/history?audiences=segments/big&audiences=segments/picked", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/segmentation/history = %d %s", code, b)
	}
	hist := decode[struct {
		Series []struct {
			Audience string `json:"audience"`
			Points   []struct {
				Operation string `json:"operation"`
				AsOfTime  string `json:"asOfTime"`
				Size      string `json:"size"`
			} `json:"points"`
		} `json:"series"`
	}](t, b)
	want := map[string][]string{"segments/big": {"3", "2"}, "segments/picked": {"3", "2"}}
	if len(hist.Series) != len(want) {
		t.Fatalf("history %s, want two series", b)
	}
	for _, sr := range hist.Series {
		var sizes []string
		for i, p := range sr.Points {
			sizes = append(sizes, p.Size)
			if wantOp := []string{first.Name, second.Name}[min(i, 1)]; p.Operation != wantOp || p.AsOfTime != "2011-12-10T00:00:00Z" {
				t.Errorf("%s point %d: %+v, want %s as of 2011-12-10", sr.Audience, i, p, wantOp)
			}
		}
		if !slices.Equal(sizes, want[sr.Audience]) {
			t.Errorf("%s sizes %v, want %v", sr.Audience, sizes, want[sr.Audience])
		}
	}
}

package segmentation

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/paging"
)

func TestPlanPage(t *testing.T) {
	f1, f2 := &Features{OrderCount: 1}, &Features{OrderCount: 2}
	tests := []struct {
		name   string
		events []StreamEvent
		want   []Mutation
	}{
		{"empty", nil, nil},
		{"activity without features creates", []StreamEvent{{CustomerID: "a"}}, []Mutation{{Kind: MutationUpsert, ID: "a"}}},
		{"latest features win", []StreamEvent{{CustomerID: "a", Features: f1}, {CustomerID: "a", Features: f2}, {CustomerID: "a"}},
			[]Mutation{{Kind: MutationUpsert, ID: "a", Features: f2}}},
		{"tags and features merge", []StreamEvent{{CustomerID: "a", Kind: EventCustomerUpdated, Tags: []string{"x"}}, {CustomerID: "a", Features: f1}},
			[]Mutation{{Kind: MutationUpsert, ID: "a", Features: f1, Tags: []string{"x"}, SetTags: true}}},
		{"delete breaks merging", []StreamEvent{{CustomerID: "a", Features: f1}, {CustomerID: "a", Kind: EventCustomerDeleted}, {CustomerID: "a"}},
			[]Mutation{{Kind: MutationUpsert, ID: "a", Features: f1}, {Kind: MutationDelete, ID: "a"}, {Kind: MutationUpsert, ID: "a"}}},
		{"erase re-keys in order", []StreamEvent{{CustomerID: "a", Features: f1}, {CustomerID: "b"}, {CustomerID: "a", Kind: EventCustomerErased, AnonymousID: "anon"}, {CustomerID: "anon", Features: f2}, {CustomerID: "b", Features: f2}},
			[]Mutation{{Kind: MutationUpsert, ID: "a", Features: f1}, {Kind: MutationUpsert, ID: "b", Features: f2}, {Kind: MutationRekey, ID: "a", NewID: "anon"}, {Kind: MutationUpsert, ID: "anon", Features: f2}}},
		{"erase without anonymous id is ignored", []StreamEvent{{CustomerID: "a", Kind: EventCustomerErased}}, nil},
		{"no customer id is ignored", []StreamEvent{{Features: f1}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlanPage(tt.events); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PlanPage = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestMergeSettings(t *testing.T) {
	cur := DefaultSettings()
	upd := Settings{Lifecycle: Lifecycle{NewDays: 7, ActiveDays: 60, DormantDays: 120}, Method: MethodFixedThresholds}
	tests := []struct {
		paths   []string
		check   func(s Settings) bool
		wantErr error
	}{
		{[]string{"lifecycle.new_days"}, func(s Settings) bool { return s.Lifecycle == Lifecycle{7, 90, 180} && len(s.Tiers) == 11 }, nil},
		{[]string{"lifecycle"}, func(s Settings) bool { return s.Lifecycle == upd.Lifecycle && s.Method == MethodQuintile }, nil},
		{[]string{"scoring_method"}, func(s Settings) bool { return s.Method == MethodFixedThresholds }, nil},
		{nil, func(s Settings) bool { return reflect.DeepEqual(s, upd) }, nil},
		{[]string{"*"}, func(s Settings) bool { return reflect.DeepEqual(s, upd) }, nil},
		{[]string{"*", "tier_map"}, nil, fielderr.ErrInvalidArgument},
		{[]string{"colour"}, nil, fielderr.ErrInvalidArgument},
		{[]string{"tier_map.kings"}, nil, fielderr.ErrInvalidArgument},
		// upd has no tier map: the entry goes, and Validate reports it.
		{[]string{"tier_map.loyal"}, func(s Settings) bool { _, ok := s.Tiers[SegmentLoyal]; return !ok && len(s.Tiers) == 10 }, nil},
		{[]string{"tier_map"}, func(s Settings) bool { return len(s.Tiers) == 0 }, nil},
	}
	one := Settings{Tiers: TierMap{SegmentLoyal: TierRegular, SegmentLost: TierVIP}}
	got, err := MergeSettings(cur, one, []string{"tier_map.loyal"})
	if err != nil || got.Tiers[SegmentLoyal] != TierRegular || got.Tiers[SegmentLost] != TierAtRisk || len(got.Tiers) != 11 {
		t.Errorf("MergeSettings(tier_map.loyal) = %v, %v; want only loyal → regular", got.Tiers, err)
	}
	if cur.Tiers[SegmentLoyal] != TierVIP {
		t.Error("MergeSettings changed cur")
	}
	for _, tt := range tests {
		got, err := MergeSettings(cur, upd, tt.paths)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("MergeSettings(%v) error = %v, want %v", tt.paths, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !tt.check(got) {
			t.Errorf("MergeSettings(%v) = %+v, %v", tt.paths, got, err)
		}
	}
}

func TestParseAudience(t *testing.T) {
	tests := []struct {
		name string
		want Audience
		ok   bool
	}{
		{"segments/high-value", Audience{AudienceSegment, "high-value"}, true},
		{"tiers/vip", Audience{AudienceTier, "vip"}, true},
		{"stages/prospect", Audience{AudienceStage, "prospect"}, true},
		{"rfmSegments/cant_lose", Audience{AudienceRFMSegment, "cant_lose"}, true},
		{"tiers/gold", Audience{}, false},
		{"segments/Bad", Audience{}, false},
		{"segments/", Audience{}, false},
		{"groups/x", Audience{}, false},
		{"vip", Audience{}, false},
	}
	for _, tt := range tests {
		got, err := ParseAudience(tt.name)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseAudience(%q) = %+v, %v", tt.name, got, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidAudience) {
			t.Errorf("ParseAudience(%q) error %v does not wrap ErrInvalidAudience", tt.name, err)
		}
		if err == nil && got.String() != tt.name {
			t.Errorf("String() = %q, want %q", got.String(), tt.name)
		}
	}
}

func TestValidateSegmentID(t *testing.T) {
	long := "a"
	for len(long) < 64 {
		long += "b"
	}
	for id, ok := range map[string]bool{"a": true, "vip-2025": true, "a-": true, "": false, "1a": false, "-a": false, "A": false, "a_b": false, long: false, long[:63]: true} {
		if err := ValidateSegmentID(id); (err == nil) != ok {
			t.Errorf("ValidateSegmentID(%q) = %v, want ok %v", id, err, ok)
		}
	}
}

func TestPageTokens(t *testing.T) {
	members := paging.For("ListMembers").With("parent", "tiers/vip")
	first, err := ParsePage(MemberPages, 0, "", members)
	if err != nil {
		t.Fatal(err)
	}
	tok := first.Next("cust-1")
	if got, err := ParsePage(MemberPages, 0, tok, members); err != nil || got.After != "cust-1" {
		t.Errorf("round trip = %q, %v", got.After, err)
	}
	ops, _ := ParsePage(OperationPages, 0, "", paging.For("ListOperations"))
	otherParent, _ := ParsePage(MemberPages, 0, "", paging.For("ListMembers").With("parent", "tiers/at_risk"))
	for _, bad := range []string{"!!", ops.Next("x"), otherParent.Next("cust-1"), first.Next("")} {
		_, err := ParsePage(MemberPages, 0, bad, members)
		var fe *paging.Error
		if !errors.Is(err, ErrInvalidPageToken) || !errors.As(err, &fe) || fe.Field() != "page_token" {
			t.Errorf("ParsePage(token %q) = %v, want ErrInvalidPageToken naming page_token", bad, err)
		}
	}
	if got, err := ParsePage(MemberPages, 0, "", members); got.After != "" || err != nil {
		t.Errorf("empty token = %q, %v", got.After, err)
	}
}

func TestPageSize(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{0, 50}, {10, 10}, {900, 500}} {
		if got, err := ParsePage(SegmentPages, tt.in, "", paging.For("ListSegments")); err != nil || got.Size != tt.want {
			t.Errorf("PageSize(%d) = %d, %v; want %d", tt.in, got.Size, err, tt.want)
		}
	}
	_, err := ParsePage(SegmentPages, -1, "", paging.For("ListSegments"))
	var fe *fielderr.Error
	if !errors.Is(err, fielderr.ErrInvalidArgument) || !errors.As(err, &fe) || fe.Field() != "page_size" {
		t.Errorf("PageSize(-1) = %v, want ErrInvalidArgument naming page_size", err)
	}
}

// TestMutationForgets: deletes and re-keys (erasures) forget a customer,
// upserts do not.
func TestMutationForgets(t *testing.T) {
	for kind, want := range map[MutationKind]bool{MutationUpsert: false, MutationDelete: true, MutationRekey: true} {
		if got := (Mutation{Kind: kind, ID: "c1"}).Forgets(); got != want {
			t.Errorf("Mutation{Kind: %d}.Forgets() = %v, want %v", kind, got, want)
		}
	}
}

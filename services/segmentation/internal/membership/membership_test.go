package membership

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

func result(t segmentation.Tier, st segmentation.Stage, sg segmentation.Segment) *segmentation.Result {
	return &segmentation.Result{Tier: t, Stage: st, Segment: sg}
}

// smallSnapshot: customers added out of order; rule segments "a" and "b".
func smallSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	b := NewBuilder([]string{"a", "b"})
	b.Add("c3", result(segmentation.TierVIP, segmentation.StageActive, segmentation.SegmentChampions), []bool{true, false})
	b.Add("c1", result(segmentation.TierNone, segmentation.StageProspect, segmentation.SegmentNone), []bool{false, false})
	b.Add("c2", result(segmentation.TierVIP, segmentation.StageNew, segmentation.SegmentNewCustomer), []bool{true, true})
	b.Add("c4", result(segmentation.TierAtRisk, segmentation.StageDormant, segmentation.SegmentAtRisk), []bool{false, true})
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheck(t *testing.T) {
	s := smallSnapshot(t)
	tests := []struct {
		name      string
		customers []string
		audiences []string
		want      [][]bool
		wantErr   error
	}{
		{"rule segments", []string{"c1", "c2", "c3", "c4"}, []string{"segments/a", "segments/b"},
			[][]bool{{false, false}, {true, true}, {true, false}, {false, true}}, nil},
		{"tier stage rfm", []string{"c2", "c1"}, []string{"tiers/vip", "stages/new", "stages/prospect", "rfmSegments/new_customer", "tiers/at_risk"},
			[][]bool{{true, true, false, true, false}, {false, false, true, false, false}}, nil},
		{"unknown customer", []string{"nope"}, []string{"segments/a", "tiers/vip"}, [][]bool{{false, false}}, nil},
		{"empty audience list", []string{"c1"}, nil, [][]bool{{}}, nil},
		{"unknown audience", []string{"c1"}, []string{"segments/zzz"}, nil, ErrUnknownAudience},
		{"tier none is no audience", []string{"c1"}, []string{"tiers/"}, nil, ErrUnknownAudience},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Check(tt.customers, tt.audiences)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check: got error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if want := slices.Concat(tt.want...); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Check: got %v, want %v", got, tt.want)
			}
			for i, row := range tt.want {
				for j, w := range row {
					if c := s.Contains(tt.customers[i], tt.audiences[j]); c != w {
						t.Errorf("Contains(%s, %s): got %v, want %v", tt.customers[i], tt.audiences[j], c, w)
					}
				}
			}
		})
	}
}

func TestSizesAndAudiences(t *testing.T) {
	s := smallSnapshot(t)
	if got := len(s.Audiences()); got != 4+5+11+2 {
		t.Errorf("len(Audiences()): got %d, want %d", got, 22)
	}
	if !slices.IsSorted(s.Audiences()) {
		t.Errorf("Audiences not sorted: %v", s.Audiences())
	}
	sizes := map[string]int{"segments/a": 2, "segments/b": 2, "tiers/vip": 2, "tiers/potential": 0, "stages/prospect": 1, "rfmSegments/lost": 0}
	for a, want := range sizes {
		got, err := s.Size(a)
		if err != nil || got != want {
			t.Errorf("Size(%s): got %d, %v, want %d", a, got, err, want)
		}
	}
	if _, err := s.Size("segments/none"); !errors.Is(err, ErrUnknownAudience) {
		t.Errorf("Size(unknown): got %v, want ErrUnknownAudience", err)
	}
	if got, want := s.AudiencesOf("c2"), []string{"rfmSegments/new_customer", "segments/a", "segments/b", "stages/new", "tiers/vip"}; !slices.Equal(got, want) {
		t.Errorf("AudiencesOf(c2): got %v, want %v", got, want)
	}
	if got := s.AudiencesOf("nope"); len(got) != 0 {
		t.Errorf("AudiencesOf(nope): got %v, want none", got)
	}
}

func TestDuplicateCustomer(t *testing.T) {
	b := NewBuilder(nil)
	r := result(segmentation.TierVIP, segmentation.StageActive, segmentation.SegmentLoyal)
	b.Add("x", r, nil)
	b.Add("y", r, nil)
	b.Add("x", r, nil)
	if _, err := b.Build(); !errors.Is(err, ErrDuplicateCustomer) {
		t.Fatalf("Build: got %v, want ErrDuplicateCustomer", err)
	}
}

// pages collects every page of Members with the given limit.
func pages(t *testing.T, s *Snapshot, aud string, limit int) [][]string {
	t.Helper()
	var out [][]string
	after := ""
	for range 1000 {
		ids, next, err := s.Members(aud, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ids)
		if next == "" {
			return out
		}
		after = next
	}
	t.Fatal("Members never ended")
	return nil
}

func TestMembersPaging(t *testing.T) {
	// 300 customers so pages cross bitset words; every third is in "s".
	b := NewBuilder([]string{"s"})
	var want []string
	r := result(segmentation.TierRegular, segmentation.StageActive, segmentation.SegmentLoyal)
	for i := 299; i >= 0; i-- {
		id := fmt.Sprintf("c%03d", i)
		b.Add(id, r, []bool{i%3 == 0})
		if i%3 == 0 {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	static := s.WithStatic("st", []string{"z9", "a1", "m5", "a1", "zz-not-scored"})
	tests := []struct {
		name     string
		snap     *Snapshot
		audience string
		limit    int
		want     []string
	}{
		{"bitset limit 7", s, "segments/s", 7, want},
		{"bitset limit 1", s, "segments/s", 1, want},
		{"bitset exact", s, "segments/s", 100, want},
		{"bitset one page", s, "segments/s", 1000, want},
		{"empty", s, "tiers/vip", 10, nil},
		{"static", static, "segments/st", 2, []string{"a1", "m5", "z9", "zz-not-scored"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for i, p := range pages(t, tt.snap, tt.audience, tt.limit) {
				if len(p) > tt.limit {
					t.Errorf("page %d: %d ids, limit %d", i, len(p), tt.limit)
				}
				got = append(got, p...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("members: got %v, want %v", got, tt.want)
			}
		})
	}
	// Paging after an id that is not a member (or not a customer).
	ids, _, err := s.Members("segments/s", "c001", 2)
	if err != nil || !slices.Equal(ids, []string{"c003", "c006"}) {
		t.Errorf("Members after c001: got %v, %v", ids, err)
	}
	ids, _, _ = s.Members("segments/s", "c0015", 1)
	if !slices.Equal(ids, []string{"c003"}) {
		t.Errorf("Members after c0015: got %v", ids)
	}
	if _, _, err := s.Members("segments/nope", "", 1); !errors.Is(err, ErrUnknownAudience) {
		t.Errorf("Members(unknown): got %v", err)
	}
	if _, _, err := s.Members("segments/s", "", 0); err == nil {
		t.Error("Members(limit 0): got nil error")
	}
}

func TestWithStatic(t *testing.T) {
	s := smallSnapshot(t)
	st := s.WithStatic("vipList", []string{"c1", "outsider"})
	got, err := st.Check([]string{"c1", "c2", "outsider", "nobody"}, []string{"segments/vipList", "segments/a"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[true false false true true false false false]"; fmt.Sprint(got) != want {
		t.Errorf("Check: got %v, want %v", got, want)
	}
	if n, _ := st.Size("segments/vipList"); n != 2 {
		t.Errorf("Size: got %d, want 2", n)
	}
	if got := st.AudiencesOf("outsider"); !slices.Equal(got, []string{"segments/vipList"}) {
		t.Errorf("AudiencesOf(outsider): got %v", got)
	}
	// The original is unchanged.
	if s.Contains("c1", "segments/vipList") {
		t.Error("WithStatic changed the original snapshot")
	}
	// Replacing members.
	st2 := st.WithStatic("vipList", []string{"c2"})
	if st2.Contains("c1", "segments/vipList") || !st2.Contains("c2", "segments/vipList") {
		t.Error("WithStatic did not replace the members")
	}
	// Removing.
	gone := st2.Without("segments/vipList")
	if _, err := gone.Size("segments/vipList"); !errors.Is(err, ErrUnknownAudience) {
		t.Errorf("after Without: got %v, want ErrUnknownAudience", err)
	}
	if gone.Without("segments/vipList") != gone {
		t.Error("Without(absent) should return the same snapshot")
	}
}

func TestHolder(t *testing.T) {
	var h Holder
	if h.Load() == nil || h.Load().Customers() != 0 {
		t.Fatal("zero Holder: want an empty snapshot")
	}
	if _, err := h.Load().Size("tiers/vip"); err != nil {
		t.Errorf("empty snapshot: %v", err)
	}
	s := smallSnapshot(t)
	h.Store(s)
	n := h.Update(func(cur *Snapshot) *Snapshot { return cur.WithStatic("x", []string{"c1"}) })
	if h.Load() != n || !n.Contains("c1", "segments/x") || n.Customers() != 4 {
		t.Error("Update did not install the derived snapshot")
	}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 50 {
				h.Update(func(cur *Snapshot) *Snapshot { return cur.WithStatic(fmt.Sprintf("g%d-%d", g, i), nil) })
				_ = h.Load().Contains("c1", "segments/x")
			}
		}()
	}
	for range 4 {
		<-done
	}
	if got := len(h.Load().Audiences()); got != 23+200 {
		t.Errorf("after concurrent updates: %d audiences, want %d", got, 223)
	}
}

// TestMatchesNaive compares a random snapshot against a plain map.
func TestMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, nRules = 5000, 70 // more than 64 rules: two words of rule bits
	ruleIDs := make([]string, nRules)
	for i := range ruleIDs {
		ruleIDs[i] = fmt.Sprintf("r%d", i)
	}
	b := NewBuilder(ruleIDs)
	truth := map[string]map[string]bool{}
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%x", rng.Uint64()) + fmt.Sprint(i)
		if i%7 == 0 { // ids of 128 bytes or more have a two-byte length
			id += strings.Repeat("x", 120+i%60)
		}
		ids = append(ids, id)
		r := result(segmentation.Tier(rng.IntN(5)), segmentation.Stage(1+rng.IntN(5)), segmentation.Segment(rng.IntN(12)))
		in := make([]bool, nRules)
		m := map[string]bool{}
		for j := range in {
			in[j] = rng.IntN(3) == 0
			m[segmentation.SegmentAudience(ruleIDs[j])] = in[j]
		}
		m[segmentation.TierAudience(r.Tier)] = r.Tier != segmentation.TierNone
		m[segmentation.StageAudience(r.Stage)] = true
		m[segmentation.RFMSegmentAudience(r.Segment)] = r.Segment != segmentation.SegmentNone
		truth[id] = m
		b.Add(id, r, in)
	}
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	auds := s.Audiences()
	got, err := s.Check(append(ids, "missing"), auds)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != (n+1)*len(auds) {
		t.Fatalf("Check: got %d answers, want %d", len(got), (n+1)*len(auds))
	}
	sizes := map[string]int{}
	for i, id := range ids {
		for j, a := range auds {
			if g := got[i*len(auds)+j]; g != truth[id][a] {
				t.Fatalf("customer %s audience %s: got %v, want %v", id, a, g, truth[id][a])
			}
			if truth[id][a] {
				sizes[a]++
			}
		}
	}
	for j := range auds {
		if got[n*len(auds)+j] {
			t.Fatalf("missing customer in %s", auds[j])
		}
		if sz, _ := s.Size(auds[j]); sz != sizes[auds[j]] {
			t.Errorf("Size(%s): got %d, want %d", auds[j], sz, sizes[auds[j]])
		}
	}
}

package segmentation

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func scoresOf(results []Result, d dimension) []uint8 {
	out := make([]uint8, len(results))
	for i := range results {
		switch d {
		case dimR:
			out[i] = results[i].RScore
		case dimF:
			out[i] = results[i].FScore
		default:
			out[i] = results[i].MScore
		}
	}
	return out
}

// TestQuintileHandWorked checks populations worked out by hand from
// score = 1 + floor(5 × W / N).
func TestQuintileHandWorked(t *testing.T) {
	tests := []struct {
		name   string
		dim    dimension
		values []int64 // recency days for dimR, else frequency or monetary
		want   []uint8
	}{
		{"one customer", dimF, []int64{3}, []uint8{1}},
		{"five distinct", dimF, []int64{1, 2, 3, 4, 5}, []uint8{1, 2, 3, 4, 5}},
		{"five distinct shuffled", dimF, []int64{4, 1, 5, 3, 2}, []uint8{4, 1, 5, 3, 2}},
		// W = 0, 1, 2 → 1+0, 1+floor(5/3), 1+floor(10/3).
		{"three distinct", dimF, []int64{7, 8, 9}, []uint8{1, 2, 4}},
		// W: 1→0, 2→3, 3→5, 4→6, 5→8, 9→9; 5W/10 floors to 0,1,2,3,4,4.
		{"ten with ties", dimF, []int64{1, 1, 1, 2, 2, 3, 4, 4, 5, 9}, []uint8{1, 1, 1, 2, 2, 3, 4, 4, 5, 5}},
		{"all equal", dimF, []int64{2, 2, 2, 2}, []uint8{1, 1, 1, 1}},
		// More days is worse: 400 has W=0, 50 W=1, 10 W=2, 0 W=4.
		{"recency reversed", dimR, []int64{0, 10, 10, 50, 400}, []uint8{5, 3, 3, 2, 1}},
		{"recency all equal", dimR, []int64{30, 30, 30}, []uint8{1, 1, 1}},
		// W: -500→0, 0→1, 100→3; 5W/4 floors to 0, 1, 3.
		{"monetary with negatives", dimM, []int64{-500, 0, 0, 100}, []uint8{1, 2, 2, 4}},
		{"monetary extremes", dimM, []int64{-1 << 63, 1<<63 - 1}, []uint8{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := make([]customer, len(tt.values))
			for i, v := range tt.values {
				cs[i] = customer{recencyDays: 1, frequency: 1, monetary: 1}
				switch tt.dim {
				case dimR:
					cs[i].recencyDays = v
				case dimF:
					cs[i].frequency = v
				default:
					cs[i].monetary = v
				}
			}
			res, err := Score(testAsOf, inputsFor(cs), DefaultSettings())
			if err != nil {
				t.Fatal(err)
			}
			if got := scoresOf(res, tt.dim); !slices.Equal(got, tt.want) {
				t.Errorf("scores = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestScoreValues(t *testing.T) {
	last := testAsOf.Add(-(12*day + 23*time.Hour + 59*time.Minute))
	in := []Input{
		{CustomerID: "a", FirstOrder: last.Add(-100 * day), LastOrder: last, OrderCount: 4, NetSpendMinor: 12345},
		{CustomerID: "future", FirstOrder: testAsOf.Add(-day), LastOrder: testAsOf.Add(3 * time.Hour), OrderCount: 2, NetSpendMinor: 10},
		{CustomerID: "p", NetSpendMinor: 99}, // no orders: a prospect whatever the spend says
	}
	res, err := Score(testAsOf, in, DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{
		// W: R 0 (12 days is worse than 0), F 1, M 1 with N = 2.
		{CustomerID: "a", Scored: true, RecencyDays: 12, Frequency: 4, Monetary: 12345, RScore: 1, FScore: 3, MScore: 3,
			Segment: SegmentAtRisk, Tier: TierAtRisk, Stage: StageActive}, // first order 112 days ago, last 12
		{CustomerID: "future", Scored: true, RecencyDays: 0, Frequency: 2, Monetary: 10, RScore: 3, FScore: 1, MScore: 1,
			Segment: SegmentAboutToSleep, Tier: TierAtRisk, Stage: StageNew},
		{CustomerID: "p", Stage: StageProspect},
	}
	if !slices.Equal(res, want) {
		t.Errorf("results:\n got %+v\nwant %+v", res, want)
	}
}

func TestProspectsAreNotScored(t *testing.T) {
	in := inputsFor([]customer{{1, 1, 10}, {2, 2, 20}, {3, 3, 30}, {4, 4, 40}, {5, 5, 50}})
	in = slices.Insert(in, 2, Input{CustomerID: "p1"}, Input{CustomerID: "p2"})
	res, err := Score(testAsOf, in, DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	// N = 5, not 7: the five with orders still get 5..1 for R and 1..5 for F and M.
	if got, want := scoresOf(res, dimF), []uint8{1, 2, 0, 0, 3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("F scores = %v, want %v", got, want)
	}
	if got, want := scoresOf(res, dimR), []uint8{5, 4, 0, 0, 3, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("R scores = %v, want %v", got, want)
	}
	for _, r := range res[2:4] {
		if r.Scored || r.Segment != SegmentNone || r.Tier != TierNone || r.Stage != StageProspect {
			t.Errorf("prospect %s = %+v, want unscored prospect", r.CustomerID, r)
		}
	}
}

func TestScoreEmpty(t *testing.T) {
	res, err := Score(testAsOf, nil, DefaultSettings())
	if err != nil || len(res) != 0 {
		t.Errorf("Score(nil) = %v, %v, want empty, nil", res, err)
	}
	res, err = Score(testAsOf, []Input{{CustomerID: "p"}}, DefaultSettings())
	if err != nil || len(res) != 1 || res[0].Stage != StageProspect {
		t.Errorf("Score(one prospect) = %+v, %v, want one prospect", res, err)
	}
}

// bruteScore is the rule taken literally: count strictly worse values.
func bruteScore(keys []int64, i int) uint8 {
	w := 0
	for _, k := range keys {
		if k < keys[i] {
			w++
		}
	}
	return uint8(1 + 5*w/len(keys))
}

func TestQuintileMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 200 {
		n := 1 + rng.IntN(300)
		// Small ranges give many ties, large ones mostly distinct values.
		spread := []int64{1, 3, 10, 1000, 1 << 40}[trial%5]
		cs := make([]customer, n)
		for i := range cs {
			cs[i] = customer{
				recencyDays: rng.Int64N(spread),
				frequency:   1 + rng.Int64N(spread),
				monetary:    rng.Int64N(2*spread) - spread,
			}
			if trial%10 == 9 {
				cs[i].monetary = int64(rng.Uint64()) // the whole int64 range
			}
		}
		res, err := Score(testAsOf, inputsFor(cs), DefaultSettings())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []dimension{dimR, dimF, dimM} {
			keys := make([]int64, n)
			for i := range res {
				keys[i] = d.key(&res[i])
			}
			got := scoresOf(res, d)
			for i := range res {
				if want := bruteScore(keys, i); got[i] != want {
					t.Fatalf("trial %d (n=%d, spread=%d) dimension %d customer %d: score %d, want %d", trial, n, spread, d, i, got[i], want)
				}
			}
		}
	}
}

// TestQuintileBucketSizes: with distinct values every score holds N/5
// customers, give or take one.
func TestQuintileBucketSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, n := range []int{1, 2, 4, 5, 6, 9, 10, 11, 99, 100, 101, 1234, 5003} {
		cs := make([]customer, n)
		rs, fs, ms := rng.Perm(n), rng.Perm(n), rng.Perm(n)
		for i := range cs {
			cs[i] = customer{int64(rs[i]), int64(fs[i]) + 1, int64(ms[i])*7 - 1000}
		}
		res, err := Score(testAsOf, inputsFor(cs), DefaultSettings())
		if err != nil {
			t.Fatal(err)
		}
		d := Distribute(res)
		for name, counts := range map[string][6]int{"R": d.R, "F": d.F, "M": d.M} {
			for s := 1; s <= 5; s++ {
				if lo, hi := n/5, (n+4)/5; counts[s] < lo || counts[s] > hi {
					t.Errorf("n=%d: %s score %d holds %d customers, want %d..%d", n, name, s, counts[s], lo, hi)
				}
			}
		}
	}
}

func TestScoreInputErrors(t *testing.T) {
	good := inputsFor([]customer{{1, 1, 1}})[0]
	tests := []struct {
		name   string
		asOf   time.Time
		mutate func(*Input)
	}{
		{"zero as_of", time.Time{}, func(*Input) {}},
		{"negative order count", testAsOf, func(in *Input) { in.OrderCount = -1 }},
		{"orders without last order", testAsOf, func(in *Input) { in.LastOrder = time.Time{} }},
		{"orders without first order", testAsOf, func(in *Input) { in.FirstOrder = time.Time{} }},
		{"last before first", testAsOf, func(in *Input) { in.FirstOrder = in.LastOrder.Add(time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			tt.mutate(&in)
			_, err := Score(tt.asOf, []Input{in}, DefaultSettings())
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
	t.Run("invalid settings", func(t *testing.T) {
		s := DefaultSettings()
		s.Tiers = nil
		if _, err := Score(testAsOf, []Input{good}, s); !errors.Is(err, ErrInvalidSettings) {
			t.Errorf("err = %v, want ErrInvalidSettings", err)
		}
	})
}

func TestFixedThresholds(t *testing.T) {
	s := DefaultSettings()
	s.Method = MethodFixedThresholds
	s.Thresholds = Thresholds{
		Recency:   [4]int64{7, 30, 90, 180},
		Frequency: [4]int64{2, 3, 5, 10},
		Monetary:  [4]int64{0, 1000, 5000, 20000},
	}
	tests := []struct {
		c       customer
		r, f, m uint8
	}{
		{customer{0, 1, -1}, 5, 1, 1},
		{customer{7, 2, 0}, 5, 2, 2},
		{customer{8, 4, 999}, 4, 3, 2},
		{customer{30, 5, 1000}, 4, 4, 3},
		{customer{31, 9, 4999}, 3, 4, 3},
		{customer{90, 10, 5000}, 3, 5, 4},
		{customer{91, 11, 19999}, 2, 5, 4},
		{customer{180, 100, 20000}, 2, 5, 5},
		{customer{181, 1, 1 << 40}, 1, 1, 5},
	}
	cs := make([]customer, len(tests))
	for i, tt := range tests {
		cs[i] = tt.c
	}
	res, err := Score(testAsOf, inputsFor(cs), s)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		got := res[i]
		if got.RScore != tt.r || got.FScore != tt.f || got.MScore != tt.m {
			t.Errorf("%+v: scores R%d F%d M%d, want R%d F%d M%d", tt.c, got.RScore, got.FScore, got.MScore, tt.r, tt.f, tt.m)
		}
		if want := SegmentFor(tt.r, tt.f); got.Segment != want {
			t.Errorf("%+v: segment %s, want %s", tt.c, got.Segment, want)
		}
	}
}

func TestTierMap(t *testing.T) {
	s := DefaultSettings()
	s.Tiers[SegmentChampions] = TierRegular
	// The first customer is R5 F5: champions, moved to regular by the custom map.
	res, err := Score(testAsOf, inputsFor([]customer{{0, 9, 1}, {1, 4, 1}, {2, 3, 1}, {3, 2, 1}, {4, 1, 1}}), s)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Segment != SegmentChampions || res[0].Tier != TierRegular {
		t.Errorf("got %s/%s, want champions/regular", res[0].Segment, res[0].Tier)
	}
	// R1 F1: lost, still at_risk.
	if res[4].Segment != SegmentLost || res[4].Tier != TierAtRisk {
		t.Errorf("got %s/%s, want lost/at_risk", res[4].Segment, res[4].Tier)
	}
}

func TestDistribute(t *testing.T) {
	in := append(inputsFor([]customer{{0, 9, 100}, {400, 1, 1}, {400, 1, 1}}), Input{CustomerID: "p"})
	res, err := Score(testAsOf, in, DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	d := Distribute(res)
	// N=3: the recent one has R W=2 → 4, F W=2 → 4; the two old ones share W=0 → 1.
	want := Distribution{Total: 4, Scored: 3}
	want.Segments[SegmentLoyal] = 1
	want.Segments[SegmentLost] = 2
	want.Segments[SegmentNone] = 1
	want.Tiers[TierVIP] = 1
	want.Tiers[TierAtRisk] = 2
	want.Tiers[TierNone] = 1
	want.Stages[StageActive] = 1
	want.Stages[StageChurned] = 2
	want.Stages[StageProspect] = 1
	want.R = [6]int{1, 2, 0, 0, 1, 0}
	want.F = [6]int{1, 2, 0, 0, 1, 0}
	want.M = [6]int{1, 2, 0, 0, 1, 0}
	if d != want {
		t.Errorf("Distribute =\n%+v\nwant\n%+v", d, want)
	}
}

package app_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// violations returns the BadRequest field violations of st as
// "field: description".
func violations(st *status.Status) []string {
	var out []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				out = append(out, fv.GetField()+": "+fv.GetDescription())
			}
		}
	}
	return out
}

func mask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

const (
	tierList    = "vip, potential, regular, at_risk"
	segmentList = "champions, loyal, potential_loyalist, new_customer, promising, need_attention, about_to_sleep, at_risk, cant_lose, hibernating, lost"
)

// TestSettingsErrors checks what a caller sees for invalid settings: one
// field violation per problem at its path in Settings, with only the
// explanation as description, and a short message.
func TestSettingsErrors(t *testing.T) {
	ctx := context.Background()
	cli := newEtcd(t)
	startProfile(t, cli)
	seg := startSegmentation(t, cli, "sqlite:"+filepath.Join(t.TempDir(), "seg.db"), func() time.Time { return asOf }, 0)
	c := seg.client

	fixed := segmentationv1.ScoringMethod_SCORING_METHOD_FIXED_THRESHOLDS
	tests := []struct {
		name    string
		req     *segmentationv1.UpdateSettingsRequest
		wantMsg string
		want    []string
	}{
		{
			name:    "fixed thresholds without thresholds",
			req:     &segmentationv1.UpdateSettingsRequest{Settings: &segmentationv1.Settings{ScoringMethod: fixed}, UpdateMask: mask("scoring_method")},
			wantMsg: "segmentation: invalid settings: fixed_thresholds: required when scoring_method is SCORING_METHOD_FIXED_THRESHOLDS",
			want:    []string{"fixed_thresholds: required when scoring_method is SCORING_METHOD_FIXED_THRESHOLDS"},
		},
		{
			name: "partial tier map",
			req: &segmentationv1.UpdateSettingsRequest{Settings: &segmentationv1.Settings{TierMap: map[string]string{"champions": "vip"}},
				UpdateMask: mask("tier_map")},
			wantMsg: "segmentation: invalid settings: 10 problems; first: tier_map.loyal: missing; every RFM segment needs a value tier (" + tierList + ")",
			want: func() []string {
				var out []string
				for _, s := range strings.Split(segmentList, ", ")[1:] {
					out = append(out, "tier_map."+s+": missing; every RFM segment needs a value tier ("+tierList+")")
				}
				return out
			}(),
		},
		{
			name: "unknown names in the tier map",
			req: &segmentationv1.UpdateSettingsRequest{Settings: &segmentationv1.Settings{TierMap: map[string]string{"champions": "gold", "kings": "vip"}},
				UpdateMask: mask("tier_map.champions")},
			wantMsg: `segmentation: invalid settings: 2 problems; first: tier_map.champions: unknown value tier "gold"; valid tiers are ` + tierList,
			want: []string{
				`tier_map.champions: unknown value tier "gold"; valid tiers are ` + tierList,
				`tier_map.kings: unknown RFM segment "kings"; valid segments are ` + segmentList,
			},
		},
		{
			name: "lifecycle",
			req: &segmentationv1.UpdateSettingsRequest{Settings: &segmentationv1.Settings{Lifecycle: &segmentationv1.LifecycleThresholds{NewDays: -1, ActiveDays: 90, DormantDays: 10}},
				UpdateMask: mask("lifecycle")},
			wantMsg: "segmentation: invalid settings: 2 problems; first: lifecycle.new_days: must not be negative, got -1",
			want: []string{
				"lifecycle.new_days: must not be negative, got -1",
				"lifecycle.dormant_days: must be at least lifecycle.active_days (90), got 10",
			},
		},
		{
			name: "thresholds of the wrong length and order",
			req: &segmentationv1.UpdateSettingsRequest{Settings: &segmentationv1.Settings{ScoringMethod: fixed, FixedThresholds: &segmentationv1.FixedThresholds{
				RecencyDays: []int64{7, 30, 90}, Frequency: []int64{2, 3, 5, 10}, MonetaryMinor: []int64{1, 2, 3},
			}}, UpdateMask: mask("scoring_method", "fixed_thresholds")},
			wantMsg: "segmentation: invalid settings: 2 problems; first: fixed_thresholds.recency_days: must have 4 cut points, got 3",
			want: []string{
				"fixed_thresholds.recency_days: must have 4 cut points, got 3",
				"fixed_thresholds.monetary_minor: must have 4 cut points, got 3",
			},
		},
		{
			name: "thresholds out of order",
			req: &segmentationv1.UpdateSettingsRequest{Settings: &segmentationv1.Settings{ScoringMethod: fixed, FixedThresholds: &segmentationv1.FixedThresholds{
				RecencyDays: []int64{7, 30, 90, 180}, Frequency: []int64{1, 3, 5, 10}, MonetaryMinor: []int64{4, 3, 2, 1},
			}}, UpdateMask: mask("scoring_method", "fixed_thresholds")},
			wantMsg: "segmentation: invalid settings: 2 problems; first: fixed_thresholds.frequency: first cut point must be at least 2, got 1",
			want: []string{
				"fixed_thresholds.frequency: first cut point must be at least 2, got 1",
				"fixed_thresholds.monetary_minor: cut points must be strictly ascending, got [4 3 2 1]",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.UpdateSettings(ctx, tt.req)
			st := wantStatus(t, err, codes.InvalidArgument, "INVALID_SETTINGS")
			if st.Message() != tt.wantMsg {
				t.Errorf("message = %q\nwant %q", st.Message(), tt.wantMsg)
			}
			if got := violations(st); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("field violations = %q\nwant %q", got, tt.want)
			}
		})
	}

	t.Run("unknown mask path", func(t *testing.T) {
		_, err := c.UpdateSettings(ctx, &segmentationv1.UpdateSettingsRequest{Settings: &segmentationv1.Settings{}, UpdateMask: mask("tier_map.kings")})
		st := wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
		if got := violations(st); len(got) != 1 || !strings.HasPrefix(got[0], "update_mask: unknown RFM segment") {
			t.Errorf("field violations = %q", got)
		}
	})

	t.Run("rule error description", func(t *testing.T) {
		_, err := c.CreateSegment(ctx, &segmentationv1.CreateSegmentRequest{SegmentId: "bad",
			Segment: &segmentationv1.Segment{Kind: segmentationv1.SegmentKind_SEGMENT_KIND_RULE, Rule: "rfm.r_score >= \n  nope"}})
		st := wantStatus(t, err, codes.InvalidArgument, "INVALID_RULE")
		got := violations(st)
		if len(got) != 1 || !strings.HasPrefix(got[0], "segment.rule: line 2, column ") || strings.Contains(got[0], "segmentation:") {
			t.Errorf("field violations = %q, want one segment.rule violation that is only the position and the problem", got)
		}
	})

	// Nothing above made a version.
	cur, err := c.GetSettings(ctx, &segmentationv1.GetSettingsRequest{})
	if err != nil || cur.GetSettings().GetVersion() != 1 {
		t.Errorf("GetSettings = %v, %v; want version 1", cur, err)
	}
}

// TestFixedThresholdScoring switches to fixed thresholds through the API,
// recomputes and checks scores worked out by hand.
func TestFixedThresholdScoring(t *testing.T) {
	ctx := context.Background()
	cli := newEtcd(t)
	pc := startProfile(t, cli)
	seg := startSegmentation(t, cli, "sqlite:"+filepath.Join(t.TempDir(), "seg.db"), func() time.Time { return asOf }, 0)
	c := seg.client

	// R days ann 2, bob 10, cat 300, eve 1; F 3, 1, 2, 5;
	// M 300.00, 20.00, 35.00, 900.00.
	events := []*profilev1.Event{
		order("a1", "ann", daysAgo(100), 100_00), order("a2", "ann", daysAgo(50), 100_00), order("a3", "ann", daysAgo(2), 100_00),
		order("b1", "bob", daysAgo(10), 20_00),
		order("c1", "cat", daysAgo(700), 15_00), order("c2", "cat", daysAgo(300), 20_00),
	}
	for i, d := range []int{200, 150, 100, 50, 1} {
		events = append(events, order("e"+string(rune('1'+i)), "eve", daysAgo(d), 200_00))
	}
	events = append(events, refund("e-r", "eve", daysAgo(1).Add(10*time.Minute), 100_00))
	waitCursor(t, seg.app, record(t, pc, events))

	// One tier map entry, by mask path.
	upd, err := c.UpdateSettings(ctx, &segmentationv1.UpdateSettingsRequest{
		Settings: &segmentationv1.Settings{TierMap: map[string]string{"lost": "regular"}}, UpdateMask: mask("tier_map.lost")})
	if err != nil {
		t.Fatal(err)
	}
	if s := upd.GetSettings(); s.GetVersion() != 2 || s.GetTierMap()["lost"] != "regular" || s.GetTierMap()["champions"] != "vip" || len(s.GetTierMap()) != 11 {
		t.Errorf("UpdateSettings(tier_map.lost) = %v", s)
	}

	switchReq := &segmentationv1.UpdateSettingsRequest{
		Settings: &segmentationv1.Settings{
			ScoringMethod: segmentationv1.ScoringMethod_SCORING_METHOD_FIXED_THRESHOLDS,
			FixedThresholds: &segmentationv1.FixedThresholds{
				RecencyDays:   []int64{7, 30, 90, 180},
				Frequency:     []int64{2, 3, 5, 10},
				MonetaryMinor: []int64{10_00, 50_00, 300_00, 800_00},
			},
		},
		UpdateMask: mask("scoring_method", "fixed_thresholds"),
	}
	upd, err = c.UpdateSettings(ctx, switchReq)
	if err != nil {
		t.Fatal(err)
	}
	if s := upd.GetSettings(); s.GetVersion() != 3 || s.GetScoringMethod() != switchReq.Settings.ScoringMethod ||
		!reflect.DeepEqual(s.GetFixedThresholds().GetMonetaryMinor(), switchReq.Settings.FixedThresholds.MonetaryMinor) {
		t.Errorf("UpdateSettings(fixed thresholds) = %v", s)
	}
	// The same change again is no change: the current version comes back.
	again, err := c.UpdateSettings(ctx, switchReq)
	if err != nil || again.GetSettings().GetVersion() != 3 || !again.GetSettings().GetUpdateTime().AsTime().Equal(upd.GetSettings().GetUpdateTime().AsTime()) {
		t.Errorf("unchanged UpdateSettings = %v, %v; want version 3 unchanged", again.GetSettings(), err)
	}
	_, err = c.GetSettings(ctx, &segmentationv1.GetSettingsRequest{Version: 4})
	wantStatus(t, err, codes.NotFound, "SETTINGS_NOT_FOUND")

	rec, err := c.Recompute(ctx, &segmentationv1.RecomputeRequest{AsOfTime: timestamppb.New(asOf)})
	if err != nil {
		t.Fatal(err)
	}
	op := waitOperation(t, c, rec.GetOperation().GetName())
	if op.GetSettingsVersion() != 3 {
		t.Errorf("operation settings version = %d, want 3", op.GetSettingsVersion())
	}

	// R = 5 − cut points the days exceed; F and M = 1 + cut points reached.
	//   ann: 2 days → 5; 3 orders ≥ 2, 3 → 3; 300.00 ≥ 10, 50, 300 → 4.
	//   bob: 10 days > 7 → 4; 1 order → 1; 20.00 ≥ 10 → 2.
	//   cat: 300 days > all → 1; 2 orders ≥ 2 → 2; 35.00 ≥ 10 → 2.
	//   eve: 1 day → 5; 5 orders ≥ 2, 3, 5 → 4; 900.00 ≥ all → 5.
	want := map[string][3]int32{"ann": {5, 3, 4}, "bob": {4, 1, 2}, "cat": {1, 2, 2}, "eve": {5, 4, 5}}
	for id, w := range want {
		resp, err := c.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/" + id + "/scores"})
		if err != nil {
			t.Fatalf("GetCustomerScores(%s): %v", id, err)
		}
		sc := resp.GetScores()
		if got := [3]int32{sc.GetRScore(), sc.GetFScore(), sc.GetMScore()}; got != w || sc.GetSettingsVersion() != 3 {
			t.Errorf("%s: R, F, M = %v (settings version %d), want %v (3)", id, got, sc.GetSettingsVersion(), w)
		}
	}
}

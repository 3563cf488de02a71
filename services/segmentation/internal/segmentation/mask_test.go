package segmentation

import (
	"context"
	"errors"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

func (s *segmentStore) UpdateSegment(_ context.Context, id string, fn func(*SegmentDef) error) (SegmentDef, error) {
	g, ok := s.segs[id]
	if !ok {
		return SegmentDef{}, ErrSegmentNotFound
	}
	if err := fn(&g); err != nil {
		return SegmentDef{}, err
	}
	s.segs[id] = g
	return g, nil
}

// TestUpdateMaskOutputOnly sends update masks that name output-only
// fields, as a resource sent back whole does: they are ignored, and a mask
// of nothing else is an invalid argument about update_mask.
func TestUpdateMaskOutputOnly(t *testing.T) {
	ctx := context.Background()
	st := &segmentStore{segs: map[string]SegmentDef{"vip": {ID: "vip", Kind: SegmentKindStatic, DisplayName: "VIP", Revision: 1}}}
	svc := NewService(st, nil)

	g, err := svc.UpdateSegment(ctx, SegmentDef{ID: "vip", Kind: SegmentKindStatic, DisplayName: "Very important"}, "",
		[]string{"name", "segment_id", "display_name", "kind", "member_count", "create_time", "update_time", "etag"})
	if err != nil || g.DisplayName != "Very important" {
		t.Fatalf("UpdateSegment(whole mask) = %+v, %v; want display_name changed", g, err)
	}
	upd := DefaultSettings()
	upd.Lifecycle.NewDays = 14
	v, err := svc.UpdateSettings(ctx, upd, []string{"version", "lifecycle", "update_time"}, 0)
	if err != nil || v.Settings.Lifecycle.NewDays != 14 {
		t.Fatalf("UpdateSettings(whole mask) = %+v, %v; want new_days 14", v, err)
	}

	for name, update := range map[string]func() error{
		"segment": func() error {
			_, err := svc.UpdateSegment(ctx, SegmentDef{ID: "vip"}, "", []string{"member_count", "update_time"})
			return err
		},
		"settings": func() error {
			_, err := svc.UpdateSettings(ctx, upd, []string{"version", "update_time"}, 0)
			return err
		},
	} {
		var fe *fielderr.Error
		if err := update(); !errors.As(err, &fe) || fe.Path != "update_mask" {
			t.Errorf("%s: output-only mask: got %v, want an invalid argument about update_mask", name, err)
		}
	}
}

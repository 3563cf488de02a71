package segmentation

import (
	"context"
	"errors"
	"testing"
	"time"
)

// segmentStore holds segments in memory; the Service methods under test
// call nothing else. Embedding the interface makes any other call panic.
type segmentStore struct {
	ServiceStore
	segs     map[string]SegmentDef
	settings []SettingsVersion
}

func (s *segmentStore) GetSegment(_ context.Context, id string) (SegmentDef, error) {
	if g, ok := s.segs[id]; ok {
		return g, nil
	}
	return SegmentDef{}, ErrSegmentNotFound
}

func (s *segmentStore) AddStaticMembers(_ context.Context, id string, customers []string) (int64, int64, error) {
	return int64(len(customers)), int64(len(customers)), nil
}

func (s *segmentStore) DeleteSegment(_ context.Context, id string, check func(SegmentDef) error) error {
	return check(s.segs[id])
}

func (s *segmentStore) LatestSettings(context.Context) (SettingsVersion, error) {
	if len(s.settings) == 0 {
		return SettingsVersion{}, ErrSettingsNotFound
	}
	return s.settings[len(s.settings)-1], nil
}

func (s *segmentStore) InsertSettings(_ context.Context, st Settings, expected int64, now time.Time) (SettingsVersion, error) {
	if expected != int64(len(s.settings)) {
		return SettingsVersion{}, ErrETagMismatch
	}
	v := SettingsVersion{Version: expected + 1, Settings: st, UpdateTime: now}
	s.settings = append(s.settings, v)
	return v, nil
}

// snapshot is a Membership with fixed counts that records change reports.
type snapshot struct {
	counts  map[string]int64
	changed int
}

func (m *snapshot) MemberCount(id string) int64       { return m.counts[id] }
func (m *snapshot) StaticChanged(ctx context.Context) { m.changed++ }

// want checks that StaticChanged was called n times since the last check.
func (m *snapshot) want(t *testing.T, what string, n int) {
	t.Helper()
	if m.changed != n {
		t.Errorf("%s: StaticChanged called %d times, want %d", what, m.changed, n)
	}
	m.changed = 0
}

// TestServiceMembership reads member counts from the Membership and
// reports static member and segment changes to it.
func TestServiceMembership(t *testing.T) {
	ctx := context.Background()
	st := &segmentStore{segs: map[string]SegmentDef{"vip": {ID: "vip", Kind: SegmentKindStatic, Revision: 1}}}
	members := &snapshot{counts: map[string]int64{"vip": 7}}
	svc := NewService(st, nil, WithMembership(members))

	g, err := svc.GetSegment(ctx, "vip")
	if err != nil || g.MemberCount != 7 {
		t.Fatalf("GetSegment = %+v, %v; want the snapshot's member count 7", g, err)
	}
	members.want(t, "GetSegment", 0)
	if _, _, err := svc.AddMembers(ctx, "vip", []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	members.want(t, "AddMembers", 1)
	if err := svc.DeleteSegment(ctx, "vip", ""); err != nil {
		t.Fatal(err)
	}
	members.want(t, "DeleteSegment", 1)

	if g, err := NewService(st, nil).GetSegment(ctx, "vip"); err != nil || g.MemberCount != 0 {
		t.Fatalf("GetSegment without a Membership = %+v, %v; want member count 0", g, err)
	}
}

// TestSettingsSource stores the defaults as version 1 at the clock's time
// the first time, and returns the stored version after that.
func TestSettingsSource(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	st := &segmentStore{}
	src := SettingsSource{Store: st, Clock: func() time.Time { return at }}
	v, err := src.CurrentSettings(ctx)
	if err != nil || v.Version != 1 || !v.UpdateTime.Equal(at) || !v.Settings.Equal(DefaultSettings()) {
		t.Fatalf("first CurrentSettings = %+v, %v; want the defaults as version 1 at %v", v, err, at)
	}
	again, err := src.CurrentSettings(ctx)
	if err != nil || again.Version != 1 || len(st.settings) != 1 {
		t.Fatalf("second CurrentSettings = version %d, %v with %d stored; want version 1, one stored", again.Version, err, len(st.settings))
	}
	if err := CheckOperationID(""); !errors.Is(err, ErrOperationNotFound) {
		t.Errorf("CheckOperationID(\"\") = %v, want ErrOperationNotFound", err)
	}
}

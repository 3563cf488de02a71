package segmentation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/paging"
)

// Limits of the API.
const (
	MaxMembersPerCall = 1000
	MaxPairs          = 1000
	maxDisplayName    = 200
	maxDescription    = 2000
	maxRule           = 10000
	maxCustomerID     = 200
	maxOperationID    = 64
)

// RuleChecker compiles a rule expression and returns an error wrapping
// ErrInvalidRule if it is not a valid boolean rule.
type RuleChecker func(expr string) error

// ServiceStore is the storage the Service uses.
type ServiceStore interface {
	SettingsStore
	// Segments and static members: see SegmentStore.
	CreateSegment(ctx context.Context, s SegmentDef) (SegmentDef, error)
	GetSegment(ctx context.Context, id string) (SegmentDef, error)
	ListSegments(ctx context.Context, afterID string, limit int) ([]SegmentDef, error)
	UpdateSegment(ctx context.Context, id string, fn func(*SegmentDef) error) (SegmentDef, error)
	DeleteSegment(ctx context.Context, id string, check func(SegmentDef) error) error
	AddStaticMembers(ctx context.Context, id string, customers []string) (added, total int64, err error)
	RemoveStaticMembers(ctx context.Context, id string, customers []string) (removed, total int64, err error)
	// Operations and size history: see OperationStore and ResultStore.
	GetOperation(ctx context.Context, id string) (Operation, error)
	ListOperations(ctx context.Context, beforeID string, limit int) ([]Operation, error)
	SizeHistory(ctx context.Context, audiences []string, since time.Time, limit int) ([]SizePoint, error)
}

// Membership is the in-memory membership snapshot, as the Service reports
// from it and keeps it current.
type Membership interface {
	// MemberCount returns a segment's member count in the snapshot.
	MemberCount(segmentID string) int64
	// StaticChanged is called after static members or segments change, so
	// that the snapshot reflects the change at once. Its errors are the
	// implementation's to log: the change is stored, and every replica's
	// snapshot picks it up at its next sync.
	StaticChanged(ctx context.Context)
}

// Service holds the use cases that are not the recompute itself: settings,
// segments and static members, operations.
type Service struct {
	store    ServiceStore
	check    RuleChecker
	now      func() time.Time
	settings SettingsSource
	// members is nil until WithMembership: member counts are 0.
	members Membership
}

// ServiceOption configures a Service.
type ServiceOption func(*Service)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) ServiceOption { return func(s *Service) { s.now = now } }

// WithMembership sets the snapshot that member counts come from and that
// static member changes are reported to.
func WithMembership(m Membership) ServiceOption { return func(s *Service) { s.members = m } }

// NewService returns a Service over st that checks rules with check.
func NewService(st ServiceStore, check RuleChecker, opts ...ServiceOption) *Service {
	s := &Service{store: st, check: check, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.settings = SettingsSource{Store: st, Clock: s.now}
	return s
}

// SettingsSource gives the current settings version, storing the defaults
// as version 1 the first time there is none. The Service and the
// recompute engine read the settings through one each.
type SettingsSource struct {
	Store SettingsStore
	// Clock gives the time the defaults are stored at (default time.Now).
	Clock func() time.Time
}

// CurrentSettings returns the newest settings version, storing the
// defaults as version 1 if there is none yet.
func (src SettingsSource) CurrentSettings(ctx context.Context) (SettingsVersion, error) {
	v, err := src.Store.LatestSettings(ctx)
	if !errors.Is(err, ErrSettingsNotFound) {
		return v, err
	}
	now := time.Now
	if src.Clock != nil {
		now = src.Clock
	}
	v, err = src.Store.InsertSettings(ctx, DefaultSettings(), 0, now().UTC())
	if errors.Is(err, ErrETagMismatch) { // another replica stored them first
		return src.Store.LatestSettings(ctx)
	}
	return v, err
}

// CurrentSettings returns the newest settings version, storing the
// defaults as version 1 if there is none yet.
func (s *Service) CurrentSettings(ctx context.Context) (SettingsVersion, error) {
	return s.settings.CurrentSettings(ctx)
}

// GetSettings returns a settings version; 0 means the current one.
func (s *Service) GetSettings(ctx context.Context, version int64) (SettingsVersion, error) {
	if version < 0 {
		return SettingsVersion{}, &fielderr.Error{Path: "version", Problem: fmt.Sprintf("must not be negative, got %d", version),
			Fix: "send 0 for the current settings, or the number of a past version"}
	}
	if version == 0 {
		return s.CurrentSettings(ctx)
	}
	return s.store.GetSettings(ctx, version)
}

// settingsPaths are the update mask paths UpdateSettings accepts.
var settingsPaths = []string{"lifecycle", "lifecycle.new_days", "lifecycle.active_days", "lifecycle.dormant_days",
	"tier_map", "tier_map.<rfm segment>", "scoring_method", "fixed_thresholds", "include_repurchases", "prediction"}

// MergeSettings returns cur with the fields named by paths taken from
// upd. Empty paths or "*" take every field. "tier_map.<segment>" (e.g.
// "tier_map.loyal") takes one entry of the tier map; if upd has no entry
// for that segment, the entry is removed (and Validate then reports it).
func MergeSettings(cur, upd Settings, paths []string) (Settings, error) {
	if len(paths) == 0 || slices.Contains(paths, "*") {
		if len(paths) > 1 {
			return Settings{}, &fielderr.Error{Path: "update_mask", Problem: `"*" must be the only path`,
				Fix: `send "*" alone to replace every field, or list the paths to change`}
		}
		return upd, nil
	}
	out := cur
	out.Tiers = make(TierMap, len(cur.Tiers))
	for k, v := range cur.Tiers {
		out.Tiers[k] = v
	}
	for _, p := range paths {
		switch p {
		case "lifecycle":
			out.Lifecycle = upd.Lifecycle
		case "lifecycle.new_days":
			out.Lifecycle.NewDays = upd.Lifecycle.NewDays
		case "lifecycle.active_days":
			out.Lifecycle.ActiveDays = upd.Lifecycle.ActiveDays
		case "lifecycle.dormant_days":
			out.Lifecycle.DormantDays = upd.Lifecycle.DormantDays
		case "tier_map":
			out.Tiers = make(TierMap, len(upd.Tiers))
			for k, v := range upd.Tiers {
				out.Tiers[k] = v
			}
		case "scoring_method":
			out.Method = upd.Method
		case "fixed_thresholds":
			out.Thresholds = upd.Thresholds
		case "include_repurchases":
			out.IncludeRepurchases = upd.IncludeRepurchases
		case "prediction":
			out.Prediction = upd.Prediction
		default:
			name, ok := strings.CutPrefix(p, "tier_map.")
			if !ok {
				return Settings{}, invalid("update_mask", "unknown path %q; valid paths are %s", p, strings.Join(settingsPaths, ", "))
			}
			seg, err := ParseSegment(name)
			if err != nil {
				return Settings{}, invalid("update_mask", "unknown RFM segment in path %q; valid segments are %s", p, segmentNameList())
			}
			if tier, ok := upd.Tiers[seg]; ok {
				out.Tiers[seg] = tier
			} else {
				delete(out.Tiers, seg)
			}
		}
	}
	return out, nil
}

// UpdateSettings merges the fields of upd named by paths into the current
// settings (output-only paths ignored), validates the result and stores it
// as a new version; if the result equals the current settings it returns
// the current version unchanged. With expected > 0 it fails with
// ErrETagMismatch unless the current version is expected.
func (s *Service) UpdateSettings(ctx context.Context, upd Settings, paths []string, expected int64) (SettingsVersion, error) {
	if expected < 0 {
		return SettingsVersion{}, &fielderr.Error{Path: "expected_version", Problem: fmt.Sprintf("must not be negative, got %d", expected),
			Fix: "send the version you read, or 0 to update whichever version is current"}
	}
	paths, err := updatablePaths(paths, settingsOutputOnly)
	if err != nil {
		return SettingsVersion{}, err
	}
	for attempt := 0; ; attempt++ {
		cur, err := s.CurrentSettings(ctx)
		if err != nil {
			return SettingsVersion{}, err
		}
		if expected > 0 && cur.Version != expected {
			return SettingsVersion{}, fmt.Errorf("%w: settings are at version %d, not %d", ErrETagMismatch, cur.Version, expected)
		}
		merged, err := MergeSettings(cur.Settings, upd, paths)
		if err != nil {
			return SettingsVersion{}, err
		}
		if err := merged.Validate(); err != nil {
			return SettingsVersion{}, err
		}
		if merged.Equal(cur.Settings) {
			return cur, nil
		}
		v, err := s.store.InsertSettings(ctx, merged, cur.Version, s.now().UTC())
		if errors.Is(err, ErrETagMismatch) && expected == 0 && attempt < 5 {
			continue // a concurrent update won; merge into the new version
		}
		return v, err
	}
}

// validateSegment checks a segment's fields; it compiles the rule of a
// rule segment.
func (s *Service) validateSegment(seg *SegmentDef) error {
	var errs []error
	if !utf8.ValidString(seg.DisplayName) || len(seg.DisplayName) > maxDisplayName {
		errs = append(errs, invalid("segment.display_name", "must be valid UTF-8 of at most %d bytes", maxDisplayName))
	}
	if !utf8.ValidString(seg.Description) || len(seg.Description) > maxDescription {
		errs = append(errs, invalid("segment.description", "must be valid UTF-8 of at most %d bytes", maxDescription))
	}
	switch seg.Kind {
	case SegmentKindRule:
		switch {
		case strings.TrimSpace(seg.Rule) == "":
			errs = append(errs, &fielderr.Error{Path: "segment.rule", Problem: "is required for a rule segment",
				Fix: `write a CEL expression over the customer, such as rfm.r_score >= 4 && "newsletter" in tags`})
		case len(seg.Rule) > maxRule:
			errs = append(errs, invalid("segment.rule", "must be at most %d bytes", maxRule))
		case s.check != nil:
			if err := s.check(seg.Rule); err != nil {
				msg := err.Error()
				if re := (*RuleError)(nil); errors.As(err, &re) {
					msg = re.Detail()
				}
				errs = append(errs, &fielderr.Error{Path: "segment.rule", Problem: msg, Err: err})
			}
		}
	case SegmentKindStatic:
		if seg.Rule != "" {
			errs = append(errs, &fielderr.Error{Path: "segment.rule", Problem: "must be empty for a static segment",
				Fix: "leave it out, or create a SEGMENT_KIND_RULE segment"})
		}
	default:
		errs = append(errs, invalid("segment.kind", "must be SEGMENT_KIND_RULE or SEGMENT_KIND_STATIC"))
	}
	return errors.Join(errs...)
}

// CreateSegment validates and stores a new segment.
func (s *Service) CreateSegment(ctx context.Context, seg SegmentDef) (SegmentDef, error) {
	if p := segmentIDProblem(seg.ID); p != "" {
		return SegmentDef{}, invalid("segment_id", "%s", p)
	}
	if err := s.validateSegment(&seg); err != nil {
		return SegmentDef{}, err
	}
	now := s.now().UTC()
	seg.CreateTime, seg.UpdateTime, seg.Revision, seg.MemberCount = now, now, 1, 0
	out, err := s.store.CreateSegment(ctx, seg)
	if err != nil {
		return SegmentDef{}, err
	}
	s.changed(ctx, out.Kind)
	return out, nil
}

func (s *Service) changed(ctx context.Context, kind SegmentKind) {
	if kind == SegmentKindStatic && s.members != nil {
		s.members.StaticChanged(ctx)
	}
}

func (s *Service) withCount(seg SegmentDef) SegmentDef {
	if s.members != nil {
		seg.MemberCount = s.members.MemberCount(seg.ID)
	}
	return seg
}

// GetSegment returns a segment with its member count.
func (s *Service) GetSegment(ctx context.Context, id string) (SegmentDef, error) {
	if err := ValidateSegmentID(id); err != nil {
		return SegmentDef{}, fmt.Errorf("%w: %s", ErrSegmentNotFound, id)
	}
	seg, err := s.store.GetSegment(ctx, id)
	if err != nil {
		return SegmentDef{}, err
	}
	return s.withCount(seg), nil
}

// Page size policies of the List methods, as the API documents them.
var (
	SegmentPages   = paging.Sizes{Default: 50, Max: 500}
	OperationPages = paging.Sizes{Default: 20, Max: 200}
	MemberPages    = paging.Sizes{Default: 100, Max: 1000}
	// SizeHistoryLimits applies to ListSizeHistory's limit field.
	SizeHistoryLimits = paging.Sizes{Default: 50, Max: 500}
)

// ParsePage reads a List request's page_size and page_token with the
// platform's paging; see pagingError for its errors.
func ParsePage(sizes paging.Sizes, pageSize int, token string, f paging.Filter) (paging.Page, error) {
	p, err := paging.Parse(sizes, pageSize, token, f)
	return p, pagingError(err)
}

// pagingError words the paging package's errors (each a *fielderr.Error)
// as this package does: a bad size as "page_size: …" like its other field
// errors, a bad token under ErrInvalidPageToken, so the error table gives
// it its own reason.
func pagingError(err error) error {
	var fe *fielderr.Error
	switch {
	case errors.Is(err, paging.ErrInvalidPageToken):
		return fmt.Errorf("%w: %w", ErrInvalidPageToken, err)
	case errors.As(err, &fe):
		worded := *fe
		worded.Predicate = false
		return &worded
	}
	return err
}

// ListSegments returns a page of segments in id order and the next page token.
func (s *Service) ListSegments(ctx context.Context, pageSize int, token string) ([]SegmentDef, string, error) {
	p, err := ParsePage(SegmentPages, pageSize, token, paging.For("ListSegments"))
	if err != nil {
		return nil, "", err
	}
	if p.After != "" && ValidateSegmentID(p.After) != nil {
		return nil, "", pagingError(paging.InvalidToken())
	}
	segs, err := s.store.ListSegments(ctx, p.After, p.Limit())
	if err != nil {
		return nil, "", err
	}
	segs, next := paging.Cut(p, segs, func(g SegmentDef) string { return g.ID })
	for i := range segs {
		segs[i] = s.withCount(segs[i])
	}
	return segs, next, nil
}

// SegmentPaths are the update mask paths UpdateSegment accepts.
var SegmentPaths = []string{"display_name", "description", "rule"}

// UpdateSegment changes the fields of upd named by paths (every mutable
// field if empty; output-only paths are ignored). A non-empty upd.ETag
// must match. "kind" may be named (a segment sent back whole names it) but
// cannot change: upd.Kind must then be the segment's own kind.
func (s *Service) UpdateSegment(ctx context.Context, upd SegmentDef, etag string, paths []string) (SegmentDef, error) {
	paths, err := updatablePaths(paths, segmentOutputOnly)
	if err != nil {
		return SegmentDef{}, err
	}
	checkKind := slices.Contains(paths, "kind")
	paths = slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return p == "kind" })
	if len(paths) == 0 {
		paths = SegmentPaths
	}
	for _, p := range paths {
		if !slices.Contains(SegmentPaths, p) {
			return SegmentDef{}, invalid("update_mask", "unknown path %q; valid paths are %s", p, strings.Join(SegmentPaths, ", "))
		}
	}
	out, err := s.store.UpdateSegment(ctx, upd.ID, func(cur *SegmentDef) error {
		if etag != "" && etag != cur.ETag() {
			return fmt.Errorf("%w: segment %s has etag %s, not %s", ErrETagMismatch, cur.ID, cur.ETag(), etag)
		}
		if checkKind && upd.Kind != cur.Kind {
			want := "SEGMENT_KIND_RULE"
			if cur.Kind == SegmentKindStatic {
				want = "SEGMENT_KIND_STATIC"
			}
			return &fielderr.Error{Path: "segment.kind", Problem: "cannot change",
				Fix: "a segment's kind is fixed when it is created; send " + want + " or leave kind out of update_mask"}
		}
		for _, p := range paths {
			switch p {
			case "display_name":
				cur.DisplayName = upd.DisplayName
			case "description":
				cur.Description = upd.Description
			case "rule":
				cur.Rule = upd.Rule
			}
		}
		if err := s.validateSegment(cur); err != nil {
			return err
		}
		cur.UpdateTime = s.now().UTC()
		return nil
	})
	if err != nil {
		return SegmentDef{}, err
	}
	return s.withCount(out), nil
}

// DeleteSegment deletes a segment and its members; a non-empty etag must match.
func (s *Service) DeleteSegment(ctx context.Context, id, etag string) error {
	err := s.store.DeleteSegment(ctx, id, func(cur SegmentDef) error {
		if etag != "" && etag != cur.ETag() {
			return fmt.Errorf("%w: segment %s has etag %s, not %s", ErrETagMismatch, cur.ID, cur.ETag(), etag)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.members != nil { // deleted segments leave the snapshot too
		s.members.StaticChanged(ctx)
	}
	return nil
}

// ValidateCustomerIDs checks a list of 1 to max customer ids.
func ValidateCustomerIDs(field string, ids []string, max int) error {
	if len(ids) == 0 {
		return invalid(field, "at least one customer id is required")
	}
	if len(ids) > max {
		return &fielderr.Error{Path: field, Problem: fmt.Sprintf("at most %d customer ids, got %d", max, len(ids)),
			Fix: "split them over several requests"}
	}
	for i, id := range ids {
		if id == "" || len(id) > maxCustomerID || !utf8.ValidString(id) {
			return invalid(fmt.Sprintf("%s[%d]", field, i), "must be 1 to %d bytes of UTF-8", maxCustomerID)
		}
	}
	return nil
}

// AddMembers adds customers to a static segment.
func (s *Service) AddMembers(ctx context.Context, id string, customers []string) (added, total int64, err error) {
	if err := ValidateCustomerIDs("customer_ids", customers, MaxMembersPerCall); err != nil {
		return 0, 0, err
	}
	added, total, err = s.store.AddStaticMembers(ctx, id, dedupe(customers))
	if err == nil {
		s.changed(ctx, SegmentKindStatic)
	}
	return added, total, err
}

// RemoveMembers removes customers from a static segment.
func (s *Service) RemoveMembers(ctx context.Context, id string, customers []string) (removed, total int64, err error) {
	if err := ValidateCustomerIDs("customer_ids", customers, MaxMembersPerCall); err != nil {
		return 0, 0, err
	}
	removed, total, err = s.store.RemoveStaticMembers(ctx, id, dedupe(customers))
	if err == nil {
		s.changed(ctx, SegmentKindStatic)
	}
	return removed, total, err
}

func dedupe(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// CheckOperationID fails with ErrOperationNotFound for an id that cannot
// name an operation.
func CheckOperationID(id string) error {
	if id == "" || len(id) > maxOperationID {
		return fmt.Errorf("%w: %q", ErrOperationNotFound, id)
	}
	return nil
}

// GetOperation returns an operation by id.
func (s *Service) GetOperation(ctx context.Context, id string) (Operation, error) {
	if err := CheckOperationID(id); err != nil {
		return Operation{}, err
	}
	return s.store.GetOperation(ctx, id)
}

// ListOperations returns a page of operations, newest first.
func (s *Service) ListOperations(ctx context.Context, pageSize int, token string) ([]Operation, string, error) {
	p, err := ParsePage(OperationPages, pageSize, token, paging.For("ListOperations"))
	if err != nil {
		return nil, "", err
	}
	if len(p.After) > maxOperationID {
		return nil, "", pagingError(paging.InvalidToken())
	}
	ops, err := s.store.ListOperations(ctx, p.After, p.Limit())
	if err != nil {
		return nil, "", err
	}
	ops, next := paging.Cut(p, ops, func(o Operation) string { return o.ID })
	return ops, next, nil
}

// SizeHistory returns size series per audience. Audiences must parse.
func (s *Service) SizeHistory(ctx context.Context, audiences []string, since time.Time, limit int) ([]SizePoint, error) {
	n, err := SizeHistoryLimits.Field("limit", limit)
	if err != nil {
		return nil, pagingError(err)
	}
	if len(audiences) > 0 {
		if err := CheckAudiences("audiences", audiences); err != nil {
			return nil, err
		}
	}
	return s.store.SizeHistory(ctx, audiences, since, n)
}

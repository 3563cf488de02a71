package loyalty

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Enrolment says how customers become members.
type Enrolment string

// The enrolments.
const (
	EnrolAutomatic Enrolment = "automatic"
	EnrolExplicit  Enrolment = "explicit"
)

// DowngradePolicy says where an evaluation takes a member that no longer
// qualifies for its tier once the retention has passed.
type DowngradePolicy string

// The downgrade policies.
const (
	DowngradeOneDown     DowngradePolicy = "one_down"
	DowngradeToQualified DowngradePolicy = "to_qualified"
)

// Tier is one level of the programme.
type Tier struct {
	ID                string
	DisplayName       string
	QualifyingPoints  int64
	MultiplierPercent int64
	Benefits          []string
}

// Programme is one version of the programme's settings.
type Programme struct {
	Version                 int64
	CurrencyCode            string
	PointsPerUnit           int64
	PointValue              Money
	Enrolment               Enrolment
	PendingDays             int64
	ExpiryMonths            int64
	ReviewPoints            int64
	QualityReviewBonus      int64
	QualityReviewMinLength  int64
	SharePoints             int64
	ShareDailyLimit         int64
	CheckInPoints           int64
	BirthdayPoints          int64
	TimeZone                string
	Tiers                   []Tier
	QualificationWindowDays int64
	TierRetentionDays       int64
	DowngradePolicy         DowngradePolicy
	UpdateTime              time.Time
}

// DefaultProgramme is the programme before the first update: 1 point per
// GBP, automatic enrolment, no pending days or expiry, one tier.
func DefaultProgramme() Programme {
	return Programme{
		CurrencyCode: "GBP", PointsPerUnit: 1, PointValue: Money{Currency: "GBP", Minor: 1},
		Enrolment: EnrolAutomatic, TimeZone: "UTC",
		Tiers:                   []Tier{{ID: "member", DisplayName: "Member", MultiplierPercent: 100}},
		QualificationWindowDays: 365, TierRetentionDays: 365, DowngradePolicy: DowngradeOneDown,
	}
}

// Location returns the programme's time zone (UTC if it does not load).
func (p Programme) Location() *time.Location {
	if loc, err := time.LoadLocation(p.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// TierIndex returns the position of tier id in the programme, or -1.
func (p Programme) TierIndex(id string) int {
	return slices.IndexFunc(p.Tiers, func(t Tier) bool { return t.ID == id })
}

// maxSetting bounds every count and amount of the settings, far above any
// real value, so that arithmetic on them cannot overflow.
const maxSetting = 1_000_000_000

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	tierIDRE   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
)

// Validate reports every problem with p, each a *fielderr.Error wrapping
// ErrInvalidProgramme whose path is the API's field name.
func (p Programme) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, programmeProblem(path, format, args...)) }
	if !currencyRE.MatchString(p.CurrencyCode) {
		add("currency_code", "must be an ISO 4217 code such as GBP, got %s", fielderr.Quote(p.CurrencyCode))
	}
	if p.PointValue.Currency != p.CurrencyCode {
		add("point_value.currency_code", "must be the programme's currency %s", p.CurrencyCode)
	}
	for path, v := range map[string]int64{
		"points_per_unit": p.PointsPerUnit, "point_value.amount_minor": p.PointValue.Minor,
		"pending_days": p.PendingDays, "expiry_months": p.ExpiryMonths, "review_points": p.ReviewPoints,
		"quality_review_bonus": p.QualityReviewBonus, "quality_review_min_length": p.QualityReviewMinLength,
		"share_points": p.SharePoints, "share_daily_limit": p.ShareDailyLimit, "check_in_points": p.CheckInPoints,
		"birthday_points": p.BirthdayPoints, "qualification_window_days": p.QualificationWindowDays,
		"tier_retention_days": p.TierRetentionDays,
	} {
		if v < 0 || v > maxSetting {
			add(path, "must be 0 to %d, got %d", maxSetting, v)
		}
	}
	if p.Enrolment != EnrolAutomatic && p.Enrolment != EnrolExplicit {
		add("enrolment", "must be automatic or explicit")
	}
	if p.DowngradePolicy != DowngradeOneDown && p.DowngradePolicy != DowngradeToQualified {
		add("downgrade_policy", "must be one_down or to_qualified")
	}
	if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "" || p.TimeZone == "Local" {
		add("time_zone", "must be an IANA time zone such as Europe/London, got %s", fielderr.Quote(p.TimeZone))
	}
	errs = append(errs, p.tierProblems()...)
	return errors.Join(errs...)
}

// tierProblems checks the tier list: at least one, unique ids, the first
// at 0 qualifying points and strictly ascending thresholds.
func (p Programme) tierProblems() []error {
	if len(p.Tiers) == 0 {
		return []error{programmeProblem("tiers", "must list at least one tier, the first with 0 qualifying points")}
	}
	var errs []error
	seen := map[string]bool{}
	for i, t := range p.Tiers {
		path := fmt.Sprintf("tiers[%d]", i)
		if !tierIDRE.MatchString(t.ID) || seen[t.ID] {
			errs = append(errs, programmeProblem(path+".tier_id", "must be a unique id of 1 to 63 lower-case letters, digits and -, starting with a letter"))
		}
		seen[t.ID] = true
		switch {
		case i == 0 && t.QualifyingPoints != 0:
			errs = append(errs, programmeProblem(path+".qualifying_points", "must be 0 for the lowest tier, got %d", t.QualifyingPoints))
		case i > 0 && (t.QualifyingPoints <= p.Tiers[i-1].QualifyingPoints || t.QualifyingPoints > maxSetting):
			errs = append(errs, programmeProblem(path+".qualifying_points", "must be above the previous tier's %d and at most %d, got %d",
				p.Tiers[i-1].QualifyingPoints, maxSetting, t.QualifyingPoints))
		}
		if t.MultiplierPercent < 0 || t.MultiplierPercent > 10_000 {
			errs = append(errs, programmeProblem(path+".multiplier_percent", "must be 0 to 10000, got %d", t.MultiplierPercent))
		}
	}
	return errs
}

// programmeOutputOnly are the paths an update ignores.
var programmeOutputOnly = []string{"version", "update_time"}

// MergeProgramme applies the fields of upd named by paths to cur; no
// paths or "*" replace everything but the output-only fields.
func MergeProgramme(cur, upd Programme, paths []string) (Programme, error) {
	paths = slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return slices.Contains(programmeOutputOnly, p) })
	if len(paths) == 0 || slices.Equal(paths, []string{"*"}) {
		upd.Version, upd.UpdateTime = cur.Version, cur.UpdateTime
		return upd, nil
	}
	out := cur
	for _, path := range paths {
		set, ok := programmeFields[path]
		if !ok {
			return Programme{}, &fielderr.Error{Path: "update_mask", Problem: fmt.Sprintf("names unknown field %s", fielderr.Quote(path)),
				Fix: "name fields of Programme in snake_case, such as points_per_unit or tiers, or send \"*\" alone"}
		}
		set(&out, upd)
	}
	return out, nil
}

// programmeFields copies one field for MergeProgramme.
var programmeFields = map[string]func(dst *Programme, src Programme){
	"currency_code":             func(d *Programme, s Programme) { d.CurrencyCode = s.CurrencyCode },
	"points_per_unit":           func(d *Programme, s Programme) { d.PointsPerUnit = s.PointsPerUnit },
	"point_value":               func(d *Programme, s Programme) { d.PointValue = s.PointValue },
	"point_value.currency_code": func(d *Programme, s Programme) { d.PointValue.Currency = s.PointValue.Currency },
	"point_value.amount_minor":  func(d *Programme, s Programme) { d.PointValue.Minor = s.PointValue.Minor },
	"enrolment":                 func(d *Programme, s Programme) { d.Enrolment = s.Enrolment },
	"pending_days":              func(d *Programme, s Programme) { d.PendingDays = s.PendingDays },
	"expiry_months":             func(d *Programme, s Programme) { d.ExpiryMonths = s.ExpiryMonths },
	"review_points":             func(d *Programme, s Programme) { d.ReviewPoints = s.ReviewPoints },
	"quality_review_bonus":      func(d *Programme, s Programme) { d.QualityReviewBonus = s.QualityReviewBonus },
	"quality_review_min_length": func(d *Programme, s Programme) { d.QualityReviewMinLength = s.QualityReviewMinLength },
	"share_points":              func(d *Programme, s Programme) { d.SharePoints = s.SharePoints },
	"share_daily_limit":         func(d *Programme, s Programme) { d.ShareDailyLimit = s.ShareDailyLimit },
	"check_in_points":           func(d *Programme, s Programme) { d.CheckInPoints = s.CheckInPoints },
	"birthday_points":           func(d *Programme, s Programme) { d.BirthdayPoints = s.BirthdayPoints },
	"time_zone":                 func(d *Programme, s Programme) { d.TimeZone = s.TimeZone },
	"tiers":                     func(d *Programme, s Programme) { d.Tiers = s.Tiers },
	"qualification_window_days": func(d *Programme, s Programme) { d.QualificationWindowDays = s.QualificationWindowDays },
	"tier_retention_days":       func(d *Programme, s Programme) { d.TierRetentionDays = s.TierRetentionDays },
	"downgrade_policy":          func(d *Programme, s Programme) { d.DowngradePolicy = s.DowngradePolicy },
}

package loyalty

import (
	"context"
	"strconv"
	"time"

	"github.com/tenurehq/tenure/services/platform/paging"
)

// ExpiringMember is a member's available points that expire soon.
type ExpiringMember struct {
	MemberID string
	Points   int64
	// Earliest is when the first of them expires.
	Earliest time.Time
}

// ExpiringStore finds the members whose points expire soon.
type ExpiringStore interface {
	// ExpiringMembers returns up to limit enrolled members after after, in
	// id order, with points available at t (not pending) that expire after
	// t and at or before until, as Account.Expiring counts them.
	ExpiringMembers(ctx context.Context, t, until time.Time, after string, limit int) ([]ExpiringMember, error)
}

// maxExpiringDays bounds ListExpiring's window.
const maxExpiringDays = 366

// ListExpiring pages through the members whose available points expire
// within the next withinDays days, in member id order.
func (s *Service) ListExpiring(ctx context.Context, withinDays, pageSize int, token string) ([]ExpiringMember, string, error) {
	if withinDays < 1 || withinDays > maxExpiringDays {
		return nil, "", invalid("within_days", "must be 1 to %d days, got %d", maxExpiringDays, withinDays)
	}
	pg, err := paging.Parse(entrySizes, pageSize, token,
		paging.For("ListExpiringPoints").With("within_days", strconv.Itoa(withinDays)))
	if err != nil {
		return nil, "", err
	}
	now := s.now().UTC()
	ms, err := s.store.ExpiringMembers(ctx, now, now.Add(time.Duration(withinDays)*day), pg.After, pg.Limit())
	if err != nil {
		return nil, "", err
	}
	out, next := paging.Cut(pg, ms, func(m ExpiringMember) string { return m.MemberID })
	return out, next, nil
}

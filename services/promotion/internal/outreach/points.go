package outreach

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ExpiringPoints is a loyalty member's available points that expire soon.
type ExpiringPoints struct {
	CustomerID string
	Points     int64
	Expiry     time.Time // when the first of them expires
}

// PointsSource pages through loyalty's members whose points expire within
// days of now.
type PointsSource interface {
	ExpiringPoints(ctx context.Context, withinDays int, pageToken string) ([]ExpiringPoints, string, error)
}

// PointsTriggers makes the messages of points-expiring journeys: every
// Every, it reads the members whose points expire within each journey's
// days and creates one message per customer and expiry date (its local
// date in the customer's zone), due at once; the message carries the
// points and their expiry for its template. A member read again (the next
// run, a second replica) makes no second message for the same expiry.
type PointsTriggers struct {
	TriggerEnv
	Points PointsSource
	Every  time.Duration // time between runs (default 1h)
}

// PointsCursor names the cursor of a points journey: its last run.
func PointsCursor(journeyID string) string { return "points:" + journeyID }

// RunOnce runs the journeys whose last run is Every old and returns how
// many messages it created.
func (p PointsTriggers) RunOnce(ctx context.Context) (int, error) {
	js, err := journeysOf(ctx, p.Journeys, TriggerPointsExpiring)
	if err != nil {
		return 0, err
	}
	every := p.Every
	if every <= 0 {
		every = time.Hour
	}
	created := 0
	var errs []error
	for _, j := range js {
		now := p.Clock().UTC()
		last, err := p.Cursors.TriggerCursor(ctx, PointsCursor(j.ID))
		if err != nil {
			return created, errors.Join(append(errs, err)...)
		}
		if t, err := time.Parse(time.RFC3339Nano, last); err == nil && now.Sub(t) < every {
			continue
		}
		n, err := p.runJourney(ctx, j, now)
		created += n
		if err == nil {
			err = p.Cursors.SetTriggerCursor(ctx, PointsCursor(j.ID), now.Format(time.RFC3339Nano))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("outreach: journey %s: %w", j.ID, err))
		}
	}
	return created, errors.Join(errs...)
}

func (p PointsTriggers) runJourney(ctx context.Context, j JourneyDef, now time.Time) (int, error) {
	w := p.writer(j)
	token := ""
	for {
		page, next, err := p.Points.ExpiringPoints(ctx, j.Trigger.Days, token)
		if err != nil {
			return w.created, err
		}
		ids := make([]string, len(page))
		for i, e := range page {
			ids[i] = e.CustomerID
		}
		known, err := p.Customers.LookupCustomers(ctx, ids)
		if err != nil {
			return w.created, err
		}
		for i, c := range withKnown(ids, known) {
			e := page[i]
			if e.Points <= 0 || !PointsExpiring(e.Expiry, j.Trigger.Days, now) {
				continue
			}
			loc := w.zones.of(c.TimeZone)
			m := w.add(c.ID, PointsOccurrence(e.Expiry, loc), now, loc, now)
			m.ExpiringPoints, m.PointsExpiry = e.Points, e.Expiry.UTC()
		}
		if token = next; token == "" {
			return w.created, w.done(ctx)
		}
		if err := w.flush(ctx); err != nil {
			return w.created, err
		}
	}
}

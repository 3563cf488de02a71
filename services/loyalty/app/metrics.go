package app

import (
	"context"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// meterName is the instrumentation scope of the loyalty counters.
const meterName = "github.com/tenurehq/tenure/services/loyalty"

// ledgerMetrics counts committed ledger entries (loyalty.Metrics): on the
// admin port's /metrics as tenure_loyalty_points_issued_total and so on.
type ledgerMetrics struct {
	issued, redeemed, expired, reversed, withdrawn, returned metric.Int64Counter
	redemptions, cancellations                               metric.Int64Counter
}

// newLedgerMetrics creates the counters on m.
func newLedgerMetrics(m metric.Meter) (*ledgerMetrics, error) {
	var lm ledgerMetrics
	for _, c := range []struct {
		dst        *metric.Int64Counter
		name, unit string
		desc       string
	}{
		{&lm.issued, "tenure.loyalty.points.issued", "{point}", "Points credited, by source: earn (orders), action (reviews, shares, check-ins, birthdays) or adjust (operators)."},
		{&lm.redeemed, "tenure.loyalty.points.redeemed", "{point}", "Points spent, by kind: points (cash offset) or reward."},
		{&lm.expired, "tenure.loyalty.points.expired", "{point}", "Points expired by the expiry job."},
		{&lm.reversed, "tenure.loyalty.points.reversed", "{point}", "Points taken back for refunds."},
		{&lm.withdrawn, "tenure.loyalty.points.withdrawn", "{point}", "Points debited by operators."},
		{&lm.returned, "tenure.loyalty.points.returned", "{point}", "Points given back by cancelled redemptions, by kind."},
		{&lm.redemptions, "tenure.loyalty.redemptions", "{redemption}", "Redemptions, by kind: points or reward."},
		{&lm.cancellations, "tenure.loyalty.redemptions.cancelled", "{redemption}", "Redemptions cancelled, by kind."},
	} {
		var err error
		if *c.dst, err = m.Int64Counter(c.name, metric.WithUnit(c.unit), metric.WithDescription(c.desc)); err != nil {
			return nil, err
		}
	}
	return &lm, nil
}

var (
	kindPoints = metric.WithAttributes(attribute.String("kind", "points"))
	kindReward = metric.WithAttributes(attribute.String("kind", "reward"))
)

// Committed implements loyalty.Metrics.
func (m *ledgerMetrics) Committed(entries []loyalty.Entry) {
	ctx := context.Background()
	for _, e := range entries {
		kind := kindPoints
		if e.Source.RewardRedemption != "" {
			kind = kindReward
		}
		switch {
		case e.Type == loyalty.EntryRedeem:
			m.redeemed.Add(ctx, -e.Points, kind)
			m.redemptions.Add(ctx, 1, kind)
		case e.Type == loyalty.EntryCancel:
			m.returned.Add(ctx, e.Points, kind)
			m.cancellations.Add(ctx, 1, kind)
		case e.Type == loyalty.EntryExpire:
			m.expired.Add(ctx, -e.Points)
		case e.Type == loyalty.EntryReverse:
			m.reversed.Add(ctx, -e.Points)
		case e.Points < 0: // an operator's debit
			m.withdrawn.Add(ctx, -e.Points)
		default:
			m.issued.Add(ctx, e.Points, metric.WithAttributes(attribute.String("source", string(e.Type))))
		}
	}
}

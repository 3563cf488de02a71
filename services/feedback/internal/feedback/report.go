package feedback

import (
	"context"
	"slices"
	"time"
)

// Count is the number of tickets with one key.
type Count struct {
	Key string
	N   int64
}

// TicketReport summarises the tickets created in a period.
type TicketReport struct {
	Tickets                            int64
	Types, Queues                      []Count
	FirstReplyMet, FirstReplyBreached  int64
	ResolutionMet, ResolutionBreached  int64
	FirstReplyAttainment               float64
	ResolutionAttainment               float64
	MedianFirstReply, MedianResolution time.Duration
}

// TicketReport reports on the tickets created in [from, to) (a zero bound
// is open) as of now.
func (s *Service) TicketReport(ctx context.Context, from, to time.Time) (*TicketReport, error) {
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, InvalidArgument("end_time", "must be after start_time")
	}
	policies, err := s.store.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var r TicketReport
	types, queues := map[string]int64{}, map[string]int64{}
	var firstReplies, resolutions []time.Duration
	err = s.store.EachTicket(ctx, from, to, func(t *Ticket) error {
		r.Tickets++
		types[string(t.Type)]++
		queues[t.Queue]++
		tally(t.FirstReplyState(now), &r.FirstReplyMet, &r.FirstReplyBreached)
		tally(t.ResolutionState(findPolicy(policies, t.PolicyID), now), &r.ResolutionMet, &r.ResolutionBreached)
		if !t.FirstReplyTime.IsZero() {
			firstReplies = append(firstReplies, t.FirstReplyTime.Sub(t.CreateTime))
		}
		if !t.Status.Active() && !t.SolveTime.IsZero() {
			resolutions = append(resolutions, t.SolveTime.Sub(t.CreateTime))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Types, r.Queues = counts(types), counts(queues)
	r.FirstReplyAttainment = attainment(r.FirstReplyMet, r.FirstReplyBreached)
	r.ResolutionAttainment = attainment(r.ResolutionMet, r.ResolutionBreached)
	r.MedianFirstReply, r.MedianResolution = median(firstReplies), median(resolutions)
	return &r, nil
}

func tally(s SLAState, met, breached *int64) {
	switch s {
	case SLAMet:
		*met++
	case SLABreached:
		*breached++
	}
}

func counts(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Key: k, N: n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
	return out
}

func attainment(met, breached int64) float64 {
	if met+breached == 0 {
		return 0
	}
	return 100 * float64(met) / float64(met+breached)
}

// median is the middle duration (the mean of the two middle ones for an
// even count); 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

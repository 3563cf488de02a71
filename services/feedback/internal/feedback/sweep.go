package feedback

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// sweepPage is how many due tickets a sweep reads at a time.
const sweepPage = 1000

// Locker takes the cluster-wide escalation lock; TryLock fails with an
// error wrapping ErrEscalationInProgress (or another error) when it is
// held elsewhere. election.Locker implements it.
type Locker interface {
	TryLock(ctx context.Context) (unlock func(), err error)
}

// localLock is the Locker without etcd: one sweep per process.
type localLock chan struct{}

func (l localLock) TryLock(context.Context) (func(), error) {
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	default:
		return nil, ErrEscalationInProgress
	}
}

// WithLocker sets the lock that keeps escalation sweeps one at a time
// (default: one per process).
func WithLocker(l Locker) Option { return func(s *Service) { s.locker = l } }

// Escalate runs an escalation sweep as of asOf (zero: now): every active
// ticket whose next step is due gets the steps due, once each, and the
// webhooks they ask for. It returns the finished operation.
func (s *Service) Escalate(ctx context.Context, asOf time.Time, scheduled bool) (*Operation, error) {
	unlock, err := s.locker.TryLock(ctx)
	if err != nil {
		if !errors.Is(err, ErrEscalationInProgress) {
			err = fmt.Errorf("%w: %w", ErrEscalationInProgress, err)
		}
		return nil, err
	}
	defer unlock()
	now := s.now()
	if asOf.IsZero() {
		asOf = now
	}
	op := Operation{ID: s.newID(), AsOf: asOf.UTC(), CreateTime: now, Scheduled: scheduled}
	if err := s.store.CreateOperation(ctx, op); err != nil {
		return nil, err
	}
	if err := s.sweep(ctx, &op); err != nil {
		op.Failed, op.ErrorMessage = true, err.Error()
	}
	op.Done, op.EndTime = true, s.now()
	if err := s.store.UpdateOperation(context.WithoutCancel(ctx), op); err != nil {
		return nil, err
	}
	return &op, nil
}

// sweep pages through the due tickets and escalates each.
func (s *Service) sweep(ctx context.Context, op *Operation) error {
	policies, err := s.store.ListPolicies(ctx)
	if err != nil {
		return err
	}
	name := "escalations/" + op.ID
	after := ""
	for {
		// A retried transaction calls fn again: notices are replaced, and
		// steps are counted from the entries naming this sweep.
		notices := map[string][]Notice{}
		tickets, err := s.store.UpdateDueTickets(ctx, op.AsOf, after, sweepPage, func(t *Ticket) error {
			notices[t.ID] = t.Escalate(findPolicy(policies, t.PolicyID), op.AsOf, name)
			return nil
		})
		if err != nil {
			return err
		}
		op.TicketsScanned += int64(len(tickets))
		steps := op.StepsApplied
		for _, t := range tickets {
			for _, e := range t.Escalations {
				if e.Escalation == name {
					op.StepsApplied++
				}
			}
			s.notify(ctx, notices[t.ID], t)
		}
		s.metrics.EscalationSteps(ctx, op.StepsApplied-steps)
		if len(tickets) < sweepPage {
			return nil
		}
		after = tickets[len(tickets)-1].ID
	}
}

// notify sends the webhooks; a failure is logged: the step is recorded.
func (s *Service) notify(ctx context.Context, notices []Notice, t *Ticket) {
	for _, n := range notices {
		if err := s.notifier.Notify(ctx, n, t); err != nil {
			s.logger.WarnContext(ctx, "feedback: escalation webhook", "ticket", t.ID, "step", n.StepID, "url", n.URL, "error", err)
		}
	}
}

// GetOperation returns an escalation sweep.
func (s *Service) GetOperation(ctx context.Context, id string) (*Operation, error) {
	return s.store.GetOperation(ctx, id)
}

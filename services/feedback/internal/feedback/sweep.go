package feedback

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// MaxConcurrentNotices bounds the escalation webhooks a sweep sends at
// once.
const MaxConcurrentNotices = 8

// Escalate runs an escalation sweep as of asOf (zero: now): every active
// ticket whose next step is due gets the steps due, once each, and the
// webhooks they ask for. It returns the finished operation.
//
// The steps are recorded in the sweep's transactions, under the escalation
// lock; their webhooks are sent afterwards, MaxConcurrentNotices at a time,
// while the sweep goes on. The lock is released once every step is
// recorded, before the last webhooks are answered, so a slow receiver does
// not hold up the next sweep; Escalate returns when every webhook has been
// sent.
func (s *Service) Escalate(ctx context.Context, asOf time.Time, scheduled bool) (*Operation, error) {
	unlock, err := s.locker.TryLock(ctx)
	if err != nil {
		if !errors.Is(err, ErrEscalationInProgress) {
			err = fmt.Errorf("%w: %w", ErrEscalationInProgress, err)
		}
		return nil, err
	}
	release := sync.OnceFunc(unlock)
	defer release()
	out := &notices{s: s, slots: make(chan struct{}, MaxConcurrentNotices)}
	defer out.wait()
	op, err := s.escalate(ctx, asOf, scheduled, out)
	release()
	return op, err
}

// escalate records the operation and runs the sweep.
func (s *Service) escalate(ctx context.Context, asOf time.Time, scheduled bool, out *notices) (*Operation, error) {
	now := s.now()
	if asOf.IsZero() {
		asOf = now
	}
	op := Operation{ID: s.newID(), AsOf: asOf.UTC(), CreateTime: now, Scheduled: scheduled}
	if err := s.store.CreateOperation(ctx, op); err != nil {
		return nil, err
	}
	if err := s.sweep(ctx, &op, out); err != nil {
		op.Failed, op.ErrorMessage = true, err.Error()
	}
	op.Done, op.EndTime = true, s.now()
	if err := s.store.UpdateOperation(context.WithoutCancel(ctx), op); err != nil {
		return nil, err
	}
	return &op, nil
}

// sweep pages through the due tickets and escalates each; the webhooks of
// a page go to out once its transaction has committed.
func (s *Service) sweep(ctx context.Context, op *Operation, out *notices) error {
	policies, err := s.store.ListPolicies(ctx)
	if err != nil {
		return err
	}
	name := "escalations/" + op.ID
	after := ""
	for {
		// A retried transaction calls fn again: notices are replaced, and
		// steps are counted from the entries naming this sweep.
		pending := map[string][]Notice{}
		tickets, err := s.store.UpdateDueTickets(ctx, op.AsOf, after, sweepPage, func(t *Ticket) error {
			pending[t.ID] = t.Escalate(findPolicy(policies, t.PolicyID), op.AsOf, name)
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
			out.send(ctx, pending[t.ID], t)
		}
		s.metrics.EscalationSteps(ctx, op.StepsApplied-steps)
		if len(tickets) < sweepPage {
			return nil
		}
		after = tickets[len(tickets)-1].ID
	}
}

// notices sends a sweep's webhooks, each once, at most cap(slots) at a
// time; a failure is logged: the step is recorded.
type notices struct {
	s     *Service
	slots chan struct{}
	wg    sync.WaitGroup
}

// send starts sending t's notices, waiting for a free slot for each.
func (n *notices) send(ctx context.Context, list []Notice, t *Ticket) {
	for _, notice := range list {
		n.slots <- struct{}{}
		n.wg.Go(func() {
			defer func() { <-n.slots }()
			if err := n.s.notifier.Notify(ctx, notice, t); err != nil {
				n.s.logger.WarnContext(ctx, "feedback: escalation webhook", "ticket", t.ID, "step", notice.StepID,
					"url", notice.URL, "error", err)
			}
		})
	}
}

// wait waits until every webhook started has been sent.
func (n *notices) wait() { n.wg.Wait() }

// GetOperation returns an escalation sweep.
func (s *Service) GetOperation(ctx context.Context, id string) (*Operation, error) {
	return s.store.GetOperation(ctx, id)
}

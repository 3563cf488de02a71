package loyalty

import (
	"context"
	"fmt"
	"time"
)

// jobBatch is how many members one job transaction changes.
const jobBatch = 5000

// RunJob runs a job as of asOf (now when zero) to the end and returns its
// operation. A job already run for the same kind and as-of time is not
// run again: its operation is returned (one that failed runs again).
func (s *Service) RunJob(ctx context.Context, kind JobKind, asOf time.Time, scheduled bool) (Operation, error) {
	now := s.now().UTC()
	if asOf.IsZero() {
		asOf = now
	}
	asOf = asOf.UTC()
	p, err := s.Programme(ctx, 0)
	if err != nil {
		return Operation{}, err
	}
	op := Operation{ID: fmt.Sprintf("%s-%d", kind, asOf.UnixNano()), Kind: kind, AsOf: asOf, State: OpRunning,
		ProgrammeVersion: p.Version, CreateTime: now, Scheduled: scheduled}
	op, started, err := s.store.StartOperation(ctx, op)
	if err != nil || !started {
		return op, err
	}
	if err := s.runJob(ctx, &op, p); err != nil {
		op.State, op.Error = OpFailed, err.Error()
	} else {
		op.State = OpSucceeded
	}
	op.EndTime = s.now().UTC()
	if err := s.store.FinishOperation(context.WithoutCancel(ctx), op); err != nil {
		return Operation{}, err
	}
	return op, nil
}

// runJob applies the job to every member it may change, a batch per
// transaction, counting what changed into op.
func (s *Service) runJob(ctx context.Context, op *Operation, p Programme) error {
	ap := Applier{P: p}
	if op.Kind == JobExpire {
		return s.runExpire(ctx, op, ap)
	}
	for after := ""; ; {
		ids, err := s.store.JobMembers(ctx, op.Kind, op.AsOf, after, jobBatch)
		if err != nil || len(ids) == 0 {
			return err
		}
		var changed, points int64
		err = s.store.InLedger(ctx, windowStart(p, op.AsOf), func(ctx context.Context, l Ledger) error {
			changed, points = 0, 0
			if err := l.Prefetch(ctx, ids, nil); err != nil {
				return err
			}
			for _, id := range ids {
				a, err := l.Account(ctx, id)
				if err != nil {
					return err
				}
				if a == nil || !a.Member.Enrolled {
					continue
				}
				if n, ok := jobStep(ap, a, op.Kind, op.AsOf); ok {
					changed, points = changed+1, points+n
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		op.MembersChanged += changed
		op.Points += points
		after = ids[len(ids)-1]
	}
}

// runExpire expires the due buckets of every member, a batch per
// transaction: the store selects the members with due buckets and loads
// just those, so that it can save the batch with a few set-based
// statements.
func (s *Service) runExpire(ctx context.Context, op *Operation, ap Applier) error {
	for after := ""; ; {
		var changed, points int64
		last, err := s.store.ExpireBatch(ctx, op.AsOf, after, jobBatch, func(accounts []*Account) error {
			changed, points = 0, 0
			for _, a := range accounts {
				if !a.Member.Enrolled {
					continue
				}
				if n, ok := jobStep(ap, a, JobExpire, op.AsOf); ok {
					changed, points = changed+1, points+n
				}
			}
			return nil
		})
		if err != nil || last == "" {
			return err
		}
		op.MembersChanged += changed
		op.Points += points
		after = last
	}
}

// jobStep applies one job to one member and returns the points it moved
// and whether it changed the member.
func jobStep(ap Applier, a *Account, kind JobKind, asOf time.Time) (int64, bool) {
	switch kind {
	case JobExpire:
		e, ok := a.Expire(asOf, ap.P.Version)
		return -e.Points, ok
	case JobTiers:
		return 0, a.Evaluate(ap.P, asOf)
	case JobBirthdays:
		if ap.Birthday(a, asOf) {
			return ap.P.BirthdayPoints, true
		}
	}
	return 0, false
}

// Operation returns a job operation.
func (s *Service) Operation(ctx context.Context, id string) (Operation, error) {
	return s.store.Operation(ctx, id)
}

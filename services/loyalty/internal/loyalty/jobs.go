package loyalty

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// jobBatch is how many members one job transaction changes.
const jobBatch = 5000

// jobLease is how long a runner holds a running operation without a
// heartbeat or a batch saved; a runner that finds it lapsed takes over.
const jobLease = 30 * time.Second

// JobOptions size a job's batches and lease; zero fields keep the
// defaults (5,000 members, 30 s).
type JobOptions struct {
	Batch int
	Lease time.Duration
}

// SetJobOptions changes how jobs run (tests stop a job between small
// batches).
func (s *Service) SetJobOptions(o JobOptions) {
	if o.Batch > 0 {
		s.jobBatch = o.Batch
	}
	if o.Lease > 0 {
		s.jobLease = o.Lease
	}
}

// RunJob runs a job as of asOf (now when zero) to the end and returns its
// operation. A job already run for the same kind and as-of time is not
// run again: its operation is returned (one that failed runs again, and
// one whose runner stopped, its lease lapsed, is taken over where it
// stopped). When ctx ends first, the operation is left running: its lease
// lapses and another runner finishes it.
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
		ProgrammeVersion: p.Version, CreateTime: now, Scheduled: scheduled, Owner: newOwner(), LeaseUntil: now.Add(s.jobLease)}
	op, started, err := s.store.StartOperation(ctx, op)
	if err != nil || !started {
		return op, err
	}
	return s.drive(ctx, op)
}

// newOwner returns a random runner id.
func newOwner() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// drive runs a started (or taken over) operation to its end under its
// lease, renewed by a heartbeat, and saves how it ended.
func (s *Service) drive(ctx context.Context, op Operation) (Operation, error) {
	p, err := s.Programme(ctx, op.ProgrammeVersion)
	if err == nil {
		jobCtx, cancel := context.WithCancelCause(ctx)
		stopped := make(chan struct{})
		beat := op // runJob updates op as it goes; the heartbeat needs only its id and owner
		go func() {
			defer close(stopped)
			s.heartbeat(jobCtx, cancel, beat)
		}()
		err = s.runJob(jobCtx, &op, p)
		if cause := context.Cause(jobCtx); cause != nil && ctx.Err() == nil {
			err = cause // the lease was lost: the job's statements were cancelled
		}
		cancel(nil)
		<-stopped
	}
	var lost *LeaseLostError
	switch {
	case ctx.Err() != nil:
		return op, ctx.Err() // left running for another runner
	case errors.As(err, &lost):
		return s.store.Operation(ctx, op.ID)
	case err != nil:
		op.State, op.Error = OpFailed, err.Error()
	default:
		op.State = OpSucceeded
	}
	op.EndTime = s.now().UTC()
	if err := s.store.FinishOperation(ctx, op); err != nil {
		if errors.As(err, &lost) {
			return s.store.Operation(ctx, op.ID)
		}
		return Operation{}, err
	}
	return op, nil
}

// heartbeat renews op's lease every third of it until ctx ends, and
// cancels the job with a *LeaseLostError when another runner holds it.
func (s *Service) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, op Operation) {
	tick := time.NewTicker(s.jobLease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// An error (the database unreachable) is retried at the next beat;
		// the lease lasts three.
		if held, err := s.store.RenewLease(ctx, op.ID, op.Owner, s.now().UTC().Add(s.jobLease)); err == nil && !held {
			cancel(&LeaseLostError{ID: op.ID})
			return
		}
	}
}

// ResumeStale takes over and finishes every running operation whose
// runner stopped (its lease lapsed).
func (s *Service) ResumeStale(ctx context.Context) error {
	ops, err := s.store.StaleOperations(ctx, s.now().UTC())
	if err != nil {
		return err
	}
	for _, op := range ops {
		if _, err := s.RunJob(ctx, op.Kind, op.AsOf, op.Scheduled); err != nil {
			return err
		}
	}
	return nil
}

// progress is op after a batch that changed changed members and moved
// points, ending at member last.
func (s *Service) progress(op Operation, changed, points int64, last string) Operation {
	op.MembersChanged += changed
	op.Points += points
	op.ResumeAfter = last
	op.LeaseUntil = s.now().UTC().Add(s.jobLease)
	return op
}

// runJob applies the job to every member it may change after
// op.ResumeAfter, a batch per transaction, counting what changed into op.
func (s *Service) runJob(ctx context.Context, op *Operation, p Programme) error {
	ap := Applier{P: p}
	if op.Kind == JobExpire {
		return s.runExpire(ctx, op, ap)
	}
	for {
		ids, err := s.store.JobMembers(ctx, op.Kind, op.AsOf, op.ResumeAfter, s.jobBatch)
		if err != nil || len(ids) == 0 {
			return err
		}
		var next Operation
		var entries []Entry
		err = s.store.InJobBatch(ctx, windowStart(p, op.AsOf), func(ctx context.Context, l Ledger) (Operation, error) {
			var changed, points int64
			entries = entries[:0]
			if err := l.Prefetch(ctx, ids, nil); err != nil {
				return Operation{}, err
			}
			for _, id := range ids {
				a, err := l.Account(ctx, id)
				if err != nil {
					return Operation{}, err
				}
				if a == nil || !a.Member.Enrolled {
					continue
				}
				if n, ok := jobStep(ap, a, op.Kind, op.AsOf); ok {
					changed, points = changed+1, points+n
				}
				entries = append(entries, a.Unsaved()...)
			}
			next = s.progress(*op, changed, points, ids[len(ids)-1])
			return next, nil
		})
		if err != nil {
			return err
		}
		s.committed(entries)
		*op = next
	}
}

// runExpire expires the due buckets of every member, a batch of members
// per transaction: the store loads just those with due buckets, so that it
// can save the batch with a few set-based statements.
func (s *Service) runExpire(ctx context.Context, op *Operation, ap Applier) error {
	for {
		var next Operation
		var entries []Entry
		last, err := s.store.ExpireBatch(ctx, op.AsOf, op.ResumeAfter, s.jobBatch, func(accounts []*Account, last string) (Operation, error) {
			var changed, points int64
			entries = entries[:0]
			for _, a := range accounts {
				if !a.Member.Enrolled {
					continue
				}
				if n, ok := jobStep(ap, a, JobExpire, op.AsOf); ok {
					changed, points = changed+1, points+n
				}
				entries = append(entries, a.Unsaved()...)
			}
			next = s.progress(*op, changed, points, last)
			return next, nil
		})
		if err != nil || last == "" {
			return err
		}
		s.committed(entries)
		*op = next
	}
}

// jobStep applies one job to one member and returns the points it moved
// and whether it changed the member.
func jobStep(ap Applier, a *Account, kind JobKind, asOf time.Time) (int64, bool) {
	switch kind {
	case JobExpire:
		e, ok := a.Expire(asOf, ap.P.Version)
		return -e.Points, ok
	case JobMature:
		return 0, a.Mature(ap.P, asOf)
	case JobTiers:
		matured := a.Mature(ap.P, asOf)
		return 0, a.Evaluate(ap.P, asOf) || matured
	case JobBirthdays:
		matured := a.Mature(ap.P, asOf)
		if ap.Birthday(a, asOf) {
			return ap.P.BirthdayPoints, true
		}
		return 0, matured
	}
	return 0, false
}

// Operation returns a job operation.
func (s *Service) Operation(ctx context.Context, id string) (Operation, error) {
	return s.store.Operation(ctx, id)
}

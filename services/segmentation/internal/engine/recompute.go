package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tenurehq/tenure/services/platform/election"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// newOperationID returns an id that sorts by creation time (now, from the
// injected clock), and after every id this engine made before even if the
// clock stands still or steps back.
func (e *Engine) newOperationID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := now.UnixNano()
	for {
		last := e.lastID.Load()
		if n <= last {
			n = last + 1
		}
		if e.lastID.CompareAndSwap(last, n) {
			break
		}
	}
	return fmt.Sprintf("%019d-%s", n, hex.EncodeToString(b[:]))
}

// Start begins a recompute as of asOf (zero: now) in the background and
// returns its operation, or an *segmentation.InProgressError.
func (e *Engine) Start(ctx context.Context, asOf time.Time, trigger segmentation.Trigger) (segmentation.Operation, error) {
	if op := e.running.Load(); op != nil {
		return segmentation.Operation{}, &segmentation.InProgressError{Operation: op.Name()}
	}
	e.catchUp(ctx)
	unlock, err := e.lock(ctx)
	if err != nil {
		return segmentation.Operation{}, err
	}
	op, err := e.begin(ctx, asOf, trigger)
	if err != nil {
		unlock()
		return segmentation.Operation{}, err
	}
	if !e.running.CompareAndSwap(nil, &op) {
		unlock()
		_ = e.cfg.Store.FailOperation(context.WithoutCancel(ctx), op.ID, "lost a race with another recompute", e.cfg.Clock().UTC())
		return segmentation.Operation{}, &segmentation.InProgressError{}
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer unlock()
		defer e.running.Store(nil)
		e.run(e.bg, op)
	}()
	return op, nil
}

// catchUp gives the event consumer time to apply what profile has logged,
// so that a recompute started right after an import scores all of it.
func (e *Engine) catchUp(ctx context.Context) {
	if e.cfg.CatchUp == nil {
		return
	}
	timeout := e.cfg.CatchUpTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := e.cfg.CatchUp(cctx); err != nil {
		e.cfg.Logger.Warn("segmentation: recomputing on the events applied so far", "error", err)
	}
}

func (e *Engine) begin(ctx context.Context, asOf time.Time, trigger segmentation.Trigger) (segmentation.Operation, error) {
	now := e.cfg.Clock().UTC()
	if asOf.IsZero() {
		asOf = now
	}
	settings, err := e.cfg.Settings.CurrentSettings(ctx)
	if err != nil {
		return segmentation.Operation{}, err
	}
	seq, err := e.cfg.Store.Cursor(ctx)
	if err != nil {
		return segmentation.Operation{}, err
	}
	if e.cfg.Locker != nil {
		// Holding the cluster lock: any running row is left over from a
		// replica that died mid-recompute.
		if err := e.cfg.Store.FailRunning(ctx, "abandoned: its replica stopped", now); err != nil {
			return segmentation.Operation{}, err
		}
	}
	op := segmentation.Operation{
		ID: e.newOperationID(now), State: segmentation.OperationRunning, Trigger: trigger, AsOf: asOf.UTC(),
		SettingsVersion: settings.Version, InputSequence: seq, CreateTime: now,
	}
	if err := e.cfg.Store.StartOperation(ctx, op); err != nil {
		return segmentation.Operation{}, err
	}
	return op, nil
}

// lock takes the cluster-wide recompute lock, or fails with an
// InProgressError naming the running operation.
func (e *Engine) lock(ctx context.Context) (func(), error) {
	if e.cfg.Locker == nil {
		return func() {}, nil
	}
	unlock, err := e.cfg.Locker.TryLock(ctx)
	if errors.Is(err, election.ErrLocked) {
		running, rerr := e.cfg.Store.RunningOperation(ctx)
		if rerr != nil {
			return nil, &segmentation.InProgressError{}
		}
		return nil, &segmentation.InProgressError{Operation: running.Name()}
	}
	if err != nil {
		return nil, fmt.Errorf("segmentation: recompute lock: %w", err)
	}
	return unlock, nil
}

// run performs a started recompute and records its outcome. Its duration
// (and the phases) are measured on the wall clock, not Config.Clock: they
// time the work, not the data.
func (e *Engine) run(ctx context.Context, op segmentation.Operation) {
	log := e.cfg.Logger.With("operation", op.Name())
	start := time.Now()
	var ph phases
	base, final, gen, err := e.compute(ctx, &op, &ph)
	if err != nil {
		e.recorded(ctx, start, "failed")
		log.Error("segmentation: recompute failed", "error", err)
		fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if ferr := e.cfg.Store.FailOperation(fctx, op.ID, err.Error(), e.cfg.Clock().UTC()); ferr != nil {
			log.Error("segmentation: record failed recompute", "error", ferr)
		}
		return
	}
	// Customers deleted or erased during the recompute were left out of
	// the stored results but are in base: load the stored ones instead.
	if now, err := e.cfg.Store.ResultsGeneration(ctx); err != nil || now != gen {
		err = e.reload(ctx)
		if err != nil {
			log.Error("segmentation: restore snapshot", "error", err)
		}
	} else if err := e.install(ctx, base, final, gen); err != nil {
		log.Error("segmentation: install snapshot", "error", err)
	}
	e.recorded(ctx, start, "succeeded")
	log.Info("segmentation: recompute succeeded", "customers", final.CustomersTotal, "duration", time.Since(start),
		"load", ph.load, "score", ph.score, "predict", ph.predict, "recommend", ph.recommend, "rules", ph.rules, "build", ph.build, "store", ph.store,
		"changed_rows", ph.changed, "audience_changes", ph.audienceChanges)
}

// recorded records a recompute that started at start (wall clock) and
// ended with outcome.
func (e *Engine) recorded(ctx context.Context, start time.Time, outcome string) {
	e.recomputes.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attribute.String("outcome", outcome)))
}

// Schedule starts a recompute every interval until ctx is done; a
// recompute already running is not an error.
// If started is not nil it is called with each operation the schedule
// starts.
func (e *Engine) Schedule(ctx context.Context, interval time.Duration, started func(segmentation.Operation)) {
	every(ctx, interval, func() {
		op, err := e.Start(ctx, time.Time{}, segmentation.TriggerSchedule)
		switch {
		case err == nil:
			e.cfg.Logger.Info("segmentation: scheduled recompute started", "operation", op.Name())
			if started != nil {
				started(op)
			}
		case errors.Is(err, segmentation.ErrRecomputeInProgress) || ctx.Err() != nil:
		default:
			e.cfg.Logger.Error("segmentation: scheduled recompute", "error", err)
		}
	})
}

package engine

import (
	"context"
	"errors"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/membership"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// Restore loads the latest successful recompute's results and the static
// segments into a new snapshot. Without a Locker it also fails operations
// left running by a previous process.
func (e *Engine) Restore(ctx context.Context) error {
	if e.cfg.Locker == nil {
		if err := e.cfg.Store.FailRunning(ctx, "abandoned: the service restarted", e.cfg.Clock().UTC()); err != nil {
			return err
		}
	}
	return e.reload(ctx)
}

// reload loads the latest successful recompute's results and the static
// segments into a new snapshot.
func (e *Engine) reload(ctx context.Context) error {
	gen, err := e.cfg.Store.ResultsGeneration(ctx)
	if err != nil {
		return err
	}
	op, err := e.cfg.Store.LatestSucceeded(ctx)
	if errors.Is(err, segmentation.ErrNoRecompute) {
		return e.RefreshStatic(ctx)
	}
	if err != nil {
		return err
	}
	segs, err := e.allSegments(ctx)
	if err != nil {
		return err
	}
	var ruleIDs []string
	for _, g := range segs {
		if g.Kind == segmentation.SegmentKindRule {
			ruleIDs = append(ruleIDs, g.ID)
		}
	}
	index := make(map[string]int, len(ruleIDs))
	for i, id := range ruleIDs {
		index[id] = i
	}
	b := membership.NewBuilder(ruleIDs)
	in := make([]bool, len(ruleIDs))
	err = e.cfg.Store.LoadResults(ctx, func(r *segmentation.CustomerResult) error {
		clear(in)
		for _, id := range r.Segments {
			if i, ok := index[id]; ok {
				in[i] = true
			}
		}
		b.Add(r.CustomerID, &r.Result, in)
		return nil
	})
	if err != nil {
		return err
	}
	base, err := b.Build()
	if err != nil {
		return err
	}
	return e.install(ctx, base, op, gen)
}

// install derives the full snapshot from base and makes it current.
func (e *Engine) install(ctx context.Context, base *membership.Snapshot, op segmentation.Operation, gen int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	snap, err := e.withStatic(ctx, base)
	if err != nil {
		return err
	}
	e.cur.Store(&state{base: base, snap: snap, op: op, gen: gen})
	return nil
}

// Forget makes the snapshot stop answering for customers that a page of
// mutations deleted or re-keyed (erased), at once: their memberships move
// to the new id or are dropped. The consumer calls it after each page
// that has such mutations; other replicas catch up through Sync, which
// sees the store's results generation change.
func (e *Engine) Forget(ctx context.Context, muts []segmentation.Mutation) error {
	moves := forgetMoves(muts)
	if len(moves) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.cur.Load()
	base := cur.base.Rekey(moves)
	snap, err := e.withStatic(ctx, base)
	if err != nil {
		return err
	}
	e.cur.Store(&state{base: base, snap: snap, op: cur.op, gen: cur.gen})
	return nil
}

// forgetMoves folds a page's deletes and re-keys, applied in order, into
// simultaneous moves from an id as it was before the page to its id after
// ("" when gone).
func forgetMoves(muts []segmentation.Mutation) map[string]string {
	var moves map[string]string
	for _, m := range muts {
		var to string
		switch m.Kind {
		case segmentation.MutationDelete:
		case segmentation.MutationRekey:
			to = m.NewID
		default:
			continue
		}
		if moves == nil {
			moves = map[string]string{}
		}
		followed := false
		for from, at := range moves { // m.ID may be where an earlier move went
			if at != "" && at == m.ID {
				moves[from], followed = to, true
			}
		}
		if _, ok := moves[m.ID]; !ok && !followed {
			moves[m.ID] = to
		}
	}
	return moves
}

// StaticChanged implements segmentation.Membership: it refreshes the
// static segments, logging a failure (the next sync retries).
func (e *Engine) StaticChanged(ctx context.Context) {
	if err := e.RefreshStatic(context.WithoutCancel(ctx)); err != nil {
		e.cfg.Logger.Warn("segmentation: refresh static segments", "error", err)
	}
}

// RefreshStatic re-reads the static segments and derives a new snapshot.
func (e *Engine) RefreshStatic(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.cur.Load()
	snap, err := e.withStatic(ctx, cur.base)
	if err != nil {
		return err
	}
	e.cur.Store(&state{base: cur.base, snap: snap, op: cur.op, gen: cur.gen})
	return nil
}

// withStatic returns base with every static segment's members and
// without the rule segments that no longer exist.
func (e *Engine) withStatic(ctx context.Context, base *membership.Snapshot) (*membership.Snapshot, error) {
	static, err := e.cfg.Store.StaticMembers(ctx)
	if err != nil {
		return nil, err
	}
	segs, err := e.allSegments(ctx)
	if err != nil {
		return nil, err
	}
	exists := make(map[string]bool, len(segs))
	for _, g := range segs {
		exists[segmentation.SegmentAudience(g.ID)] = true
	}
	snap := base
	for _, a := range base.Audiences() {
		if p, err := segmentation.ParseAudience(a); err == nil && p.Kind == segmentation.AudienceSegment && !exists[a] {
			snap = snap.Without(a)
		}
	}
	for id, members := range static {
		snap = snap.WithStatic(id, members)
	}
	return snap, nil
}

func (e *Engine) allSegments(ctx context.Context) ([]segmentation.SegmentDef, error) {
	var out []segmentation.SegmentDef
	after := ""
	for {
		page, err := e.cfg.Store.ListSegments(ctx, after, 500)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 500 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// Sync reloads the snapshot when another replica finished a newer
// recompute or customers were deleted or erased since it was loaded, and
// refreshes the static segments otherwise.
func (e *Engine) Sync(ctx context.Context) error {
	gen, err := e.cfg.Store.ResultsGeneration(ctx)
	if err != nil {
		return err
	}
	op, err := e.cfg.Store.LatestSucceeded(ctx)
	if err != nil && !errors.Is(err, segmentation.ErrNoRecompute) {
		return err
	}
	cur := e.cur.Load()
	if err == nil && (op.ID != cur.op.ID || gen != cur.gen) && e.running.Load() == nil {
		return e.reload(ctx)
	}
	return e.RefreshStatic(ctx)
}

// RunSync calls Sync every interval until ctx is done.
func (e *Engine) RunSync(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		if err := e.Sync(ctx); err != nil && ctx.Err() == nil {
			e.cfg.Logger.Warn("segmentation: sync snapshot", "error", err)
		}
	})
}

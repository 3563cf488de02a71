package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/paging"
	"github.com/tenurehq/tenure/services/segmentation/internal/membership"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// Scores is one customer's result of the last recompute with every rule
// and static segment it is in now.
type Scores struct {
	segmentation.CustomerResult
	Operation  segmentation.Operation
	SegmentIDs []string
}

// CustomerScores returns a customer's scores from the last recompute, with
// the operation that produced them (read with them, so the two agree even
// when this replica's snapshot is older), and the segments it is in now.
func (e *Engine) CustomerScores(ctx context.Context, id string) (Scores, error) {
	snap, op := e.Snapshot()
	r, err := e.cfg.Store.GetResult(ctx, id)
	if err != nil {
		return Scores{}, err
	}
	if r.Operation != "" && r.Operation != op.ID {
		if op, err = e.cfg.Store.GetOperation(ctx, r.Operation); err != nil {
			return Scores{}, err
		}
	}
	out := Scores{CustomerResult: r, Operation: op}
	for _, a := range snap.AudiencesOf(id) {
		if seg, ok := strings.CutPrefix(a, "segments/"); ok {
			out.SegmentIDs = append(out.SegmentIDs, seg)
		}
	}
	return out, nil
}

// audienceError turns a snapshot's unknown-audience error into a domain error.
func audienceError(a string, err error) error {
	if errors.Is(err, membership.ErrUnknownAudience) {
		if id, ok := strings.CutPrefix(a, "segments/"); ok {
			return fmt.Errorf("%w: %s", segmentation.ErrSegmentNotFound, id)
		}
		return fmt.Errorf("%w: %q", segmentation.ErrInvalidAudience, a)
	}
	return err
}

// notComputed reports whether audience is a rule or static segment that
// exists in the store but not in snap: created since snap was derived (a
// rule segment is evaluated by the next recompute).
func (e *Engine) notComputed(ctx context.Context, snap *membership.Snapshot, audience string) (segmentation.SegmentDef, bool, error) {
	if _, err := snap.Size(audience); err == nil {
		return segmentation.SegmentDef{}, false, nil
	}
	a, err := segmentation.ParseAudience(audience)
	if err != nil || a.Kind != segmentation.AudienceSegment {
		return segmentation.SegmentDef{}, false, err
	}
	id := strings.TrimPrefix(audience, "segments/")
	g, err := e.cfg.Store.GetSegment(ctx, id)
	if errors.Is(err, segmentation.ErrSegmentNotFound) {
		return g, false, nil
	}
	if err != nil {
		return g, false, err
	}
	return g, true, nil
}

// Check answers whether each customer is in each audience, from memory:
// customer i is in audience j if out[i*len(audiences)+j]. A segment
// created since the last recompute (or, for a static one, not yet in the
// snapshot) has no members here: every answer for it is false. The store
// is read only when an audience is unknown to the snapshot.
func (e *Engine) Check(ctx context.Context, customers, audiences []string) ([]bool, segmentation.Operation, error) {
	if err := segmentation.ValidateCustomerIDs("customer_ids", customers, segmentation.MaxPairs); err != nil {
		return nil, segmentation.Operation{}, err
	}
	if err := segmentation.CheckAudiences("audiences", audiences); err != nil {
		return nil, segmentation.Operation{}, err
	}
	if n := len(customers) * len(audiences); n > segmentation.MaxPairs {
		return nil, segmentation.Operation{}, fmt.Errorf("%w: %d customers × %d audiences = %d pairs, at most %d",
			segmentation.ErrTooManyPairs, len(customers), len(audiences), n, segmentation.MaxPairs)
	}
	snap, op := e.Snapshot()
	out, err := snap.Check(customers, audiences)
	if err == nil {
		return out, op, nil
	}
	// Some audience is unknown to the snapshot: answer false for new
	// segments, and fail for the others.
	known := make([]string, 0, len(audiences))
	for _, a := range audiences {
		_, isNew, nerr := e.notComputed(ctx, snap, a)
		if nerr != nil {
			return nil, op, nerr
		}
		if isNew {
			continue
		}
		if _, serr := snap.Size(a); serr != nil {
			return nil, op, audienceError(a, serr)
		}
		known = append(known, a)
	}
	part, err := snap.Check(customers, known)
	if err != nil {
		return nil, op, err
	}
	out = make([]bool, len(customers)*len(audiences))
	for i := range customers {
		j := 0
		for c, a := range audiences {
			if j < len(known) && known[j] == a {
				out[i*len(audiences)+c] = part[i*len(known)+j]
				j++
			}
		}
	}
	return out, op, nil
}

// Members returns a page of an audience's members in id order, the next
// page token and the audience size.
// A rule segment created since the last recompute fails with
// ErrSegmentNotComputed; a static one not yet in the snapshot is empty.
func (e *Engine) Members(ctx context.Context, audience string, pageSize int, token string) ([]string, string, int64, error) {
	if err := segmentation.CheckAudience("parent", audience); err != nil {
		return nil, "", 0, err
	}
	p, err := segmentation.ParsePage(segmentation.MemberPages, pageSize, token, paging.For("ListMembers").With("parent", audience))
	if err != nil {
		return nil, "", 0, err
	}
	snap, _ := e.Snapshot()
	size, err := snap.Size(audience)
	if err != nil {
		g, isNew, nerr := e.notComputed(ctx, snap, audience)
		switch {
		case nerr != nil:
			return nil, "", 0, nerr
		case isNew && g.Kind == segmentation.SegmentKindRule:
			return nil, "", 0, fmt.Errorf("%w: segment %s has not been computed yet; run a recompute", segmentation.ErrSegmentNotComputed, g.ID)
		case isNew:
			return nil, "", 0, nil
		}
		return nil, "", 0, audienceError(audience, err)
	}
	ids, next, err := snap.Members(audience, p.After, p.Size)
	if err != nil {
		return nil, "", 0, audienceError(audience, err)
	}
	if next != "" {
		next = p.Next(next)
	}
	return ids, next, int64(size), nil
}

// Report returns the distribution report of the latest successful
// recompute, with the static segments' current sizes.
func (e *Engine) Report(ctx context.Context) (segmentation.Summary, error) {
	op, err := e.cfg.Store.LatestSucceeded(ctx)
	if err != nil {
		return segmentation.Summary{}, err
	}
	static, err := e.cfg.Store.StaticMembers(ctx)
	if err != nil {
		return segmentation.Summary{}, err
	}
	counts := make(map[string]int64, len(static))
	for id, m := range static {
		counts[id] = int64(len(m))
	}
	return segmentation.Summarize(op, counts), nil
}

// MemberCount returns a segment's member count in the current snapshot.
func (e *Engine) MemberCount(segmentID string) int64 {
	snap, _ := e.Snapshot()
	n, err := snap.Size(segmentation.SegmentAudience(segmentID))
	if err != nil {
		return 0
	}
	return int64(n)
}

// RuleChecker returns a segmentation.RuleChecker that compiles rules with
// env and reports problems as *segmentation.RuleError.
func RuleChecker(env *rules.Env) segmentation.RuleChecker {
	return func(expr string) error {
		_, err := env.Compile(expr)
		var ce *rules.CompileError
		if errors.As(err, &ce) {
			return &segmentation.RuleError{Line: ce.Line, Column: ce.Column, Message: ce.Message}
		}
		return err
	}
}

// Operation returns operation id as this replica's queries see it. The
// replica running a recompute commits its results and then installs the new
// snapshot; until it has, the operation reads as still running here, so a
// caller that sees it succeed can query its results at once.
func (e *Engine) Operation(ctx context.Context, id string) (segmentation.Operation, error) {
	if err := segmentation.CheckOperationID(id); err != nil {
		return segmentation.Operation{}, err
	}
	op, err := e.cfg.Store.GetOperation(ctx, id)
	if err != nil {
		return op, err
	}
	if r := e.running.Load(); r != nil && r.ID == op.ID && op.State == segmentation.OperationSucceeded {
		op.State = segmentation.OperationRunning
		op.EndTime = time.Time{}
	}
	return op, nil
}

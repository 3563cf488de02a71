package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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

// CustomerScores returns a customer's scores from the last recompute.
func (e *Engine) CustomerScores(ctx context.Context, id string) (Scores, error) {
	snap, op := e.Snapshot()
	if op.ID == "" {
		return Scores{}, fmt.Errorf("%w: %s (no recompute has succeeded yet)", segmentation.ErrCustomerNotFound, id)
	}
	r, err := e.cfg.Store.GetResult(ctx, id)
	if err != nil {
		return Scores{}, err
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

// Check answers whether each customer is in each audience, from memory.
func (e *Engine) Check(customers, audiences []string) ([][]bool, segmentation.Operation, error) {
	if err := segmentation.ValidateCustomerIDs("customer_ids", customers, segmentation.MaxPairs); err != nil {
		return nil, segmentation.Operation{}, err
	}
	if len(audiences) == 0 {
		return nil, segmentation.Operation{}, &segmentation.FieldError{Path: "audiences", Msg: "at least one audience is required", Err: segmentation.ErrInvalidAudience}
	}
	if n := len(customers) * len(audiences); n > segmentation.MaxPairs {
		return nil, segmentation.Operation{}, fmt.Errorf("%w: %d customers × %d audiences = %d pairs, at most %d",
			segmentation.ErrTooManyPairs, len(customers), len(audiences), n, segmentation.MaxPairs)
	}
	for _, a := range audiences {
		if _, err := segmentation.ParseAudience(a); err != nil {
			return nil, segmentation.Operation{}, err
		}
	}
	snap, op := e.Snapshot()
	out, err := snap.Check(customers, audiences)
	if err != nil {
		for _, a := range audiences {
			if _, serr := snap.Size(a); serr != nil {
				return nil, op, audienceError(a, serr)
			}
		}
		return nil, op, err
	}
	return out, op, nil
}

// Members returns a page of an audience's members in id order, the next
// page token and the audience size.
func (e *Engine) Members(audience string, pageSize int, token string) ([]string, string, int64, error) {
	if _, err := segmentation.ParseAudience(audience); err != nil {
		return nil, "", 0, err
	}
	n, err := segmentation.PageSize(pageSize, segmentation.DefaultMemberPage, segmentation.MaxMemberPage)
	if err != nil {
		return nil, "", 0, err
	}
	after, err := segmentation.DecodePageToken("m", token)
	if err != nil {
		return nil, "", 0, err
	}
	snap, _ := e.Snapshot()
	size, err := snap.Size(audience)
	if err != nil {
		return nil, "", 0, audienceError(audience, err)
	}
	ids, next, err := snap.Members(audience, after, n)
	if err != nil {
		return nil, "", 0, audienceError(audience, err)
	}
	if next != "" {
		next = segmentation.EncodePageToken("m", next)
	}
	return ids, next, int64(size), nil
}

// Report returns the latest successful recompute with its report, and
// the current member count of every static segment.
func (e *Engine) Report(ctx context.Context) (segmentation.Operation, map[string]int64, error) {
	op, err := e.cfg.Store.LatestSucceeded(ctx)
	if err != nil {
		return op, nil, err
	}
	static, err := e.cfg.Store.StaticMembers(ctx)
	if err != nil {
		return op, nil, err
	}
	counts := make(map[string]int64, len(static))
	for id, m := range static {
		counts[id] = int64(len(m))
	}
	return op, counts, nil
}

// MemberCount returns a segment's member count in the current snapshot.
func (e *Engine) MemberCount(segmentID string) int64 {
	snap, _ := e.Snapshot()
	n, err := snap.Size(membership.SegmentAudience(segmentID))
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
	op, err := e.cfg.Service.GetOperation(ctx, id)
	if err != nil {
		return op, err
	}
	if r := e.running.Load(); r != nil && r.ID == op.ID && op.State == segmentation.OperationSucceeded {
		op.State = segmentation.OperationRunning
		op.EndTime = time.Time{}
	}
	return op, nil
}

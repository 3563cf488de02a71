package segmentation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/paging"
)

// AudienceChange is one customer entering or leaving one audience at a
// recompute: the set difference between the audience's members after the
// previous successful recompute and after this one. The first successful
// recompute sets the baseline and records none. Static segments change by
// request, not at a recompute, and have no changes.
type AudienceChange struct {
	Operation  string // the recompute's operation id
	Audience   string
	CustomerID string
	Entered    bool      // false: left
	AsOf       time.Time // the recompute's as-of time (set when listed)
}

// position is c's place in the order changes are listed: by operation,
// audience, then customer id.
func (c AudienceChange) position() string {
	return c.Operation + "\x00" + c.Audience + "\x00" + c.CustomerID
}

// ChangeKind selects entries, departures or both.
type ChangeKind int

// The change kinds a query selects.
const (
	ChangesAll ChangeKind = iota
	ChangesEntered
	ChangesLeft
)

// AudienceChangeQuery selects stored audience changes.
type AudienceChangeQuery struct {
	// Operation selects one recompute's changes; when empty, those of every
	// recompute after AfterOperation ("": every stored one).
	Operation      string
	AfterOperation string
	Audiences      []string // empty: every audience
	Kind           ChangeKind
	// After is the position to list from: changes after (Operation,
	// Audience, CustomerID) in that order; zero for the first page.
	After AudienceChange
	Limit int
}

// AudienceChangeStore keeps the changes each recompute recorded (written by
// FinishOperation with the results).
type AudienceChangeStore interface {
	// ListAudienceChanges returns up to q.Limit changes matching q, ordered
	// by operation, audience and customer id.
	ListAudienceChanges(ctx context.Context, q AudienceChangeQuery) ([]AudienceChange, error)
	// GetOperation returns an operation or ErrOperationNotFound.
	GetOperation(ctx context.Context, id string) (Operation, error)
}

// AudienceChangePages are ListAudienceChanges' page sizes.
var AudienceChangePages = paging.Sizes{Default: 500, Max: 5000}

// AudienceChanges serves the audience changes recompute records.
type AudienceChanges struct {
	Store AudienceChangeStore
}

// List returns a page of changes: of the recompute operation when it is
// not empty (ErrOperationNotFound if there is none), otherwise of every
// recompute after afterOperation. Audiences must parse.
func (a AudienceChanges) List(ctx context.Context, q AudienceChangeQuery, pageSize int, token string) ([]AudienceChange, string, error) {
	f := paging.For("ListAudienceChanges").With("operation", q.Operation).With("after_operation", q.AfterOperation).
		With("audiences", strings.Join(q.Audiences, " ")).With("kind", fmt.Sprint(int(q.Kind)))
	p, err := ParsePage(AudienceChangePages, pageSize, token, f)
	if err != nil {
		return nil, "", err
	}
	if p.After != "" {
		parts := strings.Split(p.After, "\x00")
		if len(parts) != 3 {
			return nil, "", pagingError(paging.InvalidToken())
		}
		q.After = AudienceChange{Operation: parts[0], Audience: parts[1], CustomerID: parts[2]}
	}
	if err := a.check(ctx, q); err != nil {
		return nil, "", err
	}
	q.Limit = p.Limit()
	changes, err := a.Store.ListAudienceChanges(ctx, q)
	if err != nil {
		return nil, "", err
	}
	changes, next := paging.Cut(p, changes, AudienceChange.position)
	return changes, next, nil
}

// check validates q's operations, audiences and kind.
func (a AudienceChanges) check(ctx context.Context, q AudienceChangeQuery) error {
	if q.Kind < ChangesAll || q.Kind > ChangesLeft {
		return &fielderr.Error{Path: "kind", Problem: fmt.Sprintf("unknown change kind %d", q.Kind),
			Fix: "use ENTERED, LEFT or leave it unset for both"}
	}
	if q.Operation != "" {
		if q.AfterOperation != "" {
			return &fielderr.Error{Path: "after_operation", Problem: "is set with a single operation as parent",
				Fix: "use operations/- as parent to list changes after an operation"}
		}
		if err := CheckOperationID(q.Operation); err != nil {
			return err
		}
		if _, err := a.Store.GetOperation(ctx, q.Operation); err != nil {
			return err
		}
	}
	if len(q.AfterOperation) > maxOperationID {
		return &fielderr.Error{Path: "after_operation", Problem: fmt.Sprintf("is %d bytes long", len(q.AfterOperation)),
			Fix: fmt.Sprintf("name an operation (ids are at most %d bytes)", maxOperationID)}
	}
	for i, n := range q.Audiences {
		if err := CheckAudience(fmt.Sprintf("audiences[%d]", i), n); err != nil {
			return err
		}
	}
	return nil
}

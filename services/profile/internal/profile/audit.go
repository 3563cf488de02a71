package profile

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/tenurehq/tenure/services/platform/paging"
)

// AuditRecord is the persisted record of a privacy operation (an export or
// an erasure): who ran it, on what, when, under which request id, and how
// it ended.
type AuditRecord struct {
	ID         int64
	Principal  string
	KeyID      string
	Method     string
	Resource   string
	RequestID  string
	Outcome    string
	CreateTime time.Time
}

// AuditStore keeps audit records.
type AuditStore interface {
	// AppendAudit stores r; the store assigns its ID.
	AppendAudit(ctx context.Context, r AuditRecord) error
	// ListAudit returns up to limit records with IDs below beforeID,
	// newest first.
	ListAudit(ctx context.Context, beforeID int64, limit int) ([]AuditRecord, error)
}

// AuditPage is one page of ListAudit.
type AuditPage struct {
	Records       []AuditRecord
	NextPageToken string
}

var auditPages = paging.Sizes{Default: 50, Max: 1000}

// Audit records privacy operations and lists them.
type Audit struct {
	store AuditStore
	now   Clock
}

// NewAudit returns an Audit over store; a nil clock means time.Now.
func NewAudit(store AuditStore, clock Clock) *Audit {
	if clock == nil {
		clock = time.Now
	}
	return &Audit{store: store, now: clock}
}

// Record stores r, stamped now when it has no time.
func (a *Audit) Record(ctx context.Context, r AuditRecord) error {
	if r.CreateTime.IsZero() {
		r.CreateTime = a.now()
	}
	r.CreateTime = r.CreateTime.UTC()
	return a.store.AppendAudit(ctx, r)
}

// List returns a page of audit records, newest first.
func (a *Audit) List(ctx context.Context, pageSize int, pageToken string) (AuditPage, error) {
	p, err := paging.Parse(auditPages, pageSize, pageToken, paging.For("ListAuditRecords"))
	if err != nil {
		return AuditPage{}, pagingError(err)
	}
	before := int64(math.MaxInt64)
	if p.After != "" {
		if before, err = strconv.ParseInt(p.After, 10, 64); err != nil || before <= 0 {
			return AuditPage{}, pagingError(paging.InvalidToken())
		}
	}
	rs, err := a.store.ListAudit(ctx, before, p.Limit())
	if err != nil {
		return AuditPage{}, err
	}
	var page AuditPage
	page.Records, page.NextPageToken = paging.Cut(p, rs, func(r AuditRecord) string { return strconv.FormatInt(r.ID, 10) })
	return page, nil
}

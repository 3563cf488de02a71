package loyalty

import (
	"context"
	"time"

	"github.com/tenurehq/tenure/services/platform/paging"
)

// ProgrammeStore keeps the programme's versions.
type ProgrammeStore interface {
	// Programme returns a version, or the current one for 0;
	// ErrProgrammeNotFound when there is no such version (or none yet).
	Programme(ctx context.Context, version int64) (Programme, error)
	// InsertProgramme stores p as the version after current, or fails with
	// ErrVersionMismatch when current is no longer the latest.
	InsertProgramme(ctx context.Context, p Programme, current int64) (Programme, error)
}

// LedgerStore runs ledger transactions and reads accounts and entries.
type LedgerStore interface {
	// InLedger runs fn in one transaction and saves the accounts it
	// touched when fn returns nil. Accounts hold the buckets with points
	// left and the qualifying buckets earned after from.
	InLedger(ctx context.Context, from time.Time, fn func(ctx context.Context, l Ledger) error) error
	// ApplyPage is InLedger for a page of profile events ending at
	// sequence to: fn gets the cursor stored when the transaction started,
	// and the cursor becomes to in the same transaction. A page at or
	// below the cursor is not applied.
	ApplyPage(ctx context.Context, to int64, from time.Time, fn func(ctx context.Context, l Ledger, cursor int64) error) error
	// Cursor returns the sequence of the last profile event applied.
	Cursor(ctx context.Context) (int64, error)
	// ReadAccount returns a customer's account outside a transaction, as
	// InLedger loads it; nil if the customer is unknown.
	ReadAccount(ctx context.Context, id string, from time.Time) (*Account, error)
	// ListEntries returns up to limit of a member's entries, newest first,
	// with a Seq below before (0: from the newest).
	ListEntries(ctx context.Context, member string, before int64, limit int) ([]Entry, error)
}

// JobKind is a job over every member.
type JobKind string

// The jobs.
const (
	JobExpire    JobKind = "expire_points"
	JobTiers     JobKind = "evaluate_tiers"
	JobBirthdays JobKind = "birthday_points"
	// JobMature saves the tier changes of pending points that have become
	// available (Account.Mature), which reads and every change to a member
	// apply at once.
	JobMature JobKind = "mature_points"
)

// OperationState is where an operation is.
type OperationState string

// The operation states.
const (
	OpRunning   OperationState = "running"
	OpSucceeded OperationState = "succeeded"
	OpFailed    OperationState = "failed"
)

// Operation is one run of a job for an as-of time.
type Operation struct {
	ID               string
	Kind             JobKind
	AsOf             time.Time
	State            OperationState
	ProgrammeVersion int64
	MembersChanged   int64
	Points           int64
	CreateTime       time.Time
	EndTime          time.Time
	Error            string
	Scheduled        bool
	// Owner is the runner holding the operation while it runs, until
	// LeaseUntil; a runner that finds the lease lapsed takes it over and
	// goes on after ResumeAfter, the last member done.
	Owner       string
	LeaseUntil  time.Time
	ResumeAfter string
}

// LeaseLostError is a job runner's write refused because another runner
// holds the operation now.
type LeaseLostError struct{ ID string }

func (e *LeaseLostError) Error() string {
	return "loyalty: operation " + e.ID + " is held by another runner"
}

// JobStore finds the members a job may change and keeps its operations.
// A batch's changes and the operation's progress after it are saved in one
// transaction, and only while the runner (op.Owner) holds the operation;
// otherwise the batch is rolled back with a *LeaseLostError.
type JobStore interface {
	// JobMembers returns up to limit ids after after, in id order, of the
	// members the job may change at asOf (a superset is fine).
	JobMembers(ctx context.Context, kind JobKind, asOf time.Time, after string, limit int) ([]string, error)
	// InJobBatch is InLedger for one batch of a job: fn returns the
	// operation's progress, saved with the batch.
	InJobBatch(ctx context.Context, from time.Time, fn func(ctx context.Context, l Ledger) (Operation, error)) error
	// ExpireBatch takes the next limit members after after, in id order,
	// and runs fn, in one transaction, on the accounts of those enrolled
	// with buckets with points left expiring at or before asOf (none, when
	// none is), and the last member's id; each account holds just those
	// buckets, with what Expire reads (id, points left, expiry), and of its
	// member the id, enrolment and entry number. It saves what fn changed,
	// which must be at most one expire entry per account taking all of
	// them, and the operation's progress fn returns, and returns the last
	// member's id, "" when no member is left. A retried transaction calls
	// fn again with fresh accounts.
	ExpireBatch(ctx context.Context, asOf time.Time, after string, limit int, fn func(accounts []*Account, last string) (Operation, error)) (string, error)
	// StartOperation stores op unless one of the same kind and as-of time
	// exists; then it returns that one and false. A failed one is started
	// again from the beginning, and a running one whose lease lapsed
	// before op.CreateTime is taken over (op.Owner until op.LeaseUntil)
	// with its progress; both return true.
	StartOperation(ctx context.Context, op Operation) (Operation, bool, error)
	// RenewLease extends the lease of a running operation its owner
	// holds; false when it does not hold it.
	RenewLease(ctx context.Context, id, owner string, until time.Time) (bool, error)
	// FinishOperation saves a finished op, held by op.Owner.
	FinishOperation(ctx context.Context, op Operation) error
	// Operation returns one; ErrOperationNotFound if none.
	Operation(ctx context.Context, id string) (Operation, error)
	// StaleOperations returns the running operations whose lease lapsed
	// before t.
	StaleOperations(ctx context.Context, t time.Time) ([]Operation, error)
}

// Report is the programme's state at a time.
type Report struct {
	Available, Pending, Unrecovered, SkippedOrders int64
	Months                                         []MonthTotals
	Tiers                                          map[string]int64
}

// MonthTotals are the points moved in one month (UTC), all positive.
type MonthTotals struct {
	Month                               string // YYYY-MM
	Earned, Redeemed, Expired, Reversed int64
}

// ReportStore computes the report.
type ReportStore interface {
	Report(ctx context.Context, at time.Time) (Report, error)
}

// Store is every storage interface of the service.
type Store interface {
	ProgrammeStore
	LedgerStore
	JobStore
	ReportStore
	RewardStore
	ExpiringStore
}

// entrySizes is ListLedgerEntries' page size policy.
var entrySizes = paging.Sizes{Default: 50, Max: 500}

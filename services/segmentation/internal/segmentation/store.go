package segmentation

import (
	"context"
	"strconv"
	"time"
)

// SettingsVersion is one stored version of the settings.
type SettingsVersion struct {
	Version    int64
	Settings   Settings
	UpdateTime time.Time
}

// SegmentKind says how a segment gets its members.
type SegmentKind uint8

const (
	SegmentKindUnspecified SegmentKind = iota
	// SegmentKindRule: members are the customers whose rule is true at a recompute.
	SegmentKindRule
	// SegmentKindStatic: members are added and removed explicitly.
	SegmentKindStatic
)

// SegmentDef is a rule or static segment.
type SegmentDef struct {
	ID          string
	DisplayName string
	Description string
	Kind        SegmentKind
	Rule        string
	CreateTime  time.Time
	UpdateTime  time.Time
	// Revision is store-owned: 1 on create, +1 on every update.
	Revision int64
	// MemberCount is filled in by the Service, not stored.
	MemberCount int64
}

// ETag is the segment's entity tag, derived from its revision.
func (s SegmentDef) ETag() string { return `W/"` + strconv.FormatInt(s.Revision, 10) + `"` }

// OperationState is where a recompute is.
type OperationState uint8

const (
	OperationRunning OperationState = iota + 1
	OperationSucceeded
	OperationFailed
)

// Trigger is what started a recompute.
type Trigger uint8

const (
	TriggerAPI Trigger = iota + 1
	TriggerSchedule
)

// Operation is a recompute, running or finished.
type Operation struct {
	ID              string
	State           OperationState
	Trigger         Trigger
	AsOf            time.Time
	SettingsVersion int64
	InputSequence   int64
	CustomersDone   int64
	CustomersTotal  int64
	CreateTime      time.Time
	EndTime         time.Time
	Error           string
	// Report is set on succeeded operations.
	Report *Report
	// RuleErrors maps a rule segment id to how many evaluations of its
	// rule failed (counted as not a member); rules without failures are
	// absent.
	RuleErrors map[string]int64
}

// Name is the operation's resource name.
func (o Operation) Name() string { return "operations/" + o.ID }

// Done reports whether the operation has finished.
func (o Operation) Done() bool { return o.State == OperationSucceeded || o.State == OperationFailed }

// Report is the distribution of one recompute's results.
type Report struct {
	Distribution Distribution
	// Segments maps rule segment ids to their member counts.
	Segments map[string]int64
	// MonetaryTotal is the sum of M over scored customers per currency,
	// held at the int64 limits rather than wrapping.
	MonetaryTotal map[string]int64
	// Prediction is the prediction phase's report.
	Prediction *PredictionReport `json:",omitempty"`
}

// CustomerResult is one customer's stored result of the latest successful
// recompute.
type CustomerResult struct {
	Result
	// Currency is the currency of Monetary.
	Currency string
	// Segments are the ids of the rule segments the customer is in, sorted.
	Segments []string
	// Operation is the id of the recompute the stored result is from (the
	// latest successful one).
	Operation string
}

// ResultSet is everything a successful recompute stores.
type ResultSet struct {
	// Results are the customers' results in customer id order. When Rows
	// is set it gives them instead, without a materialised copy.
	Results []CustomerResult
	Rows    ResultRows
	// Sizes maps each audience name to its size.
	Sizes  map[string]int64
	Report Report
	// Generation is the ResultsGeneration read before the inputs were
	// loaded.
	Generation int64
	// Base, when set, is the operation whose stored results these differ
	// from only in the rows at the indices Changed and in the customers
	// Removed (ids Base stored that these lack): every other row equals
	// the one Base stored. If the stored results are still Base's, and
	// no page has deleted or re-keyed results since generation
	// BaseGeneration, the store may write only those rows.
	Base           string
	BaseGeneration int64
	Changed        []int
	Removed        []string
	// Changes are who entered and who left each audience since the
	// results of operation ChangesSince, which must be the latest
	// successful recompute (their Operation is left to the store). With no
	// successful recompute before, none are recorded: the first one is the
	// baseline. An empty ChangesSince records none.
	Changes      []AudienceChange
	ChangesSince string
}

// ResultRows produces a recompute's results one at a time.
type ResultRows interface {
	// Len is the number of results.
	Len() int
	// Row fills r with result i (0 ≤ i < Len, customer id order), reusing
	// r.Segments' backing array. Operation is left to the store.
	Row(i int, r *CustomerResult)
}

// Len returns the number of results in rs.
func (rs *ResultSet) Len() int {
	if rs.Rows != nil {
		return rs.Rows.Len()
	}
	return len(rs.Results)
}

// Row fills r with result i of rs (see ResultRows.Row).
func (rs *ResultSet) Row(i int, r *CustomerResult) {
	if rs.Rows != nil {
		rs.Rows.Row(i, r)
		return
	}
	*r = rs.Results[i]
}

// SizePoint is one audience's size at one recompute.
type SizePoint struct {
	Operation string // operation id
	Audience  string
	AsOf      time.Time
	Size      int64
}

// The segmentation service's state is kept behind one small interface per
// aggregate; the SQL store implements them all. Implementations must be
// safe for concurrent use and for use by several replicas at once. Each
// user (the Service, the recompute engine, the event consumer) declares
// the methods it needs.

// InputStore keeps the customers' inputs, fed by profile's event log, and
// the log cursor they reflect.
type InputStore interface {
	// Cursor returns the sequence of the last applied profile event (0 if none).
	Cursor(ctx context.Context) (int64, error)
	// ApplyPage applies mutations in order and sets the cursor, in one
	// transaction. A cursor not above the stored one is ignored along
	// with the mutations (the page was applied already). The API requests
	// stored for request_id retries that named a customer the page deletes
	// or re-keys are forgotten in the same transaction. sequences are
	// those of the page's events: the ones above the stored cursor are
	// added to AppliedEvents. (A page may start below the stored cursor
	// when another replica applied part of it; re-applying snapshots is
	// harmless, but those events are not counted again.)
	ApplyPage(ctx context.Context, muts []Mutation, cursor int64, sequences []int64) error
	// AppliedEvents is the number of log events applied, each counted when
	// the cursor first passes it. Unlike the inputs, which hold the latest
	// snapshot whatever came before, it counts an event twice if the
	// cursor ever moves back over it and not at all if the cursor skips
	// it: it must equal the number of events in profile's log up to the
	// cursor.
	AppliedEvents(ctx context.Context) (int64, error)
	// ResultsGeneration returns a counter that ApplyPage bumps, in its
	// transaction, whenever a page deletes or re-keys customers and so
	// deletes or re-keys their stored results.
	ResultsGeneration(ctx context.Context) (int64, error)
	// GetCustomer returns one customer's inputs or ErrCustomerNotFound.
	GetCustomer(ctx context.Context, id string) (Customer, error)
	// LoadCustomers returns every customer's inputs in id order.
	LoadCustomers(ctx context.Context) ([]Customer, error)
}

// SettingsStore keeps the versions of the settings.
type SettingsStore interface {
	// LatestSettings returns the newest settings version or ErrSettingsNotFound.
	LatestSettings(ctx context.Context) (SettingsVersion, error)
	// GetSettings returns one version or ErrSettingsNotFound.
	GetSettings(ctx context.Context, version int64) (SettingsVersion, error)
	// InsertSettings stores s as version expected+1; ErrETagMismatch if the
	// newest version is not expected (0: none yet).
	InsertSettings(ctx context.Context, s Settings, expected int64, now time.Time) (SettingsVersion, error)
}

// SegmentStore keeps the rule and static segments and the static
// segments' members.
type SegmentStore interface {
	// CreateSegment stores a new segment with Revision 1 or returns
	// ErrSegmentAlreadyExists.
	CreateSegment(ctx context.Context, s SegmentDef) (SegmentDef, error)
	// GetSegment returns a segment or ErrSegmentNotFound.
	GetSegment(ctx context.Context, id string) (SegmentDef, error)
	// ListSegments returns up to limit segments with ids above afterID, in id order.
	ListSegments(ctx context.Context, afterID string, limit int) ([]SegmentDef, error)
	// UpdateSegment runs fn on the stored segment inside a transaction and
	// writes display name, description, rule and update time, Revision+1.
	UpdateSegment(ctx context.Context, id string, fn func(*SegmentDef) error) (SegmentDef, error)
	// DeleteSegment runs check on the stored segment and deletes it with its members.
	DeleteSegment(ctx context.Context, id string, check func(SegmentDef) error) error
	// AddStaticMembers adds customers to a static segment; it returns how
	// many were new and the member count after. ErrSegmentNotFound,
	// ErrNotStaticSegment.
	AddStaticMembers(ctx context.Context, id string, customers []string) (added, total int64, err error)
	// RemoveStaticMembers removes customers from a static segment.
	RemoveStaticMembers(ctx context.Context, id string, customers []string) (removed, total int64, err error)
	// StaticMembers returns every static segment's members, sorted.
	StaticMembers(ctx context.Context) (map[string][]string, error)
}

// OperationStore keeps the recompute operations.
type OperationStore interface {
	// StartOperation stores a RUNNING operation, or returns an
	// *InProgressError if one is running already.
	StartOperation(ctx context.Context, op Operation) error
	// FailRunning marks every RUNNING operation FAILED with msg.
	FailRunning(ctx context.Context, msg string, now time.Time) error
	// UpdateProgress records a running operation's progress.
	UpdateProgress(ctx context.Context, id string, done, total int64) error
	// FinishOperation stores rs as the latest results, each row naming op
	// (replacing the previous ones), one size point per audience, and marks
	// op SUCCEEDED with its report and rule errors, in one transaction.
	// Results of customers deleted or re-keyed since rs.Generation (read
	// before the inputs were loaded) are left out.
	FinishOperation(ctx context.Context, op Operation, rs ResultSet) error
	// FailOperation marks a running operation FAILED.
	FailOperation(ctx context.Context, id, msg string, now time.Time) error
	// GetOperation returns an operation or ErrOperationNotFound.
	GetOperation(ctx context.Context, id string) (Operation, error)
	// RunningOperation returns the running operation or ErrOperationNotFound.
	RunningOperation(ctx context.Context) (Operation, error)
	// ListOperations returns up to limit operations with ids below
	// beforeID ("" for the newest), newest first.
	ListOperations(ctx context.Context, beforeID string, limit int) ([]Operation, error)
	// LatestSucceeded returns the newest succeeded operation or ErrNoRecompute.
	LatestSucceeded(ctx context.Context) (Operation, error)
}

// ResultStore keeps the latest successful recompute's results and the
// audiences' size history.
type ResultStore interface {
	// GetResult returns one customer's latest result or ErrCustomerNotFound.
	GetResult(ctx context.Context, customerID string) (CustomerResult, error)
	// LoadResults calls fn for every stored result in customer id order.
	LoadResults(ctx context.Context, fn func(*CustomerResult) error) error
	// SizeHistory returns the size points of the given audiences (all if
	// empty) for the newest limit succeeded recomputes as of since or
	// later, ordered by audience, then oldest first.
	SizeHistory(ctx context.Context, audiences []string, since time.Time, limit int) ([]SizePoint, error)
}

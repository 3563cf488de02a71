package profile

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/paging"
)

// Page sizes and the batch limit.
const (
	DefaultCustomerPageSize = 50
	MaxCustomerPageSize     = 1000
	DefaultEventPageSize    = 100
	MaxEventPageSize        = 1000
	MaxBatchSize            = 1000
)

// Service holds the profile use cases. Handlers call it; it validates,
// applies the business rules and calls the Store.
type Service struct {
	store    Store
	validate *Validator
	now      Clock
	appended broadcast
}

// NewService returns a Service over store. A nil clock means time.Now.
func NewService(store Store, clock Clock) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{store: store, validate: NewValidator(), now: func() time.Time { return clock().UTC() }}
}

// CreateCustomer creates c under c.ID, or completes a provisional customer.
func (s *Service) CreateCustomer(ctx context.Context, c Customer) (Customer, error) {
	if err := CheckCustomerID(c.ID); err != nil {
		return Customer{}, err
	}
	now := s.now()
	c.Tags = normalizeTags(c.Tags)
	if err := s.validate.Customer(c, now); err != nil {
		return Customer{}, err
	}
	c.State = StateActive
	c.Features = Features{}
	c.CreateTime, c.UpdateTime, c.Revision = now, now, 0
	rec := changeRecorder{now: now}
	out, err := s.store.CreateCustomer(ctx, c, rec.updated)
	s.notifyIf(err == nil && rec.wrote)
	return out, err
}

// GetCustomer returns customer id.
func (s *Service) GetCustomer(ctx context.Context, id string) (Customer, error) {
	if err := CheckCustomerID(id); err != nil {
		return Customer{}, err
	}
	return s.store.GetCustomer(ctx, id)
}

// ListCustomersQuery selects a page of customers.
type ListCustomersQuery struct {
	Tag          string
	UpdatedAfter time.Time
	PageSize     int
	PageToken    string
}

// CustomerPage is one page of customers.
type CustomerPage struct {
	Customers     []Customer
	NextPageToken string
}

// Page size policies, as the API documents them.
var (
	customerPages = paging.Sizes{Default: DefaultCustomerPageSize, Max: MaxCustomerPageSize}
	eventPages    = paging.Sizes{Default: DefaultEventPageSize, Max: MaxEventPageSize}
)

// ListCustomers returns one page of customers in id order. A page token is
// bound to the tag and updated_after of the request that returned it.
func (s *Service) ListCustomers(ctx context.Context, q ListCustomersQuery) (CustomerPage, error) {
	if q.Tag != "" {
		if msg := tagProblem(q.Tag); msg != "" {
			return CustomerPage{}, InvalidArgument("tag", "%s", msg)
		}
	}
	f := CustomerFilter{Tag: q.Tag, UpdatedAfter: q.UpdatedAfter.UTC()}
	p, err := paging.Parse(customerPages, q.PageSize, q.PageToken, paging.For("ListCustomers").
		With("tag", q.Tag).With("updated_after", f.UpdatedAfter.Format(time.RFC3339Nano)))
	if err != nil {
		return CustomerPage{}, pagingError(err)
	}
	if p.After != "" && customerIDProblem(p.After) != "" {
		return CustomerPage{}, pagingError(paging.InvalidToken())
	}
	f.AfterID, f.Limit = p.After, p.Limit()
	cs, err := s.store.ListCustomers(ctx, f)
	if err != nil {
		return CustomerPage{}, err
	}
	var page CustomerPage
	page.Customers, page.NextPageToken = paging.Cut(p, cs, func(c Customer) string { return c.ID })
	return page, nil
}

// pagingError words the paging package's errors (each a *fielderr.Error)
// as this package does: a bad token wraps ErrInvalidPageToken too, so the
// error table gives it its own reason.
func pagingError(err error) error {
	var fe *fielderr.Error
	switch {
	case errors.Is(err, paging.ErrInvalidPageToken):
		return fmt.Errorf("%w: %w", ErrInvalidPageToken, err)
	case errors.As(err, &fe):
		return AsInvalidArgument(fe)
	}
	return err
}

// UpdateCustomer changes the fields of customer patch.ID named in fields to
// patch's values. A non-empty etag must match the stored customer's.
func (s *Service) UpdateCustomer(ctx context.Context, patch Customer, fields []CustomerField, etag string) (Customer, error) {
	if err := CheckCustomerID(patch.ID); err != nil {
		return Customer{}, err
	}
	if len(fields) == 0 {
		return Customer{}, InvalidArgument("update_mask", "name at least one field")
	}
	now := s.now()
	rec := changeRecorder{now: now}
	out, err := s.store.UpdateCustomer(ctx, patch.ID, func(c *Customer) error {
		if etag != "" && etag != c.ETag() {
			return ErrETagMismatch
		}
		if c.State == StateErased {
			return ErrCustomerErased
		}
		next := *c
		applyFields(&next, patch, fields)
		next.Tags = normalizeTags(next.Tags)
		if err := s.validate.Customer(next, now); err != nil {
			return err
		}
		next.UpdateTime = now
		*c = next
		return nil
	}, rec.updated)
	s.notifyIf(err == nil && rec.wrote)
	return out, err
}

// DeleteCustomer deletes a customer that has no events other than system
// events (its customer_updated events), and appends customer_deleted. A
// non-empty etag must match.
func (s *Service) DeleteCustomer(ctx context.Context, id, etag string) error {
	if err := CheckCustomerID(id); err != nil {
		return err
	}
	rec := changeRecorder{now: s.now()}
	err := s.store.DeleteCustomer(ctx, id, func(c Customer) error {
		if etag != "" && etag != c.ETag() {
			return ErrETagMismatch
		}
		if c.State == StateErased {
			return fmt.Errorf("%w (customer %s)", ErrCustomerErased, id)
		}
		if c.Features.EventCount > 0 {
			return fmt.Errorf("%w (customer %s)", ErrCustomerHasEvents, id)
		}
		return nil
	}, rec.deleted)
	s.notifyIf(err == nil && rec.wrote)
	return err
}

// AddTags adds tags to customer id; tags it already has are kept.
func (s *Service) AddTags(ctx context.Context, id string, tags []string) (Customer, error) {
	return s.changeTags(ctx, id, tags, func(have []string) []string { return append(have, tags...) })
}

// RemoveTags removes tags from customer id; absent tags are ignored.
func (s *Service) RemoveTags(ctx context.Context, id string, tags []string) (Customer, error) {
	return s.changeTags(ctx, id, tags, func(have []string) []string {
		return slices.DeleteFunc(have, func(t string) bool { return slices.Contains(tags, t) })
	})
}

func (s *Service) changeTags(ctx context.Context, id string, tags []string, change func([]string) []string) (Customer, error) {
	if err := CheckCustomerID(id); err != nil {
		return Customer{}, err
	}
	if len(tags) == 0 {
		return Customer{}, customerErr("tags", "name at least one tag")
	}
	if err := CheckTags(tags); err != nil {
		return Customer{}, err
	}
	now := s.now()
	rec := changeRecorder{now: now}
	out, err := s.store.UpdateCustomer(ctx, id, func(c *Customer) error {
		if c.State == StateErased {
			return ErrCustomerErased
		}
		next := normalizeTags(change(slices.Clone(c.Tags)))
		if len(next) > MaxTags {
			return customerErr("tags", "a customer has at most %d tags", MaxTags)
		}
		c.Tags = next
		c.UpdateTime = now
		return nil
	}, rec.updated)
	s.notifyIf(err == nil && rec.wrote)
	return out, err
}

// changeRecorder builds the system events of customer writes (its methods
// are CustomerEventFuncs) and remembers whether it built one, so followers
// of the log are woken once the write has committed.
type changeRecorder struct {
	now   time.Time
	wrote bool
}

// updated records a created customer, a completed provisional one, or a
// change of any profile field; an update that changes nothing is not
// recorded.
func (r *changeRecorder) updated(before, after Customer) (Event, bool) {
	if sameProfile(before, after) {
		return Event{}, false
	}
	r.wrote = true
	return r.event(after, CustomerUpdated{Tags: slices.Clone(after.Tags), Birthday: after.Birthday, TimeZone: after.TimeZone}), true
}

// deleted records a deletion.
func (r *changeRecorder) deleted(before, _ Customer) (Event, bool) {
	r.wrote = true
	return r.event(before, CustomerDeleted{}), true
}

// event returns a system event about c that occurred now. Its id names the
// kind, customer and revision; a random suffix keeps it unique when a
// deleted id is created again and its revisions start over.
func (r *changeRecorder) event(c Customer, p Payload) Event {
	suffix := strings.ToLower(rand.Text()[:10])
	return Event{
		ID:         fmt.Sprintf("tenure:%s:%s:%d:%s", p.Kind(), c.ID, c.Revision, suffix),
		CustomerID: c.ID,
		OccurredAt: r.now,
		RecordTime: r.now,
		Payload:    p,
	}
}

// sameProfile reports whether a and b have the same state and profile
// fields (everything a customer_updated event stands for; not features,
// times or revision).
func sameProfile(a, b Customer) bool {
	return a.State == b.State &&
		a.FullName == b.FullName && a.Email == b.Email && a.Phone == b.Phone &&
		a.Birthday == b.Birthday && a.TimeZone == b.TimeZone && a.Country == b.Country &&
		a.RegistrationTime.Equal(b.RegistrationTime) && a.RegistrationChannel == b.RegistrationChannel &&
		a.Consent == b.Consent && slices.Equal(a.Tags, b.Tags)
}

func (s *Service) notifyIf(appended bool) {
	if appended {
		s.appended.notify()
	}
}

func normalizeTags(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := slices.Clone(tags)
	slices.Sort(out)
	return slices.Compact(out)
}

// EventOutcome is what happened to a submitted event.
type EventOutcome int

// Event outcomes.
const (
	OutcomeAccepted EventOutcome = iota + 1
	OutcomeDuplicate
	OutcomeRejected
)

// EventResult is the outcome for one submitted event.
type EventResult struct {
	Index int
	// EventID is the event's id; empty when the id itself is invalid, so
	// that a huge or garbled id is not sent back.
	EventID  string
	Outcome  EventOutcome
	Sequence int64
	// Err explains a rejection.
	Err *ValidationError
}

// Submission is one event of a batch as the caller sent it. Rejected, when
// set, is why the caller's layer could not convert the event (a malformed
// timestamp, say): the event is rejected with it, in its place in the batch.
type Submission struct {
	Event    Event
	Rejected *ValidationError
}

// BatchResult is the outcome of a batch: one result per submitted event, in
// request order, and how many events had each outcome.
type BatchResult struct {
	Results                        []EventResult
	Accepted, Duplicates, Rejected int
}

// RecordEvent records one event. An invalid event fails with a
// *ValidationError; a duplicate succeeds with OutcomeDuplicate.
func (s *Service) RecordEvent(ctx context.Context, e Event) (EventResult, error) {
	if verr := s.validate.Event(e, s.now()); verr != nil {
		return EventResult{}, verr
	}
	b, err := s.RecordEvents(ctx, []Submission{{Event: e}})
	if err != nil {
		return EventResult{}, err
	}
	return b.Results[0], nil
}

// RecordEvents records a batch of 1 to MaxBatchSize events. Valid events
// are kept even when others are rejected; an event id seen earlier in the
// batch or in the log is a duplicate.
func (s *Service) RecordEvents(ctx context.Context, batch []Submission) (BatchResult, error) {
	switch {
	case len(batch) == 0:
		return BatchResult{}, fmt.Errorf("%w: events: send 1 to %d events", ErrEmptyBatch, MaxBatchSize)
	case len(batch) > MaxBatchSize:
		return BatchResult{}, fmt.Errorf("%w: events: send 1 to %d events, got %d; split the batch", ErrBatchTooLarge, MaxBatchSize, len(batch))
	}
	now := s.now()
	results := make([]EventResult, len(batch))
	seen := make(map[string]bool, len(batch))
	valid := make([]Event, 0, len(batch))
	validIdx := make([]int, 0, len(batch))
	for i, sub := range batch {
		e := sub.Event
		results[i] = EventResult{Index: i, EventID: e.ID}
		if eventIDProblem(e.ID) != "" {
			results[i].EventID = ""
		}
		verr := sub.Rejected
		if verr == nil {
			verr = s.validate.Event(e, now)
		}
		if verr != nil {
			v := *verr
			v.Index, v.EventID = i, e.ID
			results[i].Outcome, results[i].Err = OutcomeRejected, &v
			continue
		}
		if seen[e.ID] {
			results[i].Outcome = OutcomeDuplicate
			continue
		}
		seen[e.ID] = true
		e.OccurredAt = e.OccurredAt.UTC()
		e.RecordTime, e.Sequence = now, 0
		valid = append(valid, e)
		validIdx = append(validIdx, i)
	}
	if len(valid) > 0 {
		stored, err := s.store.AppendEvents(ctx, valid, (*Features).Apply)
		if err != nil {
			return BatchResult{}, err
		}
		if len(stored) != len(valid) {
			return BatchResult{}, fmt.Errorf("profile: store returned %d results for %d events", len(stored), len(valid))
		}
		for j, r := range stored {
			i := validIdx[j]
			if r.Duplicate {
				results[i].Outcome = OutcomeDuplicate
				continue
			}
			results[i].Outcome, results[i].Sequence = OutcomeAccepted, r.Sequence
		}
	}
	out := BatchResult{Results: results}
	for _, r := range results {
		switch r.Outcome {
		case OutcomeAccepted:
			out.Accepted++
		case OutcomeDuplicate:
			out.Duplicates++
		case OutcomeRejected:
			out.Rejected++
		}
	}
	s.notifyIf(out.Accepted > 0)
	return out, nil
}

// HeadSequence returns the sequence of the latest event in the log.
func (s *Service) HeadSequence(ctx context.Context) (int64, error) {
	return s.store.HeadSequence(ctx)
}

// currentFeatures returns the current features of the customers among ids
// (a page of the log's customer ids, which may repeat) that exist, by id,
// in one store query.
func (s *Service) currentFeatures(ctx context.Context, ids []string) (map[string]Features, error) {
	uniq := slices.Clone(ids)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	if len(uniq) == 0 {
		return map[string]Features{}, nil
	}
	return s.store.CustomerFeatures(ctx, uniq)
}

// EventPage is one page of a customer's events.
type EventPage struct {
	Events        []Event
	NextPageToken string
}

// ListCustomerEvents returns one page of a customer's events in sequence
// order. A page token is bound to the customer.
func (s *Service) ListCustomerEvents(ctx context.Context, id string, size int, token string) (EventPage, error) {
	if _, err := s.GetCustomer(ctx, id); err != nil {
		return EventPage{}, err
	}
	p, err := paging.Parse(eventPages, size, token, paging.For("ListCustomerEvents").With("parent", id))
	if err != nil {
		return EventPage{}, pagingError(err)
	}
	var after int64
	if p.After != "" {
		if after, err = strconv.ParseInt(p.After, 10, 64); err != nil || after <= 0 {
			return EventPage{}, pagingError(paging.InvalidToken())
		}
	}
	evs, err := s.store.ListCustomerEvents(ctx, id, after, p.Limit())
	if err != nil {
		return EventPage{}, err
	}
	var page EventPage
	page.Events, page.NextPageToken = paging.Cut(p, evs, func(e Event) string { return strconv.FormatInt(e.Sequence, 10) })
	return page, nil
}

// Export is everything Tenure holds about a customer.
type Export struct {
	Customer Customer
	Events   []Event
	Time     time.Time
}

// ExportCustomer returns the customer and all its events.
func (s *Service) ExportCustomer(ctx context.Context, id string) (Export, error) {
	c, err := s.GetCustomer(ctx, id)
	if err != nil {
		return Export{}, err
	}
	x := Export{Customer: c, Time: s.now()}
	var after int64
	for {
		evs, err := s.store.ListCustomerEvents(ctx, id, after, MaxEventPageSize)
		if err != nil {
			return Export{}, err
		}
		x.Events = append(x.Events, evs...)
		if len(evs) < MaxEventPageSize {
			return x, nil
		}
		after = evs[len(evs)-1].Sequence
	}
}

// EraseCustomer removes a customer's personal data; its events and
// features live on under a new anonymous id, which it returns with the
// number of events re-keyed.
func (s *Service) EraseCustomer(ctx context.Context, id string) (string, int64, error) {
	if err := CheckCustomerID(id); err != nil {
		return "", 0, err
	}
	anon := "anon-" + strings.ToLower(rand.Text())
	now := s.now()
	erased := Event{
		ID:         "customer-erased:" + anon,
		CustomerID: id,
		OccurredAt: now,
		RecordTime: now,
		Payload:    CustomerErased{AnonymousID: anon},
	}
	n, err := s.store.EraseCustomer(ctx, id, erased)
	if err != nil {
		return "", 0, err
	}
	s.appended.notify()
	return anon, n, nil
}

// broadcast wakes every waiter once per notify.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

func (b *broadcast) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

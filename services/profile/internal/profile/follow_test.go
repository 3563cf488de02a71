package profile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// logStore serves an in-memory event log and features; FollowEvents calls
// nothing else.
type logStore struct {
	Store
	mu       sync.Mutex
	events   []Event
	features map[string]Features
}

func (s *logStore) add(customers ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range customers {
		seq := int64(len(s.events) + 1)
		s.events = append(s.events, Event{Sequence: seq, ID: fmt.Sprintf("e%d", seq), CustomerID: c})
	}
}

func (s *logStore) ListEvents(_ context.Context, after int64, limit int) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Event
	for _, e := range s.events {
		if e.Sequence > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *logStore) CustomerFeatures(_ context.Context, ids []string) (map[string]Features, error) {
	out := map[string]Features{}
	for _, id := range ids {
		if f, ok := s.features[id]; ok {
			out[id] = f
		}
	}
	return out, nil
}

// follower runs FollowEvents in the background and hands over what it
// sends; stop cancels it and returns its error.
type follower struct {
	got    chan LoggedEvent
	cancel context.CancelFunc
	done   chan error
}

func follow(t *testing.T, svc *Service, q FollowQuery) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{got: make(chan LoggedEvent), cancel: cancel, done: make(chan error, 1)}
	go func() {
		f.done <- svc.FollowEvents(ctx, q, func(e LoggedEvent) error {
			select {
			case f.got <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-f.done })
	return f
}

func (f *follower) next(t *testing.T) LoggedEvent {
	t.Helper()
	select {
	case e := <-f.got:
		return e
	case err := <-f.done:
		t.Fatalf("FollowEvents returned %v, want it to follow", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return LoggedEvent{}
}

// TestFollowEvents follows the log from a sequence with features: it sends
// the events after it, in order, pages beyond the page size, then events
// appended by this Service at once (the poll is an hour) until cancelled.
func TestFollowEvents(t *testing.T) {
	st := &logStore{features: map[string]Features{"a": {OrderCount: 2}}}
	st.add("a", "a", "gone")
	svc := NewService(st, nil)
	f := follow(t, svc, FollowQuery{AfterSequence: 1, IncludeFeatures: true, Poll: time.Hour})
	for _, want := range []struct {
		seq      int64
		features bool
	}{{2, true}, {3, false}} {
		e := f.next(t)
		if e.Event.Sequence != want.seq || (e.Features != nil) != want.features {
			t.Fatalf("got event %d with features %v, want event %d with features %v", e.Event.Sequence, e.Features, want.seq, want.features)
		}
		if want.features && e.Features.OrderCount != 2 {
			t.Fatalf("event %d: features %+v, want the customer's current ones", e.Event.Sequence, *e.Features)
		}
	}

	more := make([]string, 2*MaxEventPageSize+5)
	for i := range more {
		more[i] = "b"
	}
	st.add(more...)
	svc.notifyIf(true) // as RecordEvents does after an append
	for want := int64(4); want <= int64(3+len(more)); want++ {
		if e := f.next(t); e.Event.Sequence != want {
			t.Fatalf("got event %d, want %d", e.Event.Sequence, want)
		}
	}
	f.cancel()
	if err := <-f.done; !errors.Is(err, context.Canceled) {
		t.Fatalf("FollowEvents after cancel = %v, want context.Canceled", err)
	}
	f.done <- nil // for the cleanup
}

// TestFollowEventsPolls appends behind the Service's back, as another
// replica does: the follower finds the event by polling.
func TestFollowEventsPolls(t *testing.T) {
	st := &logStore{}
	f := follow(t, NewService(st, nil), FollowQuery{Poll: time.Millisecond})
	st.add("x")
	if e := f.next(t); e.Event.Sequence != 1 || e.Features != nil {
		t.Fatalf("got event %d with features %v, want event 1 without", e.Event.Sequence, e.Features)
	}
}

// TestFollowEventsSendError stops at the first failed send and returns
// its error.
func TestFollowEventsSendError(t *testing.T) {
	st := &logStore{}
	st.add("a", "b")
	errGone := errors.New("client gone")
	var sent int
	err := NewService(st, nil).FollowEvents(context.Background(), FollowQuery{}, func(LoggedEvent) error {
		sent++
		return errGone
	})
	if !errors.Is(err, errGone) || sent != 1 {
		t.Fatalf("FollowEvents = %v after %d sends, want the send error after 1", err, sent)
	}
}

// TestFollowEventsNegativeAfter refuses a negative after_sequence before
// sending anything, naming the field.
func TestFollowEventsNegativeAfter(t *testing.T) {
	st := &logStore{}
	st.add("a")
	var sent int
	err := NewService(st, nil).FollowEvents(context.Background(), FollowQuery{AfterSequence: -1}, func(LoggedEvent) error {
		sent++
		return nil
	})
	var fe *fielderr.Error
	if !errors.As(err, &fe) || fe.Path != "after_sequence" || sent != 0 {
		t.Fatalf("FollowEvents = %v after %d sends, want an error for after_sequence and no send", err, sent)
	}
	if want := "profile: invalid argument: after_sequence: must not be negative"; err.Error() != want {
		t.Fatalf("error = %q, want %q", err.Error(), want)
	}
}

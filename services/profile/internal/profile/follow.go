package profile

import (
	"context"
	"time"
)

// DefaultFollowPoll is how often FollowEvents looks for events appended by
// other replicas when the query does not say.
const DefaultFollowPoll = 250 * time.Millisecond

// FollowQuery says where FollowEvents starts and what it sends.
type FollowQuery struct {
	// AfterSequence: the log is sent from the event after this sequence.
	AfterSequence int64
	// IncludeFeatures sends each event with its customer's current
	// features, loaded for a page of events in one store query.
	IncludeFeatures bool
	// Poll is how often to look for events appended by other replicas
	// (default DefaultFollowPoll); this replica's appends wake the
	// follower at once.
	Poll time.Duration
}

// LoggedEvent is one entry of the event log as FollowEvents sends it.
type LoggedEvent struct {
	Event Event
	// Features are the customer's current features, set when the query
	// asked for them and the customer exists.
	Features *Features
}

// FollowEvents sends the event log after q.AfterSequence to send in
// sequence order, a page at a time, and then follows it: it sends each
// event appended later, by this replica or another, until ctx is done
// (returning ctx's error) or send or the store fails (returning that
// error). A negative AfterSequence fails with an InvalidArgument error for
// after_sequence before anything is sent.
func (s *Service) FollowEvents(ctx context.Context, q FollowQuery, send func(LoggedEvent) error) error {
	if q.AfterSequence < 0 {
		return InvalidArgument("after_sequence", "must not be negative")
	}
	poll := q.Poll
	if poll <= 0 {
		poll = DefaultFollowPoll
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	after := q.AfterSequence
	for {
		wake := s.appended.wait() // before reading, so no append is missed
		n, err := s.sendPage(ctx, &after, q.IncludeFeatures, send)
		if err != nil {
			return err
		}
		if n == MaxEventPageSize {
			continue // more may be logged already
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-ticker.C:
		}
	}
}

// sendPage sends up to a page of the log after *after, advancing *after
// past each event sent, and returns how many events the page had.
func (s *Service) sendPage(ctx context.Context, after *int64, withFeatures bool, send func(LoggedEvent) error) (int, error) {
	evs, err := s.store.ListEvents(ctx, *after, MaxEventPageSize)
	if err != nil {
		return 0, err
	}
	var features map[string]Features
	if withFeatures && len(evs) > 0 {
		ids := make([]string, len(evs))
		for i, e := range evs {
			ids[i] = e.CustomerID
		}
		if features, err = s.currentFeatures(ctx, ids); err != nil {
			return 0, err
		}
	}
	for _, e := range evs {
		out := LoggedEvent{Event: e}
		if f, ok := features[e.CustomerID]; ok {
			out.Features = &f
		}
		if err := send(out); err != nil {
			return 0, err
		}
		*after = e.Sequence
	}
	return len(evs), nil
}

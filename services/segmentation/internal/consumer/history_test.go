package consumer_test

import (
	"context"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/segmentation/internal/consumer"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// historyStore records the pages it is given and applies the ones above
// its cursor.
type historyStore struct {
	cursor int64
	pages  [][]recommend.Change
}

func (s *historyStore) HistoryCursor(context.Context) (int64, error) { return s.cursor, nil }

func (s *historyStore) ApplyHistory(_ context.Context, changes []recommend.Change, cursor int64) ([]recommend.Change, error) {
	var out []recommend.Change
	for _, c := range changes {
		if c.Sequence > s.cursor {
			out = append(out, c)
		}
	}
	s.pages = append(s.pages, changes)
	s.cursor = max(s.cursor, cursor)
	return out, nil
}

// memory records what the handler tells the in-memory history.
type memory struct {
	from, to int64
	complete bool
	n        int
}

func (m *memory) Applied(changes []recommend.Change, from, to int64, complete bool) {
	m.from, m.to, m.complete, m.n = from, to, complete, len(changes)
}

func TestHistoryHandler(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ev := func(seq int64, customer string, p any) *profilev1.StreamEventsResponse {
		e := &profilev1.Event{Sequence: seq, CustomerId: customer, OccurredAt: timestamppb.New(at)}
		switch p := p.(type) {
		case *profilev1.OrderPlaced:
			e.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: p}
		case *profilev1.ProductViewed:
			e.Payload = &profilev1.Event_ProductViewed{ProductViewed: p}
		case *profilev1.CustomerErased:
			e.Payload = &profilev1.Event_CustomerErased{CustomerErased: p}
		case *profilev1.CustomerDeleted:
			e.Payload = &profilev1.Event_CustomerDeleted{CustomerDeleted: p}
		case *profilev1.ReviewPosted:
			e.Payload = &profilev1.Event_ReviewPosted{ReviewPosted: p}
		}
		return &profilev1.StreamEventsResponse{Event: e}
	}
	st, mem := &historyStore{}, &memory{}
	h := consumer.NewHistory(st, mem)
	if _, err := h.Cursor(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := h.Apply(context.Background(), []*profilev1.StreamEventsResponse{
		ev(1, "ann", &profilev1.OrderPlaced{Lines: []*profilev1.OrderLine{{Sku: "mug", Category: "kitchen"}, {Sku: ""}}}),
		ev(2, "ann", &profilev1.OrderPlaced{Lines: []*profilev1.OrderLine{{Sku: ""}}}), // no SKU: nothing to keep
		ev(3, "bob", &profilev1.ProductViewed{Sku: "teapot", Category: "kitchen"}),
		ev(4, "bob", &profilev1.ReviewPosted{Sku: "teapot", Rating: 5}), // not kept
		ev(5, "ann", &profilev1.CustomerErased{AnonymousId: "anon-1"}),
		ev(6, "bob", &profilev1.CustomerDeleted{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := st.pages[0]
	want := []recommend.Change{
		{Sequence: 1, Kind: recommend.ChangeOrder, Customer: "ann", Lines: []recommend.Line{{SKU: "mug", Category: "kitchen"}}},
		{Sequence: 3, Kind: recommend.ChangeView, Customer: "bob", Lines: []recommend.Line{{SKU: "teapot", Category: "kitchen"}}},
		{Sequence: 5, Kind: recommend.ChangeRekey, Customer: "ann", NewID: "anon-1"},
		{Sequence: 6, Kind: recommend.ChangeDelete, Customer: "bob"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Sequence != w.Sequence || g.Kind != w.Kind || g.Customer != w.Customer || g.NewID != w.NewID ||
			len(g.Lines) != len(w.Lines) || (len(w.Lines) > 0 && g.Lines[0] != w.Lines[0]) || (w.Kind <= recommend.ChangeView && !g.At.Equal(at)) {
			t.Errorf("change %d: got %+v, want %+v", i, g, w)
		}
	}
	if st.cursor != 6 || mem.from != 0 || mem.to != 6 || !mem.complete || mem.n != 4 {
		t.Errorf("memory told %+v, store cursor %d; want 0 → 6, complete, 4 changes", mem, st.cursor)
	}
}

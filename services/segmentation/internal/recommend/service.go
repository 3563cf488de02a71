package recommend

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// ErrNoModel: no recompute has built a model on this replica yet. It
// wraps segmentation.ErrNoRecompute, which the API maps.
var ErrNoModel = fmt.Errorf("%w: no recommendation model on this replica yet", segmentation.ErrNoRecompute)

// Store reads the stored purchase history.
type Store interface {
	// HistoryCursor is the sequence of the last profile event applied to
	// the stored history.
	HistoryCursor(ctx context.Context) (int64, error)
	// LoadHistory reads the stored history into h and returns the cursor
	// it reflects.
	LoadHistory(ctx context.Context, h *History) (int64, error)
}

// Service keeps the in-memory history in step with the stored one, builds
// a model at each recompute and answers from the latest model.
type Service struct {
	store Store
	opt   Options
	clock func() time.Time

	catchUp func(ctx context.Context) error

	mu    sync.Mutex // serialises reloads and applied pages
	hist  *History   // guarded by mu; its own lock guards its content
	pos   int64      // cursor hist reflects; -1: unknown, reload before the next build
	model atomic.Pointer[built]
}

// built is a model with the operation that built it and the settings
// it answers under.
type built struct {
	*Model
	op                 string
	includeRepurchases bool
}

// NewService returns a Service over store; clock gives "now" to live
// queries (default time.Now).
func NewService(store Store, opt Options, clock func() time.Time) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{store: store, opt: opt, clock: clock, hist: NewHistory(), pos: -1}
}

// SetCatchUp makes Evaluate first wait, with fn, until the stored history
// holds every event profile has logged (as a recompute does), so that a
// backtest right after an import sees all of it. Call it before serving.
func (s *Service) SetCatchUp(fn func(ctx context.Context) error) { s.catchUp = fn }

// catchUpTimeout bounds Evaluate's wait for the history to catch up.
const catchUpTimeout = 30 * time.Second

// Applied is told each page the event consumer stored: the changes it
// applied, and the cursor before (from) and after (to) the page in its
// stream. complete is false when the store skipped some of the page's
// events (another replica applied them first). A page that does not
// follow what the in-memory history holds makes the next build reload it.
func (s *Service) Applied(changes []Change, from, to int64, complete bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case to <= s.pos: // the last reload read it already
	case from == s.pos && complete:
		s.hist.Apply(changes)
		s.pos = to
	default:
		s.pos = -1
	}
}

// Warm loads the stored history into memory, so that the first recompute
// need not.
func (s *Service) Warm(ctx context.Context) error {
	_, err := s.current(ctx)
	return err
}

// current returns the in-memory history, reloading it from the store when
// it may differ.
func (s *Service) current(ctx context.Context) (*History, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.store.HistoryCursor(ctx)
	if err != nil {
		return nil, err
	}
	if cur == s.pos {
		return s.hist, nil
	}
	h := NewHistory()
	pos, err := s.store.LoadHistory(ctx, h)
	if err != nil {
		return nil, err
	}
	s.hist, s.pos = h, pos
	return h, nil
}

// Rebuild builds the model of recompute op as of asOf from the history
// and makes it the one queries answer from, with the includeRepurchases
// setting.
func (s *Service) Rebuild(ctx context.Context, op string, asOf time.Time, includeRepurchases bool) (*Model, error) {
	h, err := s.current(ctx)
	if err != nil {
		return nil, fmt.Errorf("recommend: load history: %w", err)
	}
	m := Build(h, asOf, s.opt)
	s.model.Store(&built{Model: m, op: op, includeRepurchases: includeRepurchases})
	return m, nil
}

// BuiltFor returns the recompute operation the current model was built
// for, "" if none.
func (s *Service) BuiltFor() string {
	if b := s.model.Load(); b != nil {
		return b.op
	}
	return ""
}

// Model returns the latest model, or nil before the first build.
func (s *Service) Model() *Model {
	if b := s.model.Load(); b != nil {
		return b.Model
	}
	return nil
}

// ForCustomer returns the customer's top n items now (from the clock),
// under the settings of the recompute that built the model, and the model.
// Outreach templates and the API call it.
func (s *Service) ForCustomer(customer string, n int) (Recommendations, *Model, error) {
	b := s.model.Load()
	if b == nil {
		return Recommendations{}, nil, ErrNoModel
	}
	return b.Recommend(Query{Customer: customer, N: n, Now: s.clock(), IncludeRepurchases: b.includeRepurchases}), b.Model, nil
}

// Related returns up to n items bought with sku; for an item the model
// has not seen sold, the popular items, marked Fallback.
func (s *Service) Related(sku string, n int) (Recommendations, *Model, error) {
	b := s.model.Load()
	if b == nil {
		return Recommendations{}, nil, ErrNoModel
	}
	if items, ok := b.Related(sku, n); ok {
		return Recommendations{Items: items}, b.Model, nil
	}
	return Recommendations{Items: b.Popular(n), Fallback: true}, b.Model, nil
}

// Now is the service's clock: the time live answers are given as of.
func (s *Service) Now() time.Time { return s.clock() }

// Evaluate backtests the model at asOf on the current history. If the
// history cannot catch up with profile's log in time, it evaluates what
// it holds.
func (s *Service) Evaluate(ctx context.Context, asOf time.Time, k int) (Evaluation, error) {
	if s.catchUp != nil {
		cctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
		_ = s.catchUp(cctx)
		cancel()
	}
	h, err := s.current(ctx)
	if err != nil {
		return Evaluation{}, fmt.Errorf("recommend: load history: %w", err)
	}
	return Evaluate(h, asOf, k, s.opt), nil
}

// Package engine runs recomputes and answers membership queries: it loads
// the inputs, scores them, evaluates rule segments in parallel, stores the
// results and swaps the in-memory membership snapshot. One recompute runs
// at a time per cluster (a cluster-wide lock plus the store's
// running-operation guard), and a schedule can run it periodically on the
// elected replica. The engine depends on small interfaces: the store
// methods it uses, a settings source and a locker.
package engine

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/tenurehq/tenure/services/segmentation/internal/membership"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// Store is the storage the engine uses: the inputs, settings versions,
// segments, operations and results (see the segmentation package's
// per-aggregate interfaces for what each method does).
type Store interface {
	Cursor(ctx context.Context) (int64, error)
	ResultsGeneration(ctx context.Context) (int64, error)
	// LoadInputs returns every customer's inputs in id order and the
	// cursor they reflect, read together.
	LoadInputs(ctx context.Context) (cursor int64, customers []segmentation.Customer, err error)
	GetSettings(ctx context.Context, version int64) (segmentation.SettingsVersion, error)
	GetSegment(ctx context.Context, id string) (segmentation.SegmentDef, error)
	ListSegments(ctx context.Context, afterID string, limit int) ([]segmentation.SegmentDef, error)
	StaticMembers(ctx context.Context) (map[string][]string, error)
	segmentation.OperationStore
	GetResult(ctx context.Context, customerID string) (segmentation.CustomerResult, error)
	LoadResults(ctx context.Context, fn func(*segmentation.CustomerResult) error) error
	// GetPurchases returns a customer's purchase days, ascending.
	GetPurchases(ctx context.Context, id string) ([]segmentation.PurchaseDay, error)
}

// SettingsSource gives the settings a recompute starts from
// (segmentation.SettingsSource).
type SettingsSource interface {
	CurrentSettings(ctx context.Context) (segmentation.SettingsVersion, error)
}

// Recommender rebuilds the recommendation model (recommend.Service).
type Recommender interface {
	// Rebuild builds the model of operation op from the purchases before
	// asOf, answering under the includeRepurchases setting, and returns
	// what rules read from it.
	Rebuild(ctx context.Context, op string, asOf time.Time, includeRepurchases bool) (rules.Recommendations, error)
}

// Locker holds the cluster-wide recompute lock (an election.Locker).
type Locker interface {
	// TryLock takes the lock and returns its release, or fails at once
	// with an error wrapping election.ErrLocked while another replica
	// holds it.
	TryLock(ctx context.Context) (unlock func(), err error)
}

// Config configures an Engine.
type Config struct {
	// Store, Settings and Rules are required.
	Store    Store
	Settings SettingsSource
	Rules    *rules.Env
	// Locker, when set, makes the one-recompute-per-cluster rule hold
	// across replicas. Without it the engine assumes it is the only
	// replica: Restore fails the operations a previous process left
	// running.
	Locker Locker
	Logger *slog.Logger
	// Clock gives "now" (default time.Now).
	Clock func() time.Time
	// ProgressInterval is how often a running recompute records its
	// progress (default 250 ms).
	ProgressInterval time.Duration
	// Workers evaluating rules (default GOMAXPROCS).
	Workers int
	// CatchUp, if set, waits until the inputs hold every event profile has
	// logged; Start calls it before a recompute records its input
	// sequence, bounded by CatchUpTimeout (default 30 s). When it fails the
	// recompute goes ahead on the events applied so far, with a warning.
	CatchUp        func(ctx context.Context) error
	CatchUpTimeout time.Duration
	// Recommender, when set, rebuilds the recommendation model at each
	// recompute, before the rules are evaluated (they may read it).
	Recommender Recommender
	// Meter records tenure.segmentation.recompute.duration, one value per
	// recompute with its outcome (succeeded or failed); nil records nothing.
	Meter metric.Meter
}

// state is what queries read: the current snapshot and where it came from.
type state struct {
	base *membership.Snapshot // the recompute's snapshot, without static segments
	snap *membership.Snapshot // base plus the static segments
	op   segmentation.Operation
	gen  int64 // the store's results generation base reflects
}

// Engine runs recomputes and serves membership queries.
type Engine struct {
	cfg Config
	cur atomic.Pointer[state]

	mu      sync.Mutex   // serialises snapshot derivations
	lastID  atomic.Int64 // nanoseconds of the last operation id made
	running atomic.Pointer[segmentation.Operation]
	inputs  inputTable
	last    atomic.Pointer[evaluation] // the last successful recompute's, for the next one
	wg      sync.WaitGroup
	bg      context.Context
	cancel  context.CancelFunc

	recomputes metric.Float64Histogram
}

// New returns an Engine with an empty snapshot. Call Restore to load the
// latest results, and Close when done.
func New(cfg Config) *Engine {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = 250 * time.Millisecond
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	e := &Engine{cfg: cfg, recomputes: recomputeHistogram(cfg)}
	e.bg, e.cancel = context.WithCancel(context.Background())
	e.cur.Store(&state{base: membership.Empty(), snap: membership.Empty()})
	return e
}

// recomputeHistogram is the recompute duration instrument of cfg.Meter.
func recomputeHistogram(cfg Config) metric.Float64Histogram {
	if cfg.Meter == nil {
		return noop.Float64Histogram{}
	}
	h, err := cfg.Meter.Float64Histogram("tenure.segmentation.recompute.duration", metric.WithUnit("s"),
		metric.WithDescription("duration of each recompute, by outcome"),
		metric.WithExplicitBucketBoundaries(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600))
	if err != nil {
		cfg.Logger.Warn("segmentation: recompute metric", "error", err)
		return noop.Float64Histogram{}
	}
	return h
}

// Close stops a running recompute (it is marked failed) and waits for it.
func (e *Engine) Close() {
	e.cancel()
	e.wg.Wait()
}

// Snapshot returns the current membership snapshot and the operation it
// comes from (zero if none).
func (e *Engine) Snapshot() (*membership.Snapshot, segmentation.Operation) {
	s := e.cur.Load()
	return s.snap, s.op
}

// Every calls fn every interval until ctx is done.
func Every(ctx context.Context, interval time.Duration, fn func()) { every(ctx, interval, fn) }

// every calls fn every interval until ctx is done.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenurehq/tenure/services/platform/election"
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
	LoadCustomers(ctx context.Context) ([]segmentation.Customer, error)
	GetSettings(ctx context.Context, version int64) (segmentation.SettingsVersion, error)
	GetSegment(ctx context.Context, id string) (segmentation.SegmentDef, error)
	ListSegments(ctx context.Context, afterID string, limit int) ([]segmentation.SegmentDef, error)
	StaticMembers(ctx context.Context) (map[string][]string, error)
	segmentation.OperationStore
	GetResult(ctx context.Context, customerID string) (segmentation.CustomerResult, error)
	LoadResults(ctx context.Context, fn func(*segmentation.CustomerResult) error) error
}

// SettingsSource gives the settings a recompute starts from
// (segmentation.SettingsSource).
type SettingsSource interface {
	CurrentSettings(ctx context.Context) (segmentation.SettingsVersion, error)
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
	wg      sync.WaitGroup
	bg      context.Context
	cancel  context.CancelFunc
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
	e := &Engine{cfg: cfg}
	e.bg, e.cancel = context.WithCancel(context.Background())
	e.cur.Store(&state{base: membership.Empty(), snap: membership.Empty()})
	return e
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

// Restore loads the latest successful recompute's results and the static
// segments into a new snapshot. Without a Locker it also fails operations
// left running by a previous process.
func (e *Engine) Restore(ctx context.Context) error {
	if e.cfg.Locker == nil {
		if err := e.cfg.Store.FailRunning(ctx, "abandoned: the service restarted", e.cfg.Clock().UTC()); err != nil {
			return err
		}
	}
	return e.reload(ctx)
}

// reload loads the latest successful recompute's results and the static
// segments into a new snapshot.
func (e *Engine) reload(ctx context.Context) error {
	gen, err := e.cfg.Store.ResultsGeneration(ctx)
	if err != nil {
		return err
	}
	op, err := e.cfg.Store.LatestSucceeded(ctx)
	if errors.Is(err, segmentation.ErrNoRecompute) {
		return e.RefreshStatic(ctx)
	}
	if err != nil {
		return err
	}
	segs, err := e.allSegments(ctx)
	if err != nil {
		return err
	}
	var ruleIDs []string
	for _, g := range segs {
		if g.Kind == segmentation.SegmentKindRule {
			ruleIDs = append(ruleIDs, g.ID)
		}
	}
	index := make(map[string]int, len(ruleIDs))
	for i, id := range ruleIDs {
		index[id] = i
	}
	b := membership.NewBuilder(ruleIDs)
	in := make([]bool, len(ruleIDs))
	err = e.cfg.Store.LoadResults(ctx, func(r *segmentation.CustomerResult) error {
		clear(in)
		for _, id := range r.Segments {
			if i, ok := index[id]; ok {
				in[i] = true
			}
		}
		b.Add(r.CustomerID, &r.Result, in)
		return nil
	})
	if err != nil {
		return err
	}
	base, err := b.Build()
	if err != nil {
		return err
	}
	return e.install(ctx, base, op, gen)
}

// install derives the full snapshot from base and makes it current.
func (e *Engine) install(ctx context.Context, base *membership.Snapshot, op segmentation.Operation, gen int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	snap, err := e.withStatic(ctx, base)
	if err != nil {
		return err
	}
	e.cur.Store(&state{base: base, snap: snap, op: op, gen: gen})
	return nil
}

// Forget makes the snapshot stop answering for customers that a page of
// mutations deleted or re-keyed (erased), at once: their memberships move
// to the new id or are dropped. The consumer calls it after each page
// that has such mutations; other replicas catch up through Sync, which
// sees the store's results generation change.
func (e *Engine) Forget(ctx context.Context, muts []segmentation.Mutation) error {
	moves := forgetMoves(muts)
	if len(moves) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.cur.Load()
	base := cur.base.Rekey(moves)
	snap, err := e.withStatic(ctx, base)
	if err != nil {
		return err
	}
	e.cur.Store(&state{base: base, snap: snap, op: cur.op, gen: cur.gen})
	return nil
}

// forgetMoves folds a page's deletes and re-keys, applied in order, into
// simultaneous moves from an id as it was before the page to its id after
// ("" when gone).
func forgetMoves(muts []segmentation.Mutation) map[string]string {
	var moves map[string]string
	for _, m := range muts {
		var to string
		switch m.Kind {
		case segmentation.MutationDelete:
		case segmentation.MutationRekey:
			to = m.NewID
		default:
			continue
		}
		if moves == nil {
			moves = map[string]string{}
		}
		followed := false
		for from, at := range moves { // m.ID may be where an earlier move went
			if at != "" && at == m.ID {
				moves[from], followed = to, true
			}
		}
		if _, ok := moves[m.ID]; !ok && !followed {
			moves[m.ID] = to
		}
	}
	return moves
}

// StaticChanged implements segmentation.Membership: it refreshes the
// static segments, logging a failure (the next sync retries).
func (e *Engine) StaticChanged(ctx context.Context) {
	if err := e.RefreshStatic(context.WithoutCancel(ctx)); err != nil {
		e.cfg.Logger.Warn("segmentation: refresh static segments", "error", err)
	}
}

// RefreshStatic re-reads the static segments and derives a new snapshot.
func (e *Engine) RefreshStatic(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.cur.Load()
	snap, err := e.withStatic(ctx, cur.base)
	if err != nil {
		return err
	}
	e.cur.Store(&state{base: cur.base, snap: snap, op: cur.op, gen: cur.gen})
	return nil
}

// withStatic returns base with every static segment's members and
// without the rule segments that no longer exist.
func (e *Engine) withStatic(ctx context.Context, base *membership.Snapshot) (*membership.Snapshot, error) {
	static, err := e.cfg.Store.StaticMembers(ctx)
	if err != nil {
		return nil, err
	}
	segs, err := e.allSegments(ctx)
	if err != nil {
		return nil, err
	}
	exists := make(map[string]bool, len(segs))
	for _, g := range segs {
		exists[segmentation.SegmentAudience(g.ID)] = true
	}
	snap := base
	for _, a := range base.Audiences() {
		if p, err := segmentation.ParseAudience(a); err == nil && p.Kind == segmentation.AudienceSegment && !exists[a] {
			snap = snap.Without(a)
		}
	}
	for id, members := range static {
		snap = snap.WithStatic(id, members)
	}
	return snap, nil
}

func (e *Engine) allSegments(ctx context.Context) ([]segmentation.SegmentDef, error) {
	var out []segmentation.SegmentDef
	after := ""
	for {
		page, err := e.cfg.Store.ListSegments(ctx, after, 500)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 500 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// Sync reloads the snapshot when another replica finished a newer
// recompute or customers were deleted or erased since it was loaded, and
// refreshes the static segments otherwise.
func (e *Engine) Sync(ctx context.Context) error {
	gen, err := e.cfg.Store.ResultsGeneration(ctx)
	if err != nil {
		return err
	}
	op, err := e.cfg.Store.LatestSucceeded(ctx)
	if err != nil && !errors.Is(err, segmentation.ErrNoRecompute) {
		return err
	}
	cur := e.cur.Load()
	if err == nil && (op.ID != cur.op.ID || gen != cur.gen) && e.running.Load() == nil {
		return e.reload(ctx)
	}
	return e.RefreshStatic(ctx)
}

// RunSync calls Sync every interval until ctx is done.
func (e *Engine) RunSync(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		if err := e.Sync(ctx); err != nil && ctx.Err() == nil {
			e.cfg.Logger.Warn("segmentation: sync snapshot", "error", err)
		}
	})
}

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

// newOperationID returns an id that sorts by creation time (now, from the
// injected clock), and after every id this engine made before even if the
// clock stands still or steps back.
func (e *Engine) newOperationID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := now.UnixNano()
	for {
		last := e.lastID.Load()
		if n <= last {
			n = last + 1
		}
		if e.lastID.CompareAndSwap(last, n) {
			break
		}
	}
	return fmt.Sprintf("%019d-%s", n, hex.EncodeToString(b[:]))
}

// Start begins a recompute as of asOf (zero: now) in the background and
// returns its operation, or an *segmentation.InProgressError.
func (e *Engine) Start(ctx context.Context, asOf time.Time, trigger segmentation.Trigger) (segmentation.Operation, error) {
	if op := e.running.Load(); op != nil {
		return segmentation.Operation{}, &segmentation.InProgressError{Operation: op.Name()}
	}
	e.catchUp(ctx)
	unlock, err := e.lock(ctx)
	if err != nil {
		return segmentation.Operation{}, err
	}
	op, err := e.begin(ctx, asOf, trigger)
	if err != nil {
		unlock()
		return segmentation.Operation{}, err
	}
	if !e.running.CompareAndSwap(nil, &op) {
		unlock()
		_ = e.cfg.Store.FailOperation(context.WithoutCancel(ctx), op.ID, "lost a race with another recompute", e.cfg.Clock().UTC())
		return segmentation.Operation{}, &segmentation.InProgressError{}
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer unlock()
		defer e.running.Store(nil)
		e.run(e.bg, op)
	}()
	return op, nil
}

// catchUp gives the event consumer time to apply what profile has logged,
// so that a recompute started right after an import scores all of it.
func (e *Engine) catchUp(ctx context.Context) {
	if e.cfg.CatchUp == nil {
		return
	}
	timeout := e.cfg.CatchUpTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := e.cfg.CatchUp(cctx); err != nil {
		e.cfg.Logger.Warn("segmentation: recomputing on the events applied so far", "error", err)
	}
}

func (e *Engine) begin(ctx context.Context, asOf time.Time, trigger segmentation.Trigger) (segmentation.Operation, error) {
	now := e.cfg.Clock().UTC()
	if asOf.IsZero() {
		asOf = now
	}
	settings, err := e.cfg.Settings.CurrentSettings(ctx)
	if err != nil {
		return segmentation.Operation{}, err
	}
	seq, err := e.cfg.Store.Cursor(ctx)
	if err != nil {
		return segmentation.Operation{}, err
	}
	if e.cfg.Locker != nil {
		// Holding the cluster lock: any running row is left over from a
		// replica that died mid-recompute.
		if err := e.cfg.Store.FailRunning(ctx, "abandoned: its replica stopped", now); err != nil {
			return segmentation.Operation{}, err
		}
	}
	op := segmentation.Operation{
		ID: e.newOperationID(now), State: segmentation.OperationRunning, Trigger: trigger, AsOf: asOf.UTC(),
		SettingsVersion: settings.Version, InputSequence: seq, CreateTime: now,
	}
	if err := e.cfg.Store.StartOperation(ctx, op); err != nil {
		return segmentation.Operation{}, err
	}
	return op, nil
}

// lock takes the cluster-wide recompute lock, or fails with an
// InProgressError naming the running operation.
func (e *Engine) lock(ctx context.Context) (func(), error) {
	if e.cfg.Locker == nil {
		return func() {}, nil
	}
	unlock, err := e.cfg.Locker.TryLock(ctx)
	if errors.Is(err, election.ErrLocked) {
		running, rerr := e.cfg.Store.RunningOperation(ctx)
		if rerr != nil {
			return nil, &segmentation.InProgressError{}
		}
		return nil, &segmentation.InProgressError{Operation: running.Name()}
	}
	if err != nil {
		return nil, fmt.Errorf("segmentation: recompute lock: %w", err)
	}
	return unlock, nil
}

// run performs a started recompute and records its outcome. Its duration
// (and the phases) are measured on the wall clock, not Config.Clock: they
// time the work, not the data.
func (e *Engine) run(ctx context.Context, op segmentation.Operation) {
	log := e.cfg.Logger.With("operation", op.Name())
	start := time.Now()
	var ph phases
	base, final, gen, err := e.compute(ctx, &op, &ph)
	if err != nil {
		log.Error("segmentation: recompute failed", "error", err)
		fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if ferr := e.cfg.Store.FailOperation(fctx, op.ID, err.Error(), e.cfg.Clock().UTC()); ferr != nil {
			log.Error("segmentation: record failed recompute", "error", ferr)
		}
		return
	}
	// Customers deleted or erased during the recompute were left out of
	// the stored results but are in base: load the stored ones instead.
	if now, err := e.cfg.Store.ResultsGeneration(ctx); err != nil || now != gen {
		err = e.reload(ctx)
		if err != nil {
			log.Error("segmentation: restore snapshot", "error", err)
		}
	} else if err := e.install(ctx, base, final, gen); err != nil {
		log.Error("segmentation: install snapshot", "error", err)
	}
	log.Info("segmentation: recompute succeeded", "customers", final.CustomersTotal, "duration", time.Since(start),
		"load", ph.load, "score", ph.score, "rules", ph.rules, "build", ph.build, "store", ph.store)
}

// compute scores every customer, evaluates the rule segments and stores
// the results; it returns the new base snapshot and the finished operation.
// phases are how long a recompute's steps took, for its log line, on the
// wall clock.
type phases struct {
	load, score, rules, build, store time.Duration
}

func (e *Engine) compute(ctx context.Context, op *segmentation.Operation, ph *phases) (*membership.Snapshot, segmentation.Operation, int64, error) {
	st := e.cfg.Store
	sv, err := st.GetSettings(ctx, op.SettingsVersion)
	if err != nil {
		return nil, *op, 0, err
	}
	gen, err := st.ResultsGeneration(ctx)
	if err != nil {
		return nil, *op, 0, err
	}
	t := time.Now()
	lap := func(d *time.Duration) {
		now := time.Now()
		*d, t = now.Sub(t), now
	}
	customers, err := st.LoadCustomers(ctx)
	lap(&ph.load)
	if err != nil {
		return nil, *op, 0, err
	}
	n := len(customers)
	if err := st.UpdateProgress(ctx, op.ID, 0, int64(n)); err != nil {
		return nil, *op, 0, err
	}
	inputs := make([]segmentation.Input, n)
	for i := range customers {
		inputs[i] = customers[i].Input()
	}
	results, err := segmentation.Score(op.AsOf, inputs, sv.Settings)
	lap(&ph.score)
	inputs = nil
	if err != nil {
		return nil, *op, 0, err
	}

	segs, err := e.allSegments(ctx)
	if err != nil {
		return nil, *op, 0, err
	}
	var ruleIDs []string
	var compiled []*rules.Rule
	for _, g := range segs {
		if g.Kind != segmentation.SegmentKindRule {
			continue
		}
		r, err := e.cfg.Rules.Compile(g.Rule)
		if err != nil { // validated on write; skip rather than fail everything
			e.cfg.Logger.Warn("segmentation: rule does not compile", "segment", g.ID, "error", err)
			continue
		}
		ruleIDs = append(ruleIDs, g.ID)
		compiled = append(compiled, r)
	}
	k := len(compiled)
	in := make([]bool, n*k)
	var done atomic.Int64
	ruleErrs := make([]atomic.Int64, k)
	if err := e.evaluate(ctx, op, customers, results, compiled, in, &done, ruleErrs); err != nil {
		return nil, *op, 0, err
	}
	lap(&ph.rules)
	var errCounts map[string]int64
	for j := range ruleErrs {
		if ne := ruleErrs[j].Load(); ne > 0 {
			if errCounts == nil {
				errCounts = map[string]int64{}
			}
			errCounts[ruleIDs[j]] = ne
			e.cfg.Logger.Warn("segmentation: rule evaluations failed and counted as false", "operation", op.Name(),
				"segment", ruleIDs[j], "failures", ne, "stopped", ne >= MaxRuleErrors)
		}
	}

	// Results, sizes and the report. The rows are produced from results,
	// currencies and in as the store writes them, not copied.
	order := make([]int, k) // rule indices by segment id: rows list ids sorted
	for j := range order {
		order[j] = j
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(ruleIDs[a], ruleIDs[b]) })
	rows := &resultRows{results: results, currency: make([]string, n), in: in, k: k, ruleIDs: ruleIDs, order: order}
	rs := segmentation.ResultSet{Rows: rows, Generation: gen}
	counts := make([]int64, k)
	monetary := map[string]int64{}
	b := membership.NewBuilder(ruleIDs)
	b.Grow(n)
	for i := range results {
		r := &results[i]
		cur := customers[i].Features.Currency
		rows.currency[i] = cur
		row := in[i*k : (i+1)*k]
		for j, ok := range row {
			if ok {
				counts[j]++
			}
		}
		if r.Scored {
			monetary[cur] = addSaturating(monetary[cur], r.Monetary)
		}
		b.Add(r.CustomerID, r, row)
	}
	customers = nil
	segCounts := make(map[string]int64, k)
	for j, id := range ruleIDs {
		segCounts[id] = counts[j]
	}
	rs.Report = segmentation.Report{Distribution: segmentation.Distribute(results), Segments: segCounts, MonetaryTotal: monetary}
	static, err := st.StaticMembers(ctx)
	if err != nil {
		return nil, *op, 0, err
	}
	sizeSegs := make(map[string]int64, len(segCounts)+len(static))
	for id, c := range segCounts {
		sizeSegs[id] = c
	}
	for id, m := range static {
		sizeSegs[id] = int64(len(m))
	}
	rs.Sizes = segmentation.Sizes(rs.Report.Distribution, sizeSegs)
	base, err := b.Build()
	if err != nil {
		return nil, *op, 0, err
	}
	lap(&ph.build)
	final := *op
	final.State = segmentation.OperationSucceeded
	final.CustomersDone, final.CustomersTotal = int64(n), int64(n)
	final.EndTime = e.cfg.Clock().UTC()
	report := rs.Report // not &rs.Report: the operation outlives rs's rows
	final.Report = &report
	final.RuleErrors = errCounts
	if err := st.FinishOperation(ctx, final, rs); err != nil {
		return nil, *op, 0, err
	}
	lap(&ph.store)
	return base, final, gen, nil
}

// resultRows gives a recompute's results to the store row by row.
type resultRows struct {
	results  []segmentation.Result
	currency []string
	in       []bool // in[i*k+j]: customer i is in rule segment j
	k        int
	ruleIDs  []string
	order    []int // indices into ruleIDs in id order
}

func (r *resultRows) Len() int { return len(r.results) }

func (r *resultRows) Row(i int, out *segmentation.CustomerResult) {
	out.Result, out.Currency = r.results[i], r.currency[i]
	out.Segments = out.Segments[:0]
	row := r.in[i*r.k : (i+1)*r.k]
	for _, j := range r.order {
		if row[j] {
			out.Segments = append(out.Segments, r.ruleIDs[j])
		}
	}
}

// chunk is how many customers a worker evaluates per claim.
const chunk = 2048

// MaxRuleErrors is how many evaluations of one rule may hit the CEL cost
// limit in a recompute before the rule is no longer evaluated (it is false
// for the remaining customers), so one runaway rule cannot stall a
// recompute. Other run-time errors (a division by zero, a timestamp out of
// range for a customer without orders) are cheap: the rule is false for that
// customer, the failure is counted and evaluation goes on.
const MaxRuleErrors = 100

// evaluate runs the rules over every customer on cfg.Workers goroutines,
// writing in[i*k+j] for customer i and rule j, counts rule j's failures in
// ruleErrs[j], and records progress.
func (e *Engine) evaluate(ctx context.Context, op *segmentation.Operation, customers []segmentation.Customer,
	results []segmentation.Result, compiled []*rules.Rule, in []bool, done *atomic.Int64, ruleErrs []atomic.Int64) error {
	n, k := len(customers), len(compiled)
	costErrs := make([]atomic.Int64, k) // failures at the cost limit, per rule
	var next atomic.Int64
	var wg sync.WaitGroup
	pctx, stop := context.WithCancel(ctx)
	progressDone := make(chan struct{})
	go func() { // progress reporter
		defer close(progressDone)
		every(pctx, e.cfg.ProgressInterval, func() {
			if err := e.cfg.Store.UpdateProgress(ctx, op.ID, done.Load(), int64(n)); err != nil && ctx.Err() == nil {
				e.cfg.Logger.Warn("segmentation: record progress", "error", err)
			}
		})
	}()
	for range e.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ev *rules.Evaluator
			if k > 0 {
				ev = e.cfg.Rules.NewEvaluator(compiled)
			}
			var subj rules.Subject
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				hi := min(lo+chunk, n)
				if ev != nil {
					for j := range costErrs {
						if costErrs[j].Load() >= MaxRuleErrors {
							ev.Disable(j)
						}
					}
					for i := lo; i < hi; i++ {
						subj.Customer = &customers[i]
						subj.Result = nil
						if results[i].Scored {
							subj.Result = &results[i]
						}
						if ev.Eval(&subj, in[i*k:(i+1)*k]) == 0 {
							continue
						}
						for j := range ruleErrs {
							if !ev.Failed(j) {
								continue
							}
							ruleErrs[j].Add(1)
							if ev.OverCost(j) && costErrs[j].Add(1) >= MaxRuleErrors {
								ev.Disable(j)
							}
						}
					}
				}
				done.Add(int64(hi - lo))
			}
		}()
	}
	wg.Wait()
	stop()
	<-progressDone
	return ctx.Err()
}

// Schedule starts a recompute every interval until ctx is done; a
// recompute already running is not an error.
// If started is not nil it is called with each operation the schedule
// starts.
func (e *Engine) Schedule(ctx context.Context, interval time.Duration, started func(segmentation.Operation)) {
	every(ctx, interval, func() {
		op, err := e.Start(ctx, time.Time{}, segmentation.TriggerSchedule)
		switch {
		case err == nil:
			e.cfg.Logger.Info("segmentation: scheduled recompute started", "operation", op.Name())
			if started != nil {
				started(op)
			}
		case errors.Is(err, segmentation.ErrRecomputeInProgress) || ctx.Err() != nil:
		default:
			e.cfg.Logger.Error("segmentation: scheduled recompute", "error", err)
		}
	})
}

// addSaturating is a + b held at the int64 limits: a total over many
// customers' spends must not wrap to a negative number.
func addSaturating(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}

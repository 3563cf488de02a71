package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/backoff"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/stack"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	segapp "github.com/tenurehq/tenure/services/segmentation/app"
	"github.com/tenurehq/tenure/tools/internal/synth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// benchRules are the rule segments the stack benchmark creates; the same
// twenty as services/segmentation's BenchmarkRecompute.
var benchRules = []string{
	`rfm.r_score >= 4 && features.order_count >= 3 && "newsletter" in tags`,
	`rfm.segment == "champions"`,
	`rfm.segment in ["at_risk", "cant_lose"]`,
	`tier == "vip" && features.net_spend > 20000`,
	`lifecycle == "dormant" && features.order_count > 1`,
	`features.last_order_time > timestamp("2025-10-01T00:00:00Z")`,
	`features.first_order_time < timestamp("2024-06-01T00:00:00Z") && rfm.f_score >= 3`,
	`features.discount_share > 0.15`,
	`features.refund_count * 2 > features.order_count`,
	`"electronics" in features.top_categories`,
	`features.top_categories.exists(c, c.startsWith("home"))`,
	`features.preferred_channel == "app" && rfm.m_score >= 4`,
	`features.average_order_value >= 10000 && features.currency == "EUR"`,
	`rfm.recency_days <= 30 && rfm.frequency >= 2`,
	`tags.exists(t, t.startsWith("vip_"))`,
	`size(tags) == 0 && lifecycle == "prospect"`,
	`rfm.r_score + rfm.f_score + rfm.m_score >= 12`,
	`features.last_activity_time - features.last_order_time > duration("720h")`,
	`lifecycle in ["new", "active"] && !("student" in tags)`,
	`rfm.monetary > 50000 || (rfm.f_score == 5 && tier != "at_risk")`,
}

// runStack measures, on one real profile + segmentation stack in this
// process (platform/stack: an embedded etcd, segmentation finding profile
// through discovery):
//
//  1. catch-up: profile is loaded with the events of --customers synthetic
//     customers first; then a segmentation service starts on a fresh
//     database and the time until its cursor reaches profile's head gives
//     events/s;
//  2. a recompute over gRPC (as of the end of the synthetic history) with
//     twenty rule segments;
//  3. CheckMembership latency over gRPC on 127.0.0.1 (runCheck, in a child
//     process): --calls sequential calls of 1,000 pairs per request shape.
func runStack(args []string) (err error) {
	fs := flag.NewFlagSet("stack", flag.ExitOnError)
	n := fs.Int("customers", 100_000, "synthetic customers to load into profile")
	seed := fs.Uint64("seed", 1, "generator seed")
	engine := fs.String("engine", "sqlite", "database engine of both services: sqlite or postgres")
	pgDSN := fs.String("postgres", envOr("TENURE_TEST_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "admin DSN for --engine postgres")
	calls := fs.Int("calls", 5000, "CheckMembership calls per request shape")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the CheckMembership phase to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile to this file (every 4 KiB sampled from the CheckMembership phase on; use pprof -focus CheckMembership)")
	_ = fs.Parse(args)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "tenure-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The databases outlive the stack: they are dropped after it stops.
	dsns, drop, err := databases(ctx, dir, *engine, *pgDSN)
	if err != nil {
		return err
	}
	defer drop()
	// The stack's services require keys as in production: a key file with
	// an admin key, which this process and its "check" child (through
	// TENURE_API_KEY) send.
	authCfg, _, err := auth.EnsureLocalKeys(dir, time.Now())
	if err != nil {
		return err
	}
	adminKey, err := os.ReadFile(filepath.Join(dir, auth.LocalAdminKeyFile))
	if err != nil {
		return err
	}
	if err := os.Setenv("TENURE_API_KEY", strings.TrimSpace(string(adminKey))); err != nil {
		return err
	}
	st, err := stack.Start(ctx, stack.Config{EtcdDir: filepath.Join(dir, "etcd"), LogLevel: "error", Auth: &authCfg})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	g := synth.New(synth.Config{Customers: *n, Seed: *seed})
	head, err := startLoadedProfile(ctx, st, dsns["profile"], *engine, g, *n)
	if err != nil {
		return err
	}

	// Segmentation on a fresh database: catch-up.
	start := time.Now()
	sc := segapp.Component(func(c *segapp.Config, _ *segapp.Deps) {
		c.MemoryLimit = 0 // profile shares the process: leave the runtime's default
	})
	sc.ListenAddr, sc.DSN = "127.0.0.1:0", dsns["segmentation"]
	segRun, err := st.Add(ctx, sc)
	if err != nil {
		return err
	}
	seg := segRun.Runner.(*segapp.App)
	if err := waitCaughtUp(ctx, st, seg, head); err != nil {
		return err
	}
	catchUp := time.Since(start)
	fmt.Printf("catch-up (%s): %d events in %s = %.0f events/s (%.0f customers/s)\n",
		*engine, head, catchUp.Round(time.Millisecond), float64(head)/catchUp.Seconds(), float64(*n)/catchUp.Seconds())

	audiences, err := recomputeAndCheck(ctx, seg.Addr(), *engine, g, *n)
	if err != nil {
		return err
	}

	// CheckMembership latency, from a client in a separate process so that
	// its allocations and GC don't land on the server's.
	return measureCheck(ctx, *cpuProfile, *memProfile, "check", "--addr", seg.Addr(), "--customers", fmt.Sprint(*n),
		"--seed", fmt.Sprint(*seed), "--calls", fmt.Sprint(*calls), "--label", *engine, "--audiences", strings.Join(audiences, ","))
}

// startLoadedProfile adds a profile service on the database at dsn to st
// and records the synthetic history of g's n customers in it, printing the
// rate; it returns profile's head sequence.
func startLoadedProfile(ctx context.Context, st *stack.Stack, dsn, engine string, g *synth.Generator, n int) (int64, error) {
	pc := profileapp.Component(nil)
	pc.ListenAddr, pc.DSN = "127.0.0.1:0", dsn
	prof, err := st.Add(ctx, pc)
	if err != nil {
		return 0, err
	}
	profConn, err := dialKeyed(prof.Addr())
	if err != nil {
		return 0, err
	}
	defer profConn.Close()

	start := time.Now()
	head, events, err := loadProfile(ctx, profilev1.NewProfileServiceClient(profConn), g)
	if err != nil {
		return 0, err
	}
	loadTime := time.Since(start)
	fmt.Printf("profile (%s): recorded %d events of %d customers in %s (%.0f events/s), head sequence %d\n",
		engine, events, n, loadTime.Round(time.Millisecond), float64(events)/loadTime.Seconds(), head)
	return head, nil
}

// recomputeAndCheck creates the benchmark's rule segments in the
// segmentation service at addr, times a recompute as of the end of g's
// history and checks a sample of the results against the generator; it
// returns the audiences for the CheckMembership phase.
func recomputeAndCheck(ctx context.Context, addr, engine string, g *synth.Generator, n int) ([]string, error) {
	segConn, err := dialKeyed(addr)
	if err != nil {
		return nil, err
	}
	defer segConn.Close()
	cli := segmentationv1.NewSegmentationServiceClient(segConn)
	audiences, err := createRuleSegments(ctx, cli)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	op, err := recompute(ctx, cli, g.AsOf())
	if err != nil {
		return nil, err
	}
	fmt.Printf("recompute (%s, over gRPC, polled every 10 ms): %d customers, 20 rule segments, %s\n",
		engine, op.GetCustomersTotal(), time.Since(start).Round(time.Millisecond))

	// Sanity check of what the stream delivered.
	if err := checkSample(ctx, cli, g, n); err != nil {
		return nil, err
	}
	fmt.Printf("sanity: F and M of %d sampled customers equal the generator's\n", (n+max(1, n/200)-1)/max(1, n/200))
	return audiences, nil
}

// measureCheck runs this program with args (a check) in a child process,
// while profiling this one's CPU and allocations into the files named, if
// any.
func measureCheck(ctx context.Context, cpuProfile, memProfile string, args ...string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if memProfile != "" {
		runtime.MemProfileRate = 4096
		defer func() {
			if f, err := os.Create(memProfile); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// databases returns the DSNs of fresh profile and segmentation databases
// of engine (SQLite files in dir, or PostgreSQL databases beside admin's)
// and a function that drops them.
func databases(ctx context.Context, dir, engine, admin string) (map[string]string, func(), error) {
	dsns := map[string]string{}
	var drops []func()
	drop := func() {
		for _, d := range drops {
			d()
		}
	}
	for _, name := range []string{"profile", "segmentation"} {
		if engine == "sqlite" {
			dsns[name] = "sqlite:" + filepath.Join(dir, name+".db")
			continue
		}
		dsn, d, err := createPostgres(ctx, admin, fmt.Sprintf("tenure_bench_%s_%d", name, time.Now().UnixNano()))
		if err != nil {
			drop()
			return nil, nil, err
		}
		drops = append(drops, d)
		dsns[name] = dsn
	}
	return dsns, drop, nil
}

// waitCaughtUp polls seg's cursor every 10 ms until it reaches head.
func waitCaughtUp(ctx context.Context, st *stack.Stack, seg *segapp.App, head int64) error {
	for {
		cur, err := seg.Cursor(ctx)
		if err != nil {
			return err
		}
		if cur >= head {
			return nil
		}
		if err := st.Err(); err != nil {
			return fmt.Errorf("during catch-up: %w", err)
		}
		if err := backoff.Sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
}

// createRuleSegments creates the twenty benchRules segments and returns
// them with other audiences for CheckMembership.
func createRuleSegments(ctx context.Context, cli segmentationv1.SegmentationServiceClient) ([]string, error) {
	var audiences []string
	for i, r := range benchRules {
		id := fmt.Sprintf("rule-%02d", i+1)
		_, err := cli.CreateSegment(ctx, &segmentationv1.CreateSegmentRequest{SegmentId: id,
			Segment: &segmentationv1.Segment{DisplayName: id, Kind: segmentationv1.SegmentKind_SEGMENT_KIND_RULE, Rule: r}})
		if err != nil {
			return nil, fmt.Errorf("create segment %s: %w", id, err)
		}
		audiences = append(audiences, "segments/"+id)
	}
	return append(audiences, "tiers/vip", "tiers/potential", "tiers/regular", "tiers/at_risk",
		"stages/prospect", "stages/new", "stages/active", "stages/dormant", "stages/churned",
		"rfmSegments/champions", "rfmSegments/loyal", "rfmSegments/at_risk", "rfmSegments/lost"), nil
}

// recompute runs a recompute as of asOf and polls it every 10 ms until it
// has succeeded.
func recompute(ctx context.Context, cli segmentationv1.SegmentationServiceClient, asOf time.Time) (*segmentationv1.Operation, error) {
	resp, err := cli.Recompute(ctx, &segmentationv1.RecomputeRequest{AsOfTime: timestamppb.New(asOf)})
	if err != nil {
		return nil, fmt.Errorf("recompute: %w", err)
	}
	op := resp.GetOperation()
	for !op.GetDone() {
		if err := backoff.Sleep(ctx, 10*time.Millisecond); err != nil {
			return nil, err
		}
		r, err := cli.GetOperation(ctx, &segmentationv1.GetOperationRequest{Name: op.GetName()})
		if err != nil {
			return nil, err
		}
		op = r.GetOperation()
	}
	if op.GetState() != segmentationv1.OperationState_OPERATION_STATE_SUCCEEDED {
		return nil, fmt.Errorf("recompute %s: %s", op.GetState(), op.GetErrorMessage())
	}
	return op, nil
}

// checkSample checks that F and M of a sample of n customers equal what
// the generator put in.
func checkSample(ctx context.Context, cli segmentationv1.SegmentationServiceClient, g *synth.Generator, n int) error {
	for i := 0; i < n; i += max(1, n/200) {
		c := g.Customer(i)
		f := c.Features()
		r, err := cli.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/" + c.ID + "/scores"})
		if err != nil {
			return fmt.Errorf("scores of %s: %w", c.ID, err)
		}
		sc := r.GetScores()
		if sc.GetFrequency() != f.OrderCount || (f.OrderCount > 0 && sc.GetMonetary().GetAmountMinor() != f.NetMinor) {
			return fmt.Errorf("customer %s: segmentation has F %d, M %d; the generator made %d orders, net %d",
				c.ID, sc.GetFrequency(), sc.GetMonetary().GetAmountMinor(), f.OrderCount, f.NetMinor)
		}
	}
	return nil
}

// runCheck measures CheckMembership latency against a running
// segmentation server: --calls sequential calls per request shape (1,000
// pairs each) after a warm-up of a tenth as many.
func runCheck(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	addr := fs.String("addr", "", "segmentation gRPC address")
	n := fs.Int("customers", 100_000, "synthetic population size (ids c00000000…)")
	seed := fs.Uint64("seed", 1, "seed of the request generator")
	calls := fs.Int("calls", 5000, "calls per request shape")
	label := fs.String("label", "", "label for the output lines")
	auds := fs.String("audiences", "", "comma-separated audiences to draw from")
	_ = fs.Parse(args)
	ctx := context.Background()
	conn, err := dialKeyed(*addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	cli := segmentationv1.NewSegmentationServiceClient(conn)
	audiences := strings.Split(*auds, ",")
	rng := rand.New(rand.NewPCG(*seed, 99))
	shapes := []struct{ customers, audiences int }{{1000, 1}, {100, 10}, {50, 20}}
	for _, sh := range shapes {
		reqs := make([]*segmentationv1.CheckMembershipRequest, 64)
		for i := range reqs {
			req := &segmentationv1.CheckMembershipRequest{}
			for range sh.customers {
				// One in twenty ids is unknown to segmentation.
				req.CustomerIds = append(req.CustomerIds, synth.ID(rng.IntN(*n+*n/20)))
			}
			perm := rng.Perm(len(audiences))
			for _, j := range perm[:sh.audiences] {
				req.Audiences = append(req.Audiences, audiences[j])
			}
			reqs[i] = req
		}
		lat := make([]time.Duration, 0, *calls)
		var members int
		for i := range *calls + *calls/10 {
			t := time.Now()
			r, err := cli.CheckMembership(ctx, reqs[i%len(reqs)])
			d := time.Since(t)
			if err != nil {
				return fmt.Errorf("check membership: %w", err)
			}
			if i < *calls/10 {
				continue // warm-up
			}
			lat = append(lat, d)
			if got := len(r.GetMembers()); got != sh.customers*sh.audiences {
				return fmt.Errorf("check membership: %d answers, want %d", got, sh.customers*sh.audiences)
			}
			for _, m := range r.GetMembers() {
				if m {
					members++
				}
			}
		}
		slices.Sort(lat)
		pct := func(p float64) string {
			return fmt.Sprintf("%d µs", lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
		}
		fmt.Printf("check membership (%s) %d customers × %d audiences: %d calls, p50 %s, p90 %s, p99 %s, p99.9 %s, max %s (%.1f%% true)\n",
			*label, sh.customers, sh.audiences, len(lat), pct(0.50), pct(0.90), pct(0.99), pct(0.999), pct(1),
			100*float64(members)/float64(len(lat)*1000))
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// createPostgres creates a database next to admin's and returns its DSN
// and a function that drops it.
func createPostgres(ctx context.Context, admin, name string) (string, func(), error) {
	db, err := sqlstore.Open(ctx, admin)
	if err != nil {
		return "", nil, err
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, err
	}
	u, err := url.Parse(admin)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	}, nil
}

func money(minor int64) *typev1.Money {
	return &typev1.Money{CurrencyCode: synth.Currency, AmountMinor: minor}
}

// customerEvents returns c's history as profile events: one order_placed
// per order, one order_refunded per refunded order (three days later, or
// at the end of the history), and one product_viewed for activity after
// the last order (the only event of a prospect).
func customerEvents(c *synth.Customer, asOf time.Time) []*profilev1.Event {
	var out []*profilev1.Event
	add := func(at time.Time, e *profilev1.Event) {
		e.EventId = fmt.Sprintf("%s-e%d", c.ID, len(out)+1)
		e.CustomerId = c.ID
		e.OccurredAt = timestamppb.New(at)
		out = append(out, e)
	}
	for i := range c.Orders {
		o := &c.Orders[i]
		line := &profilev1.OrderLine{Sku: "sku-" + o.Category, Category: o.Category, Quantity: 1,
			UnitPrice: money(o.AmountMinor + o.DiscountMinor)}
		if o.DiscountMinor > 0 {
			line.Discount = money(o.DiscountMinor)
		}
		add(o.Time, &profilev1.Event{Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{
			OrderId: o.ID, Lines: []*profilev1.OrderLine{line}, Total: money(o.AmountMinor), Channel: o.Channel}}})
	}
	for i := range c.Orders {
		o := &c.Orders[i]
		if o.Refunded {
			at := o.Time.Add(72 * time.Hour)
			if at.After(asOf) {
				at = asOf
			}
			add(at, &profilev1.Event{Payload: &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{
				OrderId: o.ID, Amount: money(o.AmountMinor)}}})
		}
	}
	if len(c.Orders) == 0 || c.LastActivity.After(c.Orders[len(c.Orders)-1].Time) {
		add(c.LastActivity, &profilev1.Event{Payload: &profilev1.Event_ProductViewed{ProductViewed: &profilev1.ProductViewed{
			Sku: "sku-browse", Category: "apparel", Channel: "web"}}})
	}
	return out
}

// loadProfile records every customer's events in 1,000-event batches, four
// in flight, and returns the highest sequence and the number of events.
func loadProfile(ctx context.Context, cli profilev1.ProfileServiceClient, g *synth.Generator) (int64, int, error) {
	batches := make(chan []*profilev1.Event, 8)
	go func() {
		defer close(batches)
		var batch []*profilev1.Event
		for i := range g.Len() {
			c := g.Customer(i)
			batch = append(batch, customerEvents(&c, g.AsOf())...)
			if len(batch) >= 900 {
				select {
				case batches <- batch:
				case <-ctx.Done():
					return
				}
				batch = nil
			}
		}
		if len(batch) > 0 {
			batches <- batch
		}
	}()
	var (
		mu     sync.Mutex
		head   int64
		events int
		errs   []error
		wg     sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				resp, err := cli.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: batch})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					for _, r := range resp.GetResults() {
						head = max(head, r.GetSequence())
					}
					events += int(resp.GetAcceptedCount())
					if resp.GetRejectedCount() > 0 && len(errs) == 0 {
						for _, r := range resp.GetResults() {
							if r.GetOutcome() == profilev1.EventOutcome_EVENT_OUTCOME_REJECTED {
								errs = append(errs, fmt.Errorf("event %s rejected: %v", r.GetEventId(), r))
								break
							}
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return 0, 0, errors.Join(errs[0], fmt.Errorf("%d batch errors", len(errs)))
	}
	return head, events, nil
}

// dialKeyed connects to addr in plaintext, sending the API key
// auth.ClientKey finds (TENURE_API_KEY, set by the stack command).
func dialKeyed(addr string) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	key, err := auth.ClientKey()
	if err != nil {
		return nil, err
	}
	if key != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.KeyCredentials{Key: key}))
	}
	return grpc.NewClient(addr, opts...)
}

package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/feedback/internal/rules"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// benchService is the domain over a migrated store of engine ("sqlite"
// or "postgres") with a fixed clock.
func benchService(b *testing.B, engine string, now time.Time) (*feedback.Service, feedback.Store) {
	b.Helper()
	db := sqlstoretest.SQLite(b)
	if engine == "postgres" {
		db = sqlstoretest.Postgres(b)
	}
	st := migrated(b, db)
	c, err := rules.New()
	if err != nil {
		b.Fatal(err)
	}
	return feedback.NewService(st, c, feedback.WithClock(func() time.Time { return now })), st
}

// BenchmarkCreateTicket200Rules creates tickets (classified by 200 rules:
// 100 keyword lists and 100 CEL conditions, stored, SLA policy chosen) and
// reports the p50 and p99 latency of one creation.
func BenchmarkCreateTicket200Rules(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) { benchCreateTicket(b, engine) })
	}
}

func benchCreateTicket(b *testing.B, engine string) {
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	svc, _ := benchService(b, engine, now)
	for i := range 100 {
		if _, err := svc.CreateRule(ctx, feedback.Rule{ID: fmt.Sprintf("kw-%03d", i),
			Keywords: []string{fmt.Sprintf("产品%03d", i), fmt.Sprintf("word%03d", i), "退款" + strconv.Itoa(i)},
			SetQueue: fmt.Sprintf("q%d", i%7), AddTags: []string{"kw"}}); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.CreateRule(ctx, feedback.Rule{ID: fmt.Sprintf("cel-%03d", i),
			Condition:   fmt.Sprintf(`ticket.channel == "app" && customer.value_tier == "vip" && size(ticket.body) > %d`, i),
			SetPriority: feedback.PriorityHigh}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := svc.CreatePolicy(ctx, feedback.Policy{ID: "normal", Priority: feedback.PriorityNormal, FirstReply: 2 * time.Hour}); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		_, err := svc.CreateTicket(ctx, feedback.Ticket{CustomerID: "c-" + strconv.Itoa(i), Channel: "app",
			Subject: "订单问题", Body: fmt.Sprintf("我的产品%03d坏了，我要退款。Order %d arrived broken, please help.", i%150, i)})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkEscalationSweep sweeps TENURE_BENCH_TICKETS (default 100,000)
// open tickets whose first-reply step is due, so every ticket is escalated
// (the worst case), and reports the seconds one sweep takes.
func BenchmarkEscalationSweep(b *testing.B) {
	n := 100_000
	if v := os.Getenv("TENURE_BENCH_TICKETS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	created := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	asOf := created.Add(3 * time.Hour)
	policy := feedback.Policy{ID: "normal", Priority: feedback.PriorityNormal, FirstReply: 2 * time.Hour,
		Steps: []feedback.Step{{ID: "raise", Clock: feedback.ClockFirstReply, RaisePriority: true}}}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) { sweepBench(b, engine, n, policy, created, asOf) })
	}
}

// sweepBench runs the sweep over n due tickets on engine.
func sweepBench(b *testing.B, engine string, n int, policy feedback.Policy, created, asOf time.Time) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		svc, st := benchService(b, engine, asOf)
		if _, err := svc.CreatePolicy(ctx, policy); err != nil {
			b.Fatal(err)
		}
		fill(b, st, &policy, n, created)
		b.StartTimer()
		start, startCPU := time.Now(), cpuTime(b)
		op, err := svc.Escalate(ctx, asOf, false)
		took, tookCPU := time.Since(start), cpuTime(b)-startCPU
		if err != nil || op.Failed || op.StepsApplied != int64(n) {
			b.Fatalf("sweep: %+v, %v; want %d steps", op, err, n)
		}
		b.ReportMetric(took.Seconds(), "sweep-s")
		b.ReportMetric(tookCPU.Seconds(), "sweep-cpu-s")
	}
}

// cpuTime is the process's user and system time so far: on a shared
// machine it varies less than the wall clock.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fill stores n open tickets under policy p, in transactions of 10,000.
func fill(b *testing.B, st feedback.Store, p *feedback.Policy, n int, created time.Time) {
	b.Helper()
	const batch = 10_000
	tickets := make([]*feedback.Ticket, 0, batch)
	for i := range n {
		t := &feedback.Ticket{ID: fmt.Sprintf("t%010d", i), CustomerID: "c-" + strconv.Itoa(i%50_000), Type: feedback.TypeInquiry,
			Channel: "web", Subject: "Where is my order", Body: "It has not arrived yet.", Priority: feedback.PriorityNormal,
			Queue: feedback.DefaultQueue, Status: feedback.StatusOpen, PolicyID: p.ID, CreateTime: created, UpdateTime: created,
			History: []feedback.StatusChange{{Status: feedback.StatusOpen, At: created}}}
		t.Refresh(p, created)
		tickets = append(tickets, t)
		if len(tickets) == batch || i == n-1 {
			if err := st.CreateTickets(context.Background(), tickets); err != nil {
				b.Fatal(err)
			}
			tickets = tickets[:0]
		}
	}
}

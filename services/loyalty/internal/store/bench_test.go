package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// seedMembers writes n enrolled members with five buckets of 10 points
// each, all expired by asOf, in transactions of 5,000 members.
func seedMembers(b testing.TB, s *Store, n int, asOf time.Time) {
	b.Helper()
	ctx := context.Background()
	earned := asOf.AddDate(-1, 0, 0)
	for start := 0; start < n; start += 5000 {
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			l := s.newLedger(tx, time.Time{})
			var members, buckets [][]any
			for i := start; i < min(start+5000, n); i++ {
				id := fmt.Sprintf("m%08d", i)
				members = append(members, memberArgs(loyalty.Member{ID: id, Enrolled: true, Tier: "member", TierSince: earned,
					Lifetime: 50, Seq: 5, CreateTime: earned}))
				for k := range 5 {
					at := earned.Add(time.Duration(k) * time.Hour)
					buckets = append(buckets, []any{id, int64(k + 1), int64(10), int64(10), unixNano(at), unixNano(at),
						unixNano(at.AddDate(0, 11, 0)), "", 1, int64(0)})
				}
			}
			if err := l.writeRows(ctx, "members", memberCols, "", members); err != nil {
				return err
			}
			return l.writeRows(ctx, "buckets", "member_id, "+bucketCols, "", buckets)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpireJob runs the expiry job over TENURE_BENCH_MEMBERS members
// (default 100,000) with five due buckets each, and reports its seconds.
func BenchmarkExpireJob(b *testing.B) {
	n, _ := strconv.Atoi(cmp.Or(os.Getenv("TENURE_BENCH_MEMBERS"), "100000"))
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	sqlstoretest.BenchEngines(b, func(b *testing.B, open func() *sqlstore.DB) {
		for b.Loop() {
			b.StopTimer()
			s := New(open())
			if err := s.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			seedMembers(b, s, n, asOf)
			svc := loyalty.NewService(s, func() time.Time { return asOf })
			b.StartTimer()
			start := time.Now()
			op, err := svc.RunJob(context.Background(), loyalty.JobExpire, asOf, false)
			if err != nil || op.State != loyalty.OpSucceeded || op.MembersChanged != int64(n) || op.Points != int64(50*n) {
				b.Fatalf("expire = %+v, %v", op, err)
			}
			b.ReportMetric(time.Since(start).Seconds(), "s/job")
		}
	})
}

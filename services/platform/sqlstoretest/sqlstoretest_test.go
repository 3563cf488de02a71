package sqlstoretest_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// recorder is a testing.TB that records how a test ended instead of
// ending the real one.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestPostgresUnreachable points the tests at a port nothing listens on:
// outside CI a PostgreSQL test is skipped, under CI (any true value) it
// fails.
func TestPostgresUnreachable(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantFail bool
	}{{"", false}, {"false", false}, {"true", true}, {"1", true}, {"TRUE", true}} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("TENURE_TEST_POSTGRES_DSN", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5")
			t.Setenv("CI", tc.ci)
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				sqlstoretest.Postgres(r)
			}()
			<-done
			if r.failed != tc.wantFail || r.skipped == tc.wantFail || !strings.Contains(r.msg, "postgres unavailable") {
				t.Errorf("CI=%q: failed %v, skipped %v (%q); want failed %v", tc.ci, r.failed, r.skipped, r.msg, tc.wantFail)
			}
		})
	}
}

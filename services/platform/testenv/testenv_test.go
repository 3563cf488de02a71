package testenv_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/tenurehq/tenure/services/platform/testenv"
)

func TestCI(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{
		{"true", true}, {"TRUE", true}, {"True", true}, {"1", true}, {"t", true},
		{"", false}, {"false", false}, {"0", false}, {"no", false}, {"yes", false},
	} {
		t.Run(fmt.Sprintf("CI=%q", tc.value), func(t *testing.T) {
			t.Setenv("CI", tc.value)
			if got := testenv.CI(); got != tc.want {
				t.Errorf("CI() with CI=%q = %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

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

func missing(t *testing.T) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testenv.Missing(r, "data set absent: %s", "x.csv")
	}()
	<-done
	return r
}

func TestMissing(t *testing.T) {
	t.Run("outside CI", func(t *testing.T) {
		t.Setenv("CI", "")
		r := missing(t)
		if !r.skipped || r.failed || r.msg != "data set absent: x.csv" {
			t.Errorf("Missing outside CI: skipped %v, failed %v, message %q; want a skip with the message", r.skipped, r.failed, r.msg)
		}
	})
	for _, v := range []string{"true", "1", "TRUE"} {
		t.Run("CI="+v, func(t *testing.T) {
			t.Setenv("CI", v)
			r := missing(t)
			if !r.failed || r.skipped || r.msg != "data set absent: x.csv (required when CI is set)" {
				t.Errorf("Missing with CI=%s: failed %v, skipped %v, message %q; want a failure with the message", v, r.failed, r.skipped, r.msg)
			}
		})
	}
}

package procstat

import (
	"os"
	"testing"
	"time"
)

// TestCPUCountsOwnWork burns CPU in this process until CPU reports 100 ms
// more than at the start; on a busy machine that takes longer than 100 ms
// of wall time, so the test allows a minute.
func TestCPUCountsOwnWork(t *testing.T) {
	before, err := CPU(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	start := time.Now()
	for turns := 0; ; turns++ {
		if turns%1_000_000 == 0 {
			now, err := CPU(os.Getpid())
			if err != nil {
				t.Fatal(err)
			}
			if now-before >= 100*time.Millisecond {
				break
			}
			if time.Since(start) > time.Minute {
				t.Fatalf("CPU went from %v to %v over a minute of busy loop, want 100 ms more", before, now)
			}
		}
	}
	if _, err := CPU(1 << 30); err == nil {
		t.Error("CPU of a process that does not exist: no error")
	}
}

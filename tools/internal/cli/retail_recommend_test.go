package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// historyCursor reads the segmentation purchase history's cursor.
type historyCursor struct {
	a interface {
		HistoryCursor(context.Context) (int64, error)
	}
}

func (h historyCursor) Cursor(ctx context.Context) (int64, error) { return h.a.HistoryCursor(ctx) }

// TestRecommendationsOnlineRetail imports the UCI file, then backtests the
// recommendation model with tenurectl at 2011-09-01: it must beat the
// popularity baseline and reach a hit rate at 10 of 0.45.
func TestRecommendationsOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 541,909 rows")
	}
	requireDataSet(t, onlineRetailFile)
	s := stacktest.Start(t, stacktest.Options{})
	paddr := startProfile(t, s)
	seg := startSegmentation(t, s)
	start := time.Now()
	importJSON(t, "--file", onlineRetailFile, "--grpc", paddr)
	waitConsumed(t, historyCursor{seg}, logHead(t, paddr), 3*time.Minute)
	t.Logf("imported and consumed in %.1f s", time.Since(start).Seconds())

	code, stdout, stderr := run(t, false, "recommendations", "evaluate", "--as-of", "2011-09-01", "--grpc", seg.Addr(), "--output", "json")
	if code != 0 {
		t.Fatalf("evaluate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	type metrics struct{ HitRate, Precision, Coverage float64 }
	var ev struct {
		Customers, CatalogueItems string
		Model, Baseline           metrics
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s customers, %s items: model %+v, baseline %+v", ev.Customers, ev.CatalogueItems, ev.Model, ev.Baseline)
	if ev.Model.HitRate <= ev.Baseline.HitRate || ev.Model.HitRate < 0.45 {
		t.Errorf("model hit rate@10 %.3f, baseline %.3f; want above the baseline and at least 0.45", ev.Model.HitRate, ev.Baseline.HitRate)
	}
	if ev.Baseline.HitRate < 0.25 || ev.Baseline.HitRate > 0.4 {
		t.Errorf("baseline hit rate@10 %.3f, want about 0.31", ev.Baseline.HitRate)
	}

	code, stdout, _ = run(t, false, "recommendations", "evaluate", "--as-of", "2011-09-01", "--grpc", seg.Addr())
	if code != 0 || !strings.Contains(stdout, "popularity baseline") || !strings.Contains(stdout, "hit rate@10") {
		t.Errorf("text report: exit %d\n%s", code, stdout)
	}
	t.Logf("\n%s", stdout)
}

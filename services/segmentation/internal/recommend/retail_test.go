package recommend_test

import (
	"cmp"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/testenv"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
)

// onlineRetailFile is the UCI Online Retail file: the absolute path in
// TENURE_ONLINE_RETAIL_FILE, else the copy development and CI machines keep
// beside the repository (never inside it).
var onlineRetailFile = cmp.Or(os.Getenv("TENURE_ONLINE_RETAIL_FILE"),
	"../../../../../shared/datasets/online-retail/online_retail.csv.gz")

// readRetail loads the file's orders into a history as the import sends
// them: one order per invoice with a customer, cancellations ("C…") and
// lines without a positive quantity left out, times from UK local time.
func readRetail(tb testing.TB, path string) *recommend.History {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(tb, "data set absent: %v", err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	r := csv.NewReader(zr)
	header, err := r.Read()
	if err != nil {
		tb.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	h := recommend.NewHistory()
	var no, cust string
	var at time.Time
	var lines []recommend.Line
	flush := func() {
		h.AddOrder(cust, at, lines)
		lines = lines[:0]
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if rec[col["CustomerID"]] == "" || strings.HasPrefix(rec[col["InvoiceNo"]], "C") || strings.HasPrefix(rec[col["Quantity"]], "-") || rec[col["Quantity"]] == "0" {
			continue
		}
		if rec[col["InvoiceNo"]] != no {
			flush()
			no, cust = rec[col["InvoiceNo"]], rec[col["CustomerID"]]
			if at, err = time.ParseInLocation("2006-01-02T15:04:05", rec[col["InvoiceDate"]], london); err != nil {
				tb.Fatal(err)
			}
		}
		lines = append(lines, recommend.Line{SKU: rec[col["StockCode"]]})
	}
	flush()
	return h
}

// retailSplit is the split of the real-data check.
var retailSplit = time.Date(2011, 9, 1, 0, 0, 0, 0, time.UTC)

func TestEvaluateOnlineRetail(t *testing.T) {
	h := readRetail(t, onlineRetailFile)
	ev := recommend.Evaluate(h, retailSplit, 10, recommend.Options{})
	t.Logf("customers %d, catalogue %d", ev.Customers, ev.Catalogue)
	t.Logf("model:    hit rate@10 %.3f, precision@10 %.3f, coverage %.3f", ev.Model.HitRate, ev.Model.Precision, ev.Model.Coverage)
	t.Logf("baseline: hit rate@10 %.3f, precision@10 %.3f, coverage %.3f", ev.Baseline.HitRate, ev.Baseline.Precision, ev.Baseline.Coverage)
	if ev.Model.HitRate <= ev.Baseline.HitRate {
		t.Errorf("model hit rate %.3f, want above the baseline's %.3f", ev.Model.HitRate, ev.Baseline.HitRate)
	}
	if ev.Model.HitRate < 0.45 {
		t.Errorf("model hit rate %.3f, want at least 0.45", ev.Model.HitRate)
	}
}

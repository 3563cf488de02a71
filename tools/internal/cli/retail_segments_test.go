package cli

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// rfmAsOf is the as-of time of issue 3's real-data check.
var rfmAsOf = time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)

// expectedRFM is what the rules say about one customer, computed here from
// the CSV without any of the importer's or the services' code.
type expectedRFM struct {
	id                       string
	firstOrder, lastOrder    time.Time
	r, f, m                  int64
	rScore, fScore, mScore   int32
	segment, tier, stage     string
	hasOrder                 bool
	refundOnlyWorthSomething bool // no order, but a refund the service records
}

// retailInvoice is one InvoiceNo gathered from its rows.
type retailInvoice struct {
	customer string
	at       time.Time // earliest row time, UTC
	net      int64     // pence: line totals rounded half up, negative for "C"
}

// readRetailInvoices reads the Online Retail file into its invoices, by
// InvoiceNo, and the file's net in pence. Conventions, matching what
// tools/internal/retailimport sends (read, not called): rows without a
// customer are skipped; an invoice's time is its earliest row's, UK local
// time; a line is worth quantity × unit price rounded to whole pence half
// away from zero (a cancellation's lines count negative).
func readRetailInvoices(t *testing.T, path string) (map[string]*retailInvoice, int64) {
	t.Helper()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(zr)
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	invoices := map[string]*retailInvoice{}
	half, hundred := big.NewRat(1, 2), big.NewRat(100, 1)
	var fileNet int64
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		cust := rec[col["CustomerID"]]
		if cust == "" {
			continue
		}
		no := rec[col["InvoiceNo"]]
		at, err := time.ParseInLocation("2006-01-02T15:04:05", rec[col["InvoiceDate"]], london)
		if err != nil {
			t.Fatal(err)
		}
		qty, ok := new(big.Rat).SetString(rec[col["Quantity"]])
		price, ok2 := new(big.Rat).SetString(rec[col["UnitPrice"]])
		if !ok || !ok2 {
			t.Fatalf("invoice %s: bad number", no)
		}
		// |qty| × price in pence, rounded half up, then signed.
		v := new(big.Rat).Mul(new(big.Rat).Abs(qty), price)
		v.Mul(v, hundred).Add(v, half)
		pence := new(big.Int).Quo(v.Num(), v.Denom()).Int64() // v > 0: truncation is floor
		if qty.Sign() < 0 {
			pence = -pence
		}
		inv := invoices[no]
		if inv == nil {
			inv = &retailInvoice{customer: cust, at: at.UTC()}
			invoices[no] = inv
		}
		if at.UTC().Before(inv.at) {
			inv.at = at.UTC()
		}
		inv.net += pence
		fileNet += pence
	}

	return invoices, fileNet
}

// independentRFM reads the Online Retail file (readRetailInvoices) and
// applies docs/concepts.md's RFM rules; F counts invoices not starting with
// "C".
func independentRFM(t *testing.T, path string) (map[string]*expectedRFM, int64) {
	t.Helper()
	invoices, fileNet := readRetailInvoices(t, path)
	out := map[string]*expectedRFM{}
	for no, inv := range invoices {
		e := out[inv.customer]
		if e == nil {
			e = &expectedRFM{id: inv.customer}
			out[inv.customer] = e
		}
		e.m += inv.net
		if strings.HasPrefix(no, "C") {
			if inv.net != 0 {
				e.refundOnlyWorthSomething = true
			}
			continue
		}
		e.hasOrder = true
		e.f++
		if e.lastOrder.IsZero() || inv.at.After(e.lastOrder) {
			e.lastOrder = inv.at
		}
		if e.firstOrder.IsZero() || inv.at.Before(e.firstOrder) {
			e.firstOrder = inv.at
		}
	}

	var scored []*expectedRFM
	for _, e := range out {
		if e.hasOrder {
			e.refundOnlyWorthSomething = false
			e.r = int64(rfmAsOf.Sub(e.lastOrder) / (24 * time.Hour))
			scored = append(scored, e)
		}
	}
	// score = 1 + floor(5W/N), W = customers with a strictly worse value:
	// a larger R, a smaller F or M. Sorting ascending, W for F and M is the
	// number of values below, for R the number above.
	n := int64(len(scored))
	score := func(value func(*expectedRFM) int64, largerIsWorse bool, set func(*expectedRFM, int32)) {
		vals := make([]int64, len(scored))
		for i, e := range scored {
			vals[i] = value(e)
		}
		slices.Sort(vals)
		for _, e := range scored {
			v := value(e)
			var w int
			if largerIsWorse {
				w = len(vals) - sort.Search(len(vals), func(i int) bool { return vals[i] > v })
			} else {
				w = sort.Search(len(vals), func(i int) bool { return vals[i] >= v })
			}
			set(e, int32(1+5*int64(w)/n))
		}
	}
	score(func(e *expectedRFM) int64 { return e.r }, true, func(e *expectedRFM, s int32) { e.rScore = s })
	score(func(e *expectedRFM) int64 { return e.f }, false, func(e *expectedRFM, s int32) { e.fScore = s })
	score(func(e *expectedRFM) int64 { return e.m }, false, func(e *expectedRFM, s int32) { e.mScore = s })
	for _, e := range scored {
		e.segment = rfmSegment(e.rScore, e.fScore)
		e.tier = defaultTier[e.segment]
		sinceFirst := int64(rfmAsOf.Sub(e.firstOrder) / (24 * time.Hour))
		switch {
		case sinceFirst <= 30:
			e.stage = "new"
		case e.r <= 90:
			e.stage = "active"
		case e.r <= 180:
			e.stage = "dormant"
		default:
			e.stage = "churned"
		}
	}
	return out, fileNet
}

// rfmSegment is docs/concepts.md's table from R and F scores.
func rfmSegment(r, f int32) string {
	switch {
	case r == 5 && f >= 4:
		return "champions"
	case (r == 3 || r == 4) && f >= 4:
		return "loyal"
	case r >= 4 && (f == 2 || f == 3):
		return "potential_loyalist"
	case r == 5 && f == 1:
		return "new_customer"
	case r == 4 && f == 1:
		return "promising"
	case r == 3 && f == 3:
		return "need_attention"
	case r == 3 && f <= 2:
		return "about_to_sleep"
	case r <= 2 && (f == 3 || f == 4):
		return "at_risk"
	case r <= 2 && f == 5:
		return "cant_lose"
	case r == 2:
		return "hibernating"
	default:
		return "lost"
	}
}

var defaultTier = map[string]string{
	"champions": "vip", "loyal": "vip",
	"potential_loyalist": "potential", "new_customer": "potential", "promising": "potential",
	"need_attention": "regular",
	"about_to_sleep": "at_risk", "at_risk": "at_risk", "cant_lose": "at_risk", "hibernating": "at_risk", "lost": "at_risk",
}

// TestSegmentationOnlineRetail is issue 3's "correctness on real data":
// import the file into the real profile service, let the real segmentation
// service consume the log, recompute as of 2011-12-10T00:00:00Z with
// tenurectl, and check every customer against the computation above.
// Its length is the table of hand-worked customers and their derivations.
func TestSegmentationOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 541,909 rows")
	}
	requireDataSet(t, onlineRetailFile)
	want, fileNet := independentRFM(t, onlineRetailFile)
	var wantScored int
	var wantM int64
	for _, e := range want {
		if e.hasOrder {
			wantScored++
			wantM += e.m
		}
	}
	// The figure, and the file's own: 4,372 customer ids.
	if wantScored != 4339 || len(want) != 4372 {
		t.Fatalf("independent computation: %d customers with an order of %d; want 4,339 of 4,372", wantScored, len(want))
	}

	// Hand-worked from the file (zcat | grep the customer's rows):
	hand := []struct {
		id                     string
		r, f, m                int64
		rScore, fScore, mScore int32
		segment                string
	}{
		// 12346: one order 541431 on 18 Jan 2011 10:01 GMT, 74,215 × 1.04 = 77,183.60,
		// cancelled in full 16 minutes later (C541433) → M = 0. R: 18 Jan is day 18,
		// 10 Dec day 344 → 326 days − 10 h 01 → 325. Scores: W_R = 160 customers
		// with a longer recency, 1 + ⌊5·160/4339⌋ = 1;
		// F: nobody has fewer than 1 order, W = 0 → 1; M: the 8 customers with a
		// negative net are worse, 1 + ⌊40/4339⌋ = 1. R1 F1 → lost.
		{"12346", 325, 1, 0, 1, 1, 1, "lost"},
		// 12347: seven orders, the last 581180 on 7 Dec 2011 15:52 GMT → R = 2 days
		// 8 h 08 → 2. M = 711.79 + 475.39 + 636.25 + 382.52 + 584.91 + 1,294.32 +
		// 224.82 = 4,310.00. W: R 4,111, F 3,639, M 4,020 → 1 + ⌊5W/4339⌋ = 5, 5, 5
		// → champions.
		{"12347", 2, 7, 431000, 5, 5, 5, "champions"},
		// 17850: 34 orders on 1–2 Dec 2010 (last 536791, 2 Dec 15:27 GMT) and one
		// cancellation C543611 of 102.58: M = 5,391.21 − 102.58 = 5,288.63.
		// R: 2 Dec 2010 → 2 Dec 2011 is 365 days, + 8 = 373 − 15 h 27 → 372.
		// W: R 17 → 1; F 4,305 → 5; M 4,097 → 5. R1 F5 → cant_lose.
		{"17850", 372, 34, 528863, 1, 5, 5, "cant_lose"},
		// 18074: one order 536384 on 1 Dec 2010 09:53 (13 lines, 489.60), the
		// earliest last order in the file: R = 373 days − 9 h 53 → 373, W_R = 0.
		// W_M = 1,770 → 1 + ⌊8850/4339⌋ = 3. R1 F1 → lost.
		{"18074", 373, 1, 48960, 1, 1, 3, "lost"},
		// 12348: last order 568172 on 25 Sep 2011 13:13 BST = 12:13 UTC; day 268 →
		// 344 − 268 = 76 days − 12 h 13 → 75. Four orders, M = 1,797.24.
		// W: R 1,634 → 2; F 2,837 → 4; M 3,360 → 4. R2 F4 → at_risk.
		{"12348", 75, 4, 179724, 2, 4, 4, "at_risk"},
	}
	for _, h := range hand {
		e := want[h.id]
		if e == nil || e.r != h.r || e.f != h.f || e.m != h.m || e.rScore != h.rScore || e.fScore != h.fScore || e.mScore != h.mScore || e.segment != h.segment {
			t.Errorf("independent computation disagrees with the hand-worked %s: %+v", h.id, e)
		}
	}

	s := stacktest.Start(t, stacktest.Options{})
	paddr := startProfile(t, s)
	seg := startSegmentation(t, s)
	start := time.Now()
	sum := importJSON(t, "--file", onlineRetailFile, "--grpc", paddr)
	t.Logf("import: %d accepted, %d rejected in %.1f s", sum.Accepted, sum.Rejected, time.Since(start).Seconds())
	head := logHead(t, paddr)
	start = time.Now()
	waitConsumed(t, seg, head, 3*time.Minute)
	t.Logf("segmentation caught up to sequence %d %.1f s after the import", head, time.Since(start).Seconds())

	code, stdout, stderr := run(t, false, "segments", "recompute", "--as-of", "2011-12-10T00:00:00Z", "--wait", "--poll", "20ms",
		"--grpc", seg.Addr(), "--output", "json")
	if code != 0 {
		t.Fatalf("recompute: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var op struct {
		Name, State                   string
		CustomersDone, CustomersTotal string
		InputSequence                 string
	}
	if err := json.Unmarshal([]byte(stdout), &op); err != nil {
		t.Fatal(err)
	}
	if op.State != "OPERATION_STATE_SUCCEEDED" || op.CustomersDone != op.CustomersTotal {
		t.Fatalf("recompute %s", stdout)
	}
	var inputSeq int64
	if err := json.Unmarshal([]byte(op.InputSequence), &inputSeq); err != nil || inputSeq < head {
		t.Errorf("recompute input sequence %s, want at least %d", op.InputSequence, head)
	}

	conn, err := dial(seg.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := segmentationv1.NewSegmentationServiceClient(conn)
	ctx := context.Background()

	rep, err := client.GetReport(ctx, &segmentationv1.GetReportRequest{})
	if err != nil {
		t.Fatal(err)
	}
	report := rep.GetReport()
	if report.GetScoredCustomers() != 4339 {
		t.Errorf("report: %d customers with orders, want 4,339", report.GetScoredCustomers())
	}
	if mt := report.GetMonetaryTotal(); len(mt) != 1 || mt[0].GetCurrencyCode() != "GBP" || mt[0].GetAmountMinor() != wantM {
		t.Errorf("report monetary total %v, want GBP %d", mt, wantM)
	}

	// Every customer in the file, one call each.
	start = time.Now()
	got := map[string]*segmentationv1.CustomerScores{}
	var sumM int64
	mismatches := 0
	for id, e := range want {
		resp, err := client.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/" + id + "/scores"})
		if status.Code(err) == codes.NotFound && !e.hasOrder && !e.refundOnlyWorthSomething {
			continue // only refunds worth nothing, which profile rejects: never a customer
		}
		if err != nil {
			t.Fatalf("scores of %s: %v", id, err)
		}
		s := resp.GetScores()
		got[id] = s
		if !e.hasOrder {
			if s.GetScored() || s.GetLifecycleStage() != "prospect" {
				t.Errorf("%s has no order but scores %v", id, s)
			}
			continue
		}
		sumM += s.GetMonetary().GetAmountMinor()
		if !s.GetScored() || s.GetRecencyDays() != e.r || s.GetFrequency() != e.f || s.GetMonetary().GetAmountMinor() != e.m ||
			s.GetMonetary().GetCurrencyCode() != "GBP" || s.GetRScore() != e.rScore || s.GetFScore() != e.fScore || s.GetMScore() != e.mScore ||
			s.GetRfmSegment() != e.segment || s.GetValueTier() != e.tier || s.GetLifecycleStage() != e.stage {
			if mismatches++; mismatches <= 20 {
				t.Errorf("%s: service R %d F %d M %d scores %d%d%d %s %s %s; want R %d F %d M %d scores %d%d%d %s %s %s",
					id, s.GetRecencyDays(), s.GetFrequency(), s.GetMonetary().GetAmountMinor(),
					s.GetRScore(), s.GetFScore(), s.GetMScore(), s.GetRfmSegment(), s.GetValueTier(), s.GetLifecycleStage(),
					e.r, e.f, e.m, e.rScore, e.fScore, e.mScore, e.segment, e.tier, e.stage)
			}
		}
	}
	t.Logf("%d GetCustomerScores calls in %.2f s", len(want), time.Since(start).Seconds())
	if mismatches > 0 {
		t.Errorf("%d of 4,339 customers differ from the independent computation", mismatches)
	}
	if sumM != wantM {
		t.Errorf("sum of M over customers = %d, want %d", sumM, wantM)
	}
	// The file's net (every line with a customer) is the scored customers'
	// M plus the refunds of customers who never ordered in the period.
	var refundOnly int64
	for _, e := range want {
		if !e.hasOrder {
			refundOnly += e.m
		}
	}
	if sumM+refundOnly != fileNet {
		t.Errorf("sum of M %d + refund-only customers %d = %d, want the file's net %d", sumM, refundOnly, sumM+refundOnly, fileNet)
	}

	// Distributions: the report's counts are the customers' own, ties share
	// a score, and a dimension whose values are (nearly) all distinct splits
	// into fifths.
	dims := []struct {
		name   string
		counts []*segmentationv1.Count
		value  func(*segmentationv1.CustomerScores) int64
		score  func(*segmentationv1.CustomerScores) int32
		fifths bool
	}{
		{"R", report.GetRScores(), func(s *segmentationv1.CustomerScores) int64 { return -s.GetRecencyDays() }, (*segmentationv1.CustomerScores).GetRScore, false},
		{"F", report.GetFScores(), (*segmentationv1.CustomerScores).GetFrequency, (*segmentationv1.CustomerScores).GetFScore, false},
		{"M", report.GetMScores(), func(s *segmentationv1.CustomerScores) int64 { return s.GetMonetary().GetAmountMinor() }, (*segmentationv1.CustomerScores).GetMScore, true},
	}
	for _, d := range dims {
		perScore := map[string]int64{}
		scoreOf := map[int64]int32{} // value → the one score it gets
		for _, s := range got {
			if !s.GetScored() {
				continue
			}
			sc := d.score(s)
			perScore[string(rune('0'+sc))]++
			if prev, ok := scoreOf[d.value(s)]; ok && prev != sc {
				t.Errorf("%s: tied value %d has scores %d and %d", d.name, d.value(s), prev, sc)
			}
			scoreOf[d.value(s)] = sc
		}
		var total int64
		for _, c := range d.counts {
			total += c.GetCustomers()
			if perScore[c.GetKey()] != c.GetCustomers() {
				t.Errorf("%s score %s: report %d, customers %d", d.name, c.GetKey(), c.GetCustomers(), perScore[c.GetKey()])
			}
		}
		if total != 4339 {
			t.Errorf("%s scores count %d customers, want 4,339", d.name, total)
		}
		// Better values never score lower.
		values := make([]int64, 0, len(scoreOf))
		for v := range scoreOf {
			values = append(values, v)
		}
		slices.Sort(values)
		for i := 1; i < len(values); i++ {
			if scoreOf[values[i]] < scoreOf[values[i-1]] {
				t.Errorf("%s: value %d scores %d, below %d for the worse %d", d.name, values[i], scoreOf[values[i]], scoreOf[values[i-1]], values[i-1])
			}
		}
		if d.fifths {
			// 4,339 customers, few ties: 867 or 868 per score, give or take
			// the odd tie at a boundary.
			for k := '1'; k <= '5'; k++ {
				if n := perScore[string(k)]; n < 4339/5-20 || n > 4339/5+20 {
					t.Errorf("%s score %c: %d customers, want about a fifth of 4,339", d.name, k, n)
				}
			}
		}
		t.Logf("%s scores: %v", d.name, perScore)
	}

	// Members of every RFM segment, paged, equal the independent split.
	wantMembers := map[string][]string{}
	for id, e := range want {
		if e.hasOrder {
			wantMembers[e.segment] = append(wantMembers[e.segment], id)
		}
	}
	for segName, ids := range wantMembers {
		slices.Sort(ids)
		var members []string
		token := ""
		for {
			resp, err := client.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "rfmSegments/" + segName, PageSize: 1000, PageToken: token})
			if err != nil {
				t.Fatalf("members of %s: %v", segName, err)
			}
			members = append(members, resp.GetCustomerIds()...)
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		if !slices.Equal(members, ids) {
			t.Errorf("rfmSegments/%s: %d members, want %d", segName, len(members), len(ids))
		}
	}

	// And the hand-worked customers straight from the service.
	for _, h := range hand {
		s := got[h.id]
		if s.GetRecencyDays() != h.r || s.GetFrequency() != h.f || s.GetMonetary().GetAmountMinor() != h.m ||
			s.GetRScore() != h.rScore || s.GetFScore() != h.fScore || s.GetMScore() != h.mScore || s.GetRfmSegment() != h.segment {
			t.Errorf("%s: service %v, want R %d F %d M %d, R%d F%d M%d %s", h.id, s, h.r, h.f, h.m, h.rScore, h.fScore, h.mScore, h.segment)
		}
	}
}

package cli

import (
	"cmp"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	feedbackapp "github.com/tenurehq/tenure/services/feedback/app"
	gatewayapp "github.com/tenurehq/tenure/services/gateway/app"
	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/platform/testenv"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	promotionapp "github.com/tenurehq/tenure/services/promotion/app"
)

// onlineRetailFile is the UCI Online Retail file: the absolute path in
// TENURE_ONLINE_RETAIL_FILE, else the copy development and CI machines keep
// beside the repository (never inside it).
var onlineRetailFile = cmp.Or(os.Getenv("TENURE_ONLINE_RETAIL_FILE"),
	"../../../../shared/datasets/online-retail/online_retail.csv.gz")

// requireDataSet skips the test when the data set at path is absent, or
// fails it in CI, where the data sets must be present.
func requireDataSet(tb testing.TB, path string) {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(tb, "data set absent: %v", err)
	}
}

// startProfile runs the real profile service in s, on a fresh SQLite
// file, and returns its gRPC address.
func startProfile(tb testing.TB, s *stacktest.Stack) string {
	tb.Helper()
	return s.Add(profileapp.Component(nil)).Addr()
}

// startPromotion runs the real promotion service in s and returns its
// address.
func startPromotion(tb testing.TB, s *stacktest.Stack) string {
	tb.Helper()
	return s.Add(promotionapp.Component(nil)).Addr()
}

// startFeedback runs the real feedback service in s, without the
// escalation schedule, and returns its address.
func startFeedback(tb testing.TB, s *stacktest.Stack) string {
	tb.Helper()
	return s.Add(feedbackapp.Component(func(c *feedbackapp.Config, _ *feedbackapp.Deps) { c.EscalationInterval = 0 })).Addr()
}

// startGateway runs the real gateway in s and returns its base URL once
// /readyz says every backend resolves.
func startGateway(t *testing.T, s *stacktest.Stack) string {
	t.Helper()
	base := "http://" + s.Add(gatewayapp.Component(nil)).Addr()
	// Discovery is asynchronous: wait for the gateway to see a replica of
	// every backend rather than lean on the importer's retries.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("gateway not ready after 10 s (last: %v)", err)
		}
	}
}

func TestImportThroughGateway(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	startProfile(t, s)
	startSegmentation(t, s) // the gateway is ready only with every backend
	startLoyalty(t, s)
	startFeedback(t, s)
	startPromotion(t, s)
	base := startGateway(t, s)

	args := []string{"--file", fixture, "--gateway", base, "--batch-size", "2"}
	first := importJSON(t, args...)
	// Invoice 800006 has a negative quantity on a normal invoice: sent as
	// it is, the service rejects it.
	want := importSummary{Rows: 9, RowsWithoutCustomer: 2, Invoices: 6, Orders: 5, Refunds: 1, Customers: 3, Batches: 3, Accepted: 5, Rejected: 1}
	if diff := compareCounts(first, want); diff != "" {
		t.Errorf("first run: %s", diff)
	}
	if len(first.Rejections) != 1 || !strings.HasPrefix(first.Rejections[0], "online-retail:800006: ") || !strings.Contains(first.Rejections[0], "quantity") {
		t.Errorf("rejections %q, want invoice 800006 for its quantity", first.Rejections)
	}
	second := importJSON(t, args...)
	want.Accepted, want.Duplicates = 0, 5
	if diff := compareCounts(second, want); diff != "" {
		t.Errorf("second run: %s", diff)
	}
	if first.CountriesSet != 3 || second.CountriesSet != 3 {
		t.Errorf("countries set %d, then %d; want 3 each run", first.CountriesSet, second.CountriesSet)
	}
	client, err := auth.ClientHTTP(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for id, country := range map[string]string{"70001": "GB", "70002": "DE", "70003": "FR"} {
		resp, err := client.Get(base + "/v1/customers/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Customer struct{ Country string } }
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || got.Customer.Country != country {
			t.Errorf("customer %s: country %q (%v), want %s from the file", id, got.Customer.Country, err, country)
		}
	}
}

// retailCounts are the figures an import of the real file must report,
// found by a pass over the file that shares no code with the importer.
type retailCounts struct {
	rows, rowsWithoutCustomer, invoices, refunds, customers int
	// zeroRefunds are cancellations worth nothing, which the service
	// rejects (a refund amount must be positive).
	zeroRefunds int
}

func countRetail(t testing.TB, path string) retailCounts {
	t.Helper()
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
	col := make(map[string]int)
	for i, h := range header {
		col[h] = i
	}
	var c retailCounts
	invoices := make(map[string]bool)
	customers := make(map[string]bool)
	refundValue := make(map[string]*big.Rat)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.rows++
		cust := strings.TrimSuffix(rec[col["CustomerID"]], ".0")
		if cust == "" {
			c.rowsWithoutCustomer++
			continue
		}
		no := rec[col["InvoiceNo"]]
		invoices[no] = true
		customers[cust] = true
		if strings.HasPrefix(no, "C") {
			price, ok := new(big.Rat).SetString(rec[col["UnitPrice"]])
			qty, ok2 := new(big.Rat).SetString(rec[col["Quantity"]])
			if !ok || !ok2 {
				t.Fatalf("row %d: bad number", c.rows)
			}
			if refundValue[no] == nil {
				refundValue[no] = new(big.Rat)
			}
			refundValue[no].Add(refundValue[no], price.Mul(price, qty))
		}
	}
	c.invoices, c.customers, c.refunds = len(invoices), len(customers), len(refundValue)
	half := big.NewRat(-1, 200) // less than half a penny refunded rounds to nothing
	for _, v := range refundValue {
		if v.Cmp(half) > 0 {
			c.zeroRefunds++
		}
	}
	return c
}

func TestImportOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 541,909 rows")
	}
	requireDataSet(t, onlineRetailFile)
	want := countRetail(t, onlineRetailFile)

	addr := startProfile(t, stacktest.Start(t, stacktest.Options{}))
	args := []string{"--file", onlineRetailFile, "--grpc", addr}

	first := importJSON(t, args...)
	t.Logf("first import: %d events (%.0f events/s), %.2f s with the countries, %d rejected %v",
		first.Accepted+first.Duplicates+first.Rejected, first.EventsPerSecond, first.ElapsedSeconds, first.Rejected, first.RejectedByReason)
	checkRetail(t, "first run", first, want)
	if first.Accepted != want.invoices-want.zeroRefunds || first.Duplicates != 0 || first.Rejected != want.zeroRefunds {
		t.Errorf("first run: accepted %d, duplicates %d, rejected %d; want %d, 0, %d (%v)",
			first.Accepted, first.Duplicates, first.Rejected, want.invoices-want.zeroRefunds, want.zeroRefunds, first.Rejections)
	}

	second := importJSON(t, args...)
	t.Logf("second import: %.2f s", second.ElapsedSeconds)
	checkRetail(t, "second run", second, want)
	if second.Accepted != 0 || second.Duplicates != first.Accepted || second.Rejected != first.Rejected {
		t.Errorf("second run: accepted %d, duplicates %d, rejected %d; want 0, %d, %d",
			second.Accepted, second.Duplicates, second.Rejected, first.Accepted, first.Rejected)
	}

	// Every customer exists once in the service.
	client := profilev1.NewProfileServiceClient(stacktest.Dial(t, addr))
	n, token := 0, ""
	for {
		resp, err := client.ListCustomers(context.Background(), &profilev1.ListCustomersRequest{PageSize: 1000, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		n += len(resp.GetCustomers())
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if n != want.customers {
		t.Errorf("service holds %d customers, want %d", n, want.customers)
	}
	checkRetailCountries(t, client, first, want)
}

// checkRetailCountries checks that the import set every customer's country
// it could: each customer is set, or named under a Country that is no
// single country; and two customers' codes in the service.
func checkRetailCountries(t *testing.T, client profilev1.ProfileServiceClient, got importSummary, want retailCounts) {
	t.Helper()
	unknown := 0
	for name, n := range got.CountriesUnknown {
		if name != "Channel Islands" && name != "European Community" && name != "Unspecified" {
			t.Errorf("Country %q (%d customers) left unknown; it names a country", name, n)
		}
		unknown += n
	}
	if got.CountriesSet+unknown != want.customers || len(got.CountriesNotSet) != 0 {
		t.Errorf("countries set %d, unknown %d, not set %v; want %d customers in all, none refused",
			got.CountriesSet, unknown, got.CountriesNotSet, want.customers)
	}
	for id, country := range map[string]string{"12347": "IS", "17850": "GB", "12370": "CY"} {
		resp, err := client.GetCustomer(context.Background(), &profilev1.GetCustomerRequest{Name: "customers/" + id})
		if err != nil || resp.GetCustomer().GetCountry() != country {
			t.Errorf("customer %s: country %q (%v), want %s", id, resp.GetCustomer().GetCountry(), err, country)
		}
	}
}

func checkRetail(t *testing.T, run string, got importSummary, want retailCounts) {
	t.Helper()
	if got.Rows != want.rows || got.RowsWithoutCustomer != want.rowsWithoutCustomer || got.InvalidRows != 0 ||
		got.Invoices != want.invoices || got.Refunds != want.refunds || got.Customers != want.customers {
		t.Errorf("%s: rows %d, without customer %d, invalid %d, invoices %d, refunds %d, customers %d; want %d, %d, 0, %d, %d, %d",
			run, got.Rows, got.RowsWithoutCustomer, got.InvalidRows, got.Invoices, got.Refunds, got.Customers,
			want.rows, want.rowsWithoutCustomer, want.invoices, want.refunds, want.customers)
	}
}

// BenchmarkImportOnlineRetail imports the real file over gRPC into a fresh
// profile service on SQLite, end to end: reading, mapping and recording.
func BenchmarkImportOnlineRetail(b *testing.B) {
	requireDataSet(b, onlineRetailFile)
	s := stacktest.Start(b, stacktest.Options{})
	var events int
	for b.Loop() {
		b.StopTimer()
		addr := startProfile(b, s) // a fresh service and database
		b.StartTimer()
		var out, errOut strings.Builder
		code := Run(context.Background(), Env{Stdout: &out, Stderr: &errOut},
			[]string{"import", "online-retail", "--file", onlineRetailFile, "--grpc", addr, "--output", "json"})
		if code != 0 {
			b.Fatalf("exit %d: %s", code, errOut.String())
		}
		var s importSummary
		if err := json.Unmarshal([]byte(out.String()), &s); err != nil {
			b.Fatal(err)
		}
		if s.Accepted != s.Invoices {
			b.Fatalf("accepted %d of %d invoices", s.Accepted, s.Invoices)
		}
		events += s.Accepted
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/tools/internal/ingest/ingesttest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fixture is testdata/retail.csv: 9 rows, 2 without a customer; 6 invoices
// with a customer (one cancellation, one with a negative quantity) for 3
// customers.
const fixture = "testdata/retail.csv"

// run executes tenurectl with args and returns its exit code and output.
func run(t *testing.T, terminal bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), Env{Stdout: &out, Stderr: &errOut, Terminal: terminal}, args)
	return code, out.String(), errOut.String()
}

// importJSON runs an import with --output json and decodes the summary.
func importJSON(t *testing.T, args ...string) importSummary {
	t.Helper()
	code, stdout, stderr := run(t, false, append([]string{"import", "online-retail", "--output", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	var s importSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("decode summary: %v\n%s", err, stdout)
	}
	return s
}

func TestImportFixtureTwice(t *testing.T) {
	tests := []struct {
		name   string
		target func(t *testing.T, f *ingesttest.Fake) []string
	}{
		{"grpc", func(t *testing.T, f *ingesttest.Fake) []string {
			return []string{"--grpc", ingesttest.ListenGRPC(t, f)}
		}},
		{"gateway", func(t *testing.T, f *ingesttest.Fake) []string {
			return []string{"--gateway", ingesttest.ServeHTTP(t, f)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ingesttest.New()
			args := append([]string{"--file", fixture, "--batch-size", "2"}, tt.target(t, f)...)
			first := importJSON(t, args...)
			want := importSummary{
				Rows: 9, RowsWithoutCustomer: 2, Invoices: 6, Orders: 5, Refunds: 1, Customers: 3,
				Batches: 3, Accepted: 6,
			}
			if diff := compareCounts(first, want); diff != "" {
				t.Errorf("first run: %s", diff)
			}
			wantCountries := map[string]string{"70001": "GB", "70002": "DE", "70003": "FR"}
			if got := f.Countries(); first.CountriesSet != 3 || !maps.Equal(got, wantCountries) {
				t.Errorf("countries set %d, service holds %v; want 3, %v", first.CountriesSet, got, wantCountries)
			}
			second := importJSON(t, args...)
			want.Accepted, want.Duplicates = 0, 6
			if diff := compareCounts(second, want); diff != "" {
				t.Errorf("second run: %s", diff)
			}
		})
	}
}

// compareCounts compares the counters of two summaries, ignoring timing.
func compareCounts(got, want importSummary) string {
	type counts struct {
		Rows, RowsWithoutCustomer, InvalidRows, Invoices, Orders, Refunds, Customers, Batches, Accepted, Duplicates, Rejected int
	}
	g := counts{got.Rows, got.RowsWithoutCustomer, got.InvalidRows, got.Invoices, got.Orders, got.Refunds, got.Customers, got.Batches, got.Accepted, got.Duplicates, got.Rejected}
	w := counts{want.Rows, want.RowsWithoutCustomer, want.InvalidRows, want.Invoices, want.Orders, want.Refunds, want.Customers, want.Batches, want.Accepted, want.Duplicates, want.Rejected}
	if g != w {
		return "got " + jsonString(g) + ", want " + jsonString(w)
	}
	return ""
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestImportTextAndProgress(t *testing.T) {
	f := ingesttest.New()
	code, stdout, stderr := run(t, true, "import", "online-retail", "--file", fixture, "--grpc", ingesttest.ListenGRPC(t, f), "--batch-size", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"rows                   9\n",
		"rows without customer  2 (skipped)\n",
		"invoices               6 (5 orders, 1 refunds)\n",
		"customers              3\n",
		"events accepted        6\n",
		"duplicates             0\n",
		"rejected               0\n",
		"events/s",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "] 100%  6/6 events") || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("progress on a terminal: got %q", stderr)
	}

	// Not a terminal: nothing on stderr.
	_, _, stderr = run(t, false, "import", "online-retail", "--file", fixture, "--grpc", ingesttest.ListenGRPC(t, f))
	if stderr != "" {
		t.Errorf("stderr without a terminal: %q, want nothing", stderr)
	}
}

func TestImportFailure(t *testing.T) {
	// A permanent error stops the import at once, without retries.
	f := ingesttest.New()
	f.FailNext(status.Error(codes.InvalidArgument, "events[0].occurred_at: required"))
	code, stdout, stderr := run(t, false, "import", "online-retail", "--file", fixture, "--grpc", ingesttest.ListenGRPC(t, f))
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr, "import stopped") || !strings.Contains(stderr, "occurred_at: required") {
		t.Errorf("stderr %q, want the reason the import stopped", stderr)
	}
	if !strings.Contains(stdout, "events accepted") {
		t.Errorf("no partial summary on stdout:\n%s", stdout)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no arguments", nil, 2, "usage: tenurectl"},
		{"help", []string{"help"}, 0, "import online-retail"},
		{"group only", []string{"import"}, 2, `"import" needs a command`},
		{"unknown", []string{"import", "nope"}, 2, `unknown command "import nope"`},
		{"command help", []string{"import", "online-retail", "-h"}, 0, "--file PATH"},
		{"no file", []string{"import", "online-retail"}, 2, "--file is required"},
		{"both targets", []string{"import", "online-retail", "--file", fixture, "--grpc", "a:1", "--gateway", "http://b"}, 2, "not both"},
		{"bad flag", []string{"import", "online-retail", "--nope"}, 2, "flag provided but not defined"},
		{"stray argument", []string{"import", "online-retail", "--file", fixture, "extra"}, 2, `unexpected argument "extra"`},
		{"batch too big", []string{"import", "online-retail", "--file", fixture, "--batch-size", "1001"}, 2, "--batch-size"},
		{"bad gateway", []string{"import", "online-retail", "--file", fixture, "--gateway", "127.0.0.1:8080"}, 2, "http(s) URL"},
		{"bad output", []string{"import", "online-retail", "--file", fixture, "--output", "xml"}, 2, "--output"},
		{"missing file", []string{"import", "online-retail", "--file", "testdata/none.csv", "--grpc", "127.0.0.1:1"}, 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, false, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.wantErr)
			}
		})
	}
}

func TestGrouped(t *testing.T) {
	tests := map[int]string{0: "0", 999: "999", 1000: "1,000", 541909: "541,909", 1234567: "1,234,567", -1500: "-1,500"}
	for n, want := range tests {
		if got := grouped(n); got != want {
			t.Errorf("grouped(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestImportReportsRetries(t *testing.T) {
	f := ingesttest.New()
	f.FailNext(status.Error(codes.Unavailable, "replica draining"))
	code, stdout, stderr := run(t, true, "import", "online-retail", "--file", fixture, "--grpc", ingesttest.ListenGRPC(t, f))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "batch 0, attempt 1 failed, retrying: ") || !strings.Contains(stderr, "replica draining") {
		t.Errorf("stderr %q, want the retry reported", stderr)
	}
	if !strings.Contains(stdout, "events accepted        6\n") {
		t.Errorf("summary:\n%s", stdout)
	}
}

package cli

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
)

// startSegmentation runs the real segmentation service in s, on a fresh
// SQLite file, consuming the profile service found through etcd.
func startSegmentation(tb testing.TB, s *stacktest.Stack) *segmentationapp.App {
	tb.Helper()
	return s.Add(segmentationapp.Component(func(c *segmentationapp.Config, _ *segmentationapp.Deps) {
		c.MemoryLimit = 0 // a process-wide setting; leave the test binary's alone
	})).Runner.(*segmentationapp.App)
}

// logHead returns the sequence of the latest event in profile's log.
func logHead(tb testing.TB, profileAddr string) int64 {
	tb.Helper()
	conn, err := dial(profileAddr)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	resp, err := profilev1.NewProfileServiceClient(conn).GetEventLogHead(context.Background(), &profilev1.GetEventLogHeadRequest{})
	if err != nil {
		tb.Fatalf("log head: %v", err)
	}
	return resp.GetHeadSequence()
}

// waitConsumed blocks until a consumer of profile's log (segmentation,
// loyalty) has applied it up to seq.
func waitConsumed(tb testing.TB, a interface {
	Cursor(context.Context) (int64, error)
}, seq int64, limit time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := a.Cursor(ctx)
		if err != nil {
			tb.Fatalf("cursor: %v", err)
		}
		if c >= seq {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			tb.Fatalf("the log is applied up to %d after %s, want %d", c, limit, seq)
		}
	}
}

// fixtureStack is profile, segmentation, loyalty and the gateway with the fixture
// imported and consumed.
type fixtureStack struct {
	gateway, profileAddr, segAddr string
}

func startFixtureStack(t *testing.T) fixtureStack {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options{})
	paddr := startProfile(t, s)
	seg := startSegmentation(t, s)
	loy := startLoyalty(t, s)
	startFeedback(t, s)
	startPromotion(t, s)
	base := startGateway(t, s)
	importJSON(t, "--file", fixture, "--grpc", paddr)
	waitConsumed(t, seg, logHead(t, paddr), 20*time.Second)
	waitConsumed(t, loy, logHead(t, paddr), 20*time.Second)
	return fixtureStack{gateway: base, profileAddr: paddr, segAddr: seg.Addr()}
}

// TestSegmentsCommands runs recompute, report and customers show against
// the real services, over the gateway and over gRPC. The fixture as of
// 2011-12-10T00:00:00Z (times UK local in the file):
//
//	70001: orders 800001 (12 × 0.65 + 7.50 = 15.30) on 3 Feb and 800007
//	       (6 × 0.65 = 3.90) on 12 Jun 12:00 BST = 11:00 UTC → R 180 (181 days − 11 h),
//	       F 2, M 19.20.
//	70002: order 800002 (2 × 4.95 = 9.90) on 3 Feb 11:00, refund C800004 (4.95)
//	       → R 309 (310 days − 11 h), F 1, M 4.95.
//	70003: order 800005 (3 × 2.10 = 6.30) on 10 Jun 16:45 BST (800006 is rejected)
//	       → R 182 (183 days − 15 h 45), F 1, M 6.30.
//
// N = 3: score = 1 + floor(5W/3), W = 0, 1, 2 → 1, 2, 4. R: 70001 W2 → 4,
// 70003 W1 → 2, 70002 W0 → 1. F: 70001 W2 → 4, the two single orders tie at
// W0 → 1. M: 70001 4, 70003 2, 70002 1. Segments: 70001 R4 F4 loyal (vip,
// dormant: 180 days); 70003 R2 F1 hibernating; 70002 R1 F1 lost (both
// at_risk, churned).
func TestSegmentsCommands(t *testing.T) {
	s := startFixtureStack(t)
	gw := []string{"--gateway", s.gateway}
	viaGRPC := []string{"--grpc", s.segAddr}

	t.Run("recompute and wait via gateway, with progress", func(t *testing.T) {
		// A plain date is midnight UTC.
		code, stdout, stderr := run(t, true, append([]string{"segments", "recompute", "--as-of", "2011-12-10", "--wait", "--poll", "5ms"}, gw...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		for _, want := range []string{"state             SUCCEEDED", "as of             2011-12-10T00:00:00Z", "customers         3 of 3"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("summary lacks %q:\n%s", want, stdout)
			}
		}
		if !strings.Contains(stderr, "customers") || !strings.Contains(stderr, "3/3") {
			t.Errorf("terminal progress %q, want a customers bar reaching 3/3", stderr)
		}
	})
	t.Run("recompute over gRPC, JSON", func(t *testing.T) {
		code, stdout, stderr := run(t, false, append([]string{"segments", "recompute", "--as-of", "2011-12-10T01:00:00+01:00", "--wait", "--poll", "5ms", "--output", "json"}, viaGRPC...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		if stderr != "" {
			t.Errorf("stderr %q, want no progress off a terminal", stderr)
		}
		var op struct{ Name, State, CustomersTotal, AsOfTime string }
		if err := json.Unmarshal([]byte(stdout), &op); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(op.Name, "operations/") || op.State != "OPERATION_STATE_SUCCEEDED" || op.CustomersTotal != "3" ||
			op.AsOfTime != "2011-12-10T00:00:00Z" {
			t.Errorf("operation %s", stdout)
		}
	})

	reportText := []string{
		"customers         3 (3 with orders)",
		"monetary total    GBP 30.45",
		"RFM segments\n  segment",
		"\n  loyal ", "\n  hibernating ", "\n  lost ",
		"Value tiers\n",
		"Lifecycle stages\n",
		"R scores\n  score  customers   share\n",
	}
	for _, tr := range []struct {
		name string
		args []string
	}{{"gateway", gw}, {"grpc", viaGRPC}} {
		t.Run("report text "+tr.name, func(t *testing.T) {
			code, stdout, stderr := run(t, false, append([]string{"segments", "report"}, tr.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			for _, want := range reportText {
				if !strings.Contains(stdout, want) {
					t.Errorf("report lacks %q:\n%s", want, stdout)
				}
			}
		})
	}
	t.Run("report json", func(t *testing.T) {
		code, stdout, stderr := run(t, false, append([]string{"segments", "report", "--output", "json"}, gw...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var r struct {
			ScoredCustomers string
			FScores         []struct{ Key, Customers string }
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatal(err)
		}
		f := map[string]string{}
		for _, c := range r.FScores {
			f[c.Key] = c.Customers
		}
		// The two single-order customers tie and share F1.
		if r.ScoredCustomers != "3" || f["1"] != "2" || f["4"] != "1" {
			t.Errorf("report %s, want 3 scored, F1 × 2, F4 × 1", stdout)
		}
	})

	showTests := []struct {
		name string
		args []string
		want []string
	}{
		{"gateway", append([]string{"customers", "show", "70001"}, gw...), []string{
			"Customer 70001", "orders             2 (0 refunds)", "net spend          GBP 19.20",
			"last order         2011-06-12T11:00:00Z", "RFM                R4 F4 M4", "recency            180 days",
			"RFM segment        loyal", "value tier         vip", "lifecycle stage    dormant",
		}},
		{"grpc, id after flags", []string{"customers", "show", "--profile-grpc", s.profileAddr, "--segmentation-grpc", s.segAddr, "70002"}, []string{
			"Customer 70002", "orders             1 (1 refunds)", "net spend          GBP 4.95",
			"RFM                R1 F1 M1", "RFM segment        lost", "lifecycle stage    churned",
		}},
	}
	for _, tt := range showTests {
		t.Run("show "+tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, false, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, stdout)
				}
			}
		})
	}
	t.Run("show json", func(t *testing.T) {
		code, stdout, stderr := run(t, false, "customers", "show", "70003", "--output", "json", "--gateway", s.gateway)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var got struct {
			Customer struct{ CustomerID string }
			Scores   struct {
				RScore, FScore, MScore int
				RFMSegment             string `json:"rfmSegment"`
				Monetary               struct{ AmountMinor string }
			}
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		if got.Customer.CustomerID != "70003" || got.Scores.RScore != 2 || got.Scores.FScore != 1 || got.Scores.MScore != 2 ||
			got.Scores.RFMSegment != "hibernating" || got.Scores.Monetary.AmountMinor != "630" {
			t.Errorf("show json %s, want 70003 R2 F1 M2 hibernating, 630", stdout)
		}
	})
	t.Run("show unknown customer", func(t *testing.T) {
		code, _, stderr := run(t, false, "customers", "show", "nobody", "--gateway", s.gateway)
		if want := "tenurectl: customer nobody not found\n"; code != 1 || stderr != want {
			t.Errorf("exit %d, stderr %q; want 1, %q", code, stderr, want)
		}
	})
}

// failingSegmentation accepts a recompute and reports it failed.
type failingSegmentation struct {
	segmentationv1.UnimplementedSegmentationServiceServer
}

func (failingSegmentation) Recompute(context.Context, *segmentationv1.RecomputeRequest) (*segmentationv1.RecomputeResponse, error) {
	return &segmentationv1.RecomputeResponse{Operation: &segmentationv1.Operation{
		Name: "operations/doomed", State: segmentationv1.OperationState_OPERATION_STATE_RUNNING, CustomersTotal: 10,
	}}, nil
}

func (failingSegmentation) GetOperation(context.Context, *segmentationv1.GetOperationRequest) (*segmentationv1.GetOperationResponse, error) {
	return &segmentationv1.GetOperationResponse{Operation: &segmentationv1.Operation{
		Name: "operations/doomed", Done: true, State: segmentationv1.OperationState_OPERATION_STATE_FAILED,
		CustomersDone: 4, CustomersTotal: 10, ErrorMessage: "disk full",
	}}, nil
}

// TestRecomputeFailureExitCode: a recompute that fails makes --wait exit 1
// with the service's reason, and without --wait the command only starts it.
func TestRecomputeFailureExitCode(t *testing.T) {
	srv := grpc.NewServer()
	segmentationv1.RegisterSegmentationServiceServer(srv, failingSegmentation{})
	lis := listen(t)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	addr := lis.Addr().String()

	code, stdout, stderr := run(t, false, "segments", "recompute", "--grpc", addr, "--wait", "--poll", "1ms")
	if code != 1 || !strings.Contains(stdout, "FAILED") || !strings.Contains(stdout, "disk full") ||
		!strings.Contains(stderr, "recompute failed: operations/doomed: disk full") {
		t.Errorf("exit %d\nstdout %s\nstderr %s\nwant 1 with the failure", code, stdout, stderr)
	}
	code, stdout, _ = run(t, false, "segments", "recompute", "--grpc", addr)
	if code != 0 || !strings.Contains(stdout, "RUNNING") {
		t.Errorf("without --wait: exit %d, %s; want 0 and the running operation", code, stdout)
	}
}

func TestSegmentsUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"help lists commands", []string{"help"}, 0, "segments recompute"},
		{"bad as-of", []string{"segments", "recompute", "--as-of", "yesterday"}, 2,
			`--as-of "yesterday" is neither a date such as 2011-12-10 (midnight UTC) nor an RFC 3339 time such as 2011-12-10T09:30:00Z`},
		{"as-of without zone", []string{"segments", "recompute", "--as-of", "2011-12-10T09:30:00"}, 2, "a zone, Z or +01:00, is required"},
		{"as-of day out of range", []string{"segments", "recompute", "--as-of", "2011-02-30"}, 2, `--as-of "2011-02-30" is neither a date`},
		{"both transports", []string{"segments", "report", "--grpc", "a:1", "--gateway", "http://b"}, 2, "not both"},
		{"bad gateway", []string{"segments", "report", "--gateway", "b:1"}, 2, "http(s) URL"},
		{"bad output", []string{"segments", "report", "--output", "xml"}, 2, "--output"},
		{"show without id", []string{"customers", "show"}, 2, "customer id is required"},
		{"show two ids", []string{"customers", "show", "a", "b"}, 2, `unexpected argument "b"`},
		{"show half grpc", []string{"customers", "show", "a", "--profile-grpc", "a:1"}, 2, "both --profile-grpc and --segmentation-grpc"},
		{"show help", []string{"customers", "show", "-h"}, 0, "--segmentation-grpc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, false, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d containing %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestParseAsOf(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2011-12-10":                time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC),
		"2011-12-10T09:30:00Z":      time.Date(2011, 12, 10, 9, 30, 0, 0, time.UTC),
		"2011-12-10T09:30:00+01:00": time.Date(2011, 12, 10, 8, 30, 0, 0, time.UTC),
		"2011-12-10T09:30:00.5Z":    time.Date(2011, 12, 10, 9, 30, 0, 5e8, time.UTC),
	} {
		got, err := parseAsOf(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseAsOf(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		currency string
		minor    int64
		want     string
	}{
		{"GBP", 431000, "GBP 4,310.00"},
		{"GBP", 5, "GBP 0.05"},
		{"GBP", -10245, "GBP -102.45"},
		{"JPY", 1500, "JPY 1,500"},
		{"", 0, "-"},
	}
	for _, tt := range tests {
		if got := formatMoney(tt.currency, tt.minor); got != tt.want {
			t.Errorf("formatMoney(%q, %d) = %q, want %q", tt.currency, tt.minor, got, tt.want)
		}
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/tools/internal/ingest"
	"github.com/tenurehq/tenure/tools/internal/retailimport"
)

// DefaultGateway is where `make run` serves the JSON gateway.
const DefaultGateway = "http://127.0.0.1:8080"

// importSummary is the outcome of an import, printed as text or JSON.
type importSummary struct {
	File                string         `json:"file"`
	Target              string         `json:"target"`
	Rows                int            `json:"rows"`
	RowsWithoutCustomer int            `json:"rowsWithoutCustomer"`
	InvalidRows         int            `json:"invalidRows"`
	InvalidInvoices     int            `json:"invalidInvoices"`
	Problems            []string       `json:"problems,omitempty"`
	Invoices            int            `json:"invoices"`
	Orders              int            `json:"orders"`
	Refunds             int            `json:"refunds"`
	Customers           int            `json:"customers"`
	Batches             int            `json:"batches"`
	Retries             int            `json:"retries"`
	Accepted            int            `json:"accepted"`
	Duplicates          int            `json:"duplicates"`
	Rejected            int            `json:"rejected"`
	RejectedByReason    map[string]int `json:"rejectedByReason,omitempty"`
	Rejections          []string       `json:"rejections,omitempty"`
	// CountriesSet counts customers whose country was set from the file;
	// CountriesUnknown, by Country name, those whose name is no single
	// country (left empty); CountriesNotSet, by gRPC code, those the
	// service refused (a customer all of whose events were rejected).
	CountriesSet     int            `json:"countriesSet"`
	CountriesUnknown map[string]int `json:"countriesUnknown,omitempty"`
	CountriesNotSet  map[string]int `json:"countriesNotSet,omitempty"`
	ElapsedSeconds   float64        `json:"elapsedSeconds"`
	EventsPerSecond  float64        `json:"eventsPerSecond"`
}

// importOptions are the flags of `import online-retail`.
type importOptions struct {
	file, gateway, grpcAddr, output string
	batchSize, concurrency          int
}

// importOnlineRetail runs `import online-retail`: it reads the file,
// sends its events and prints a summary.
func importOnlineRetail(ctx context.Context, env Env, args []string) error {
	o, err := parseImportFlags(env, args)
	if err != nil {
		return err
	}
	sender, target, closeSender, err := newSender(o)
	if err != nil {
		return err
	}
	defer closeSender()

	start := time.Now()
	if env.Terminal {
		fmt.Fprintf(env.Stderr, "reading %s\n", o.file)
	}
	ds, err := loadFile(o.file)
	if err != nil {
		return err
	}
	events := ds.Events()
	sum := datasetSummary(o.file, target, ds)
	res, sendErr := sendEvents(ctx, env, sender, events, o)
	sum.addResult(res, time.Since(start))
	if sendErr == nil {
		sendErr = setCountries(ctx, env, sender, ds, o, &sum)
		sum.ElapsedSeconds = time.Since(start).Seconds() // events/s stays that of the events
	}

	if err := printSummary(env.Stdout, o.output, sum); err != nil {
		return err
	}
	if sendErr != nil {
		return fmt.Errorf("import stopped: %w", sendErr)
	}
	return nil
}

// parseImportFlags parses and checks the flags of `import online-retail`.
func parseImportFlags(env Env, args []string) (importOptions, error) {
	return parseImportFlagsFor(env, "online-retail", "the Online Retail CSV, plain or gzip (required)", args)
}

// parseImportFlagsFor parses and checks the flags of `import <name>`,
// whose --file is described by fileUsage.
func parseImportFlagsFor(env Env, name, fileUsage string, args []string) (importOptions, error) {
	fs := newFlagSet(env, "import", name, "--file PATH [--gateway URL | --grpc HOST:PORT]")
	var o importOptions
	fs.StringVar(&o.file, "file", "", fileUsage)
	fs.StringVar(&o.gateway, "gateway", "", "JSON gateway base URL (default "+DefaultGateway+" when --grpc is not given)")
	fs.StringVar(&o.grpcAddr, "grpc", "", "host:port of a profile service replica, to send over gRPC instead of the gateway")
	fs.IntVar(&o.batchSize, "batch-size", 1000, "events per BatchRecordEvents call, 1 to 1000")
	fs.IntVar(&o.concurrency, "concurrency", 4, "batches in flight")
	fs.StringVar(&o.output, "output", "text", "summary format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return o, err
	}
	switch {
	case o.file == "":
		return o, fmt.Errorf("%w: --file is required", ErrUsage)
	case o.gateway != "" && o.grpcAddr != "":
		return o, fmt.Errorf("%w: give --gateway or --grpc, not both", ErrUsage)
	case o.batchSize < 1 || o.batchSize > 1000:
		return o, fmt.Errorf("%w: --batch-size must be 1 to 1000", ErrUsage)
	case o.concurrency < 1:
		return o, fmt.Errorf("%w: --concurrency must be at least 1", ErrUsage)
	case o.output != "text" && o.output != "json":
		return o, fmt.Errorf("%w: --output must be text or json", ErrUsage)
	}
	return o, nil
}

// newSender returns the sender the options ask for (gRPC to a profile
// replica, or the JSON gateway), the target it names in the summary and a
// function that closes its connection.
func newSender(o importOptions) (sender ingest.Profile, target string, closeSender func(), err error) {
	if o.grpcAddr != "" {
		conn, err := dial(o.grpcAddr)
		if err != nil {
			return nil, "", nil, err
		}
		return ingest.GRPC(profilev1.NewProfileServiceClient(conn)), "grpc://" + o.grpcAddr, func() { conn.Close() }, nil
	}
	base := o.gateway
	if base == "" {
		base = DefaultGateway
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", nil, fmt.Errorf("%w: --gateway must be an http(s) URL, got %q", ErrUsage, base)
	}
	hc, err := auth.ClientHTTP(0)
	if err != nil {
		return nil, "", nil, err
	}
	return ingest.Gateway(base, hc), base, func() {}, nil
}

// datasetSummary starts an import's summary with what the file held.
func datasetSummary(file, target string, ds *retailimport.Dataset) importSummary {
	sum := importSummary{
		File:                file,
		Target:              target,
		Rows:                ds.Rows,
		RowsWithoutCustomer: ds.RowsWithoutCustomer,
		InvalidRows:         ds.InvalidRows,
		InvalidInvoices:     ds.InvalidInvoices,
		Invoices:            len(ds.Invoices),
		Customers:           ds.Customers,
	}
	for _, p := range ds.Problems {
		sum.Problems = append(sum.Problems, p.String())
	}
	for _, inv := range ds.Invoices {
		if inv.Cancelled() {
			sum.Refunds++
		} else {
			sum.Orders++
		}
	}
	return sum
}

// sendEvents sends the events in batches, reporting retries and (on a
// terminal) progress on stderr.
func sendEvents(ctx context.Context, env Env, sender ingest.Sender, events []*profilev1.Event, o importOptions) (ingest.Result, error) {
	var bar *progressBar
	var mu sync.Mutex
	opts := ingest.Options{
		BatchSize:   o.batchSize,
		Concurrency: o.concurrency,
		Retry: func(batch, attempt int, err error) {
			mu.Lock()
			defer mu.Unlock()
			if bar != nil {
				bar.interrupt()
			}
			fmt.Fprintf(env.Stderr, "batch %d, attempt %d failed, retrying: %v\n", batch, attempt, err)
		},
	}
	if env.Terminal {
		bar = newProgressBar(env.Stderr, len(events), "events", time.Now())
		opts.Progress = func(done int) {
			mu.Lock()
			defer mu.Unlock()
			bar.update(done, time.Now())
		}
	}
	res, err := ingest.Send(ctx, sender, events, opts)
	if bar != nil {
		bar.finish()
	}
	return res, err
}

// setCountries sets each customer's country from the file (the ISO code
// of its latest invoice's Country), after its events have made it exist,
// and adds the counts to sum.
func setCountries(ctx context.Context, env Env, u ingest.CustomerUpdater, ds *retailimport.Dataset, o importOptions, sum *importSummary) error {
	codes, unknown := ds.CustomerCountries()
	if len(unknown) > 0 {
		sum.CountriesUnknown = unknown
	}
	reqs := make([]*profilev1.UpdateCustomerRequest, 0, len(codes))
	for _, id := range slices.Sorted(maps.Keys(codes)) {
		reqs = append(reqs, &profilev1.UpdateCustomerRequest{
			Customer:   &profilev1.Customer{Name: "customers/" + id, Country: codes[id]},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"country"}},
		})
	}
	if env.Terminal && len(reqs) > 0 {
		fmt.Fprintf(env.Stderr, "setting the country of %s customers\n", grouped(len(reqs)))
	}
	res, err := ingest.UpdateCustomers(ctx, u, reqs, ingest.Options{
		Concurrency: o.concurrency,
		Retry: func(i, attempt int, err error) {
			fmt.Fprintf(env.Stderr, "%s, attempt %d failed, retrying: %v\n", reqs[i].GetCustomer().GetName(), attempt, err)
		},
	})
	sum.CountriesSet, sum.Retries = res.Updated, sum.Retries+res.Retries
	if len(res.NotUpdated) > 0 {
		sum.CountriesNotSet = res.NotUpdated
	}
	return err
}

// addResult completes the summary with what sending took and what the
// service answered.
func (sum *importSummary) addResult(res ingest.Result, elapsed time.Duration) {
	sum.Batches, sum.Retries = res.Batches, res.Retries
	sum.Accepted, sum.Duplicates, sum.Rejected = res.Accepted, res.Duplicates, res.Rejected
	if len(res.RejectedByReason) > 0 {
		sum.RejectedByReason = res.RejectedByReason
	}
	for _, r := range res.Rejections {
		sum.Rejections = append(sum.Rejections, r.String())
	}
	sum.ElapsedSeconds = elapsed.Seconds()
	if elapsed > 0 {
		sum.EventsPerSecond = float64(res.Accepted+res.Duplicates+res.Rejected) / elapsed.Seconds()
	}
}

func loadFile(path string) (*retailimport.Dataset, error) {
	loc, err := time.LoadLocation(retailimport.Zone)
	if err != nil {
		return nil, fmt.Errorf("time zone: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ds, err := retailimport.Load(f, loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
}

// printImportSummary prints the summary of an import of purchase records
// (no invoices, refunds or countries).
func printImportSummary(w io.Writer, format string, s importSummary) error {
	if format == "json" {
		return printSummary(w, format, s)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	line("file", "%s", s.File)
	line("target", "%s", s.Target)
	line("records", "%s (orders)", grouped(s.Rows))
	line("customers", "%s", grouped(s.Customers))
	line("events accepted", "%s", grouped(s.Accepted))
	line("duplicates", "%s", grouped(s.Duplicates))
	line("rejected", "%s", grouped(s.Rejected))
	line("elapsed", "%s", time.Duration(s.ElapsedSeconds*float64(time.Second)).Round(time.Millisecond))
	return tw.Flush()
}

func printSummary(w io.Writer, format string, s importSummary) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	line("file", "%s", s.File)
	line("target", "%s", s.Target)
	line("rows", "%s", grouped(s.Rows))
	line("rows without customer", "%s (skipped)", grouped(s.RowsWithoutCustomer))
	if s.InvalidRows > 0 {
		line("invalid rows", "%s (%s invoices left out)", grouped(s.InvalidRows), grouped(s.InvalidInvoices))
	}
	line("invoices", "%s (%s orders, %s refunds)", grouped(s.Invoices), grouped(s.Orders), grouped(s.Refunds))
	line("customers", "%s", grouped(s.Customers))
	line("events accepted", "%s", grouped(s.Accepted))
	line("duplicates", "%s", grouped(s.Duplicates))
	line("rejected", "%s", grouped(s.Rejected))
	line("countries set", "%s", grouped(s.CountriesSet))
	if n := sumCounts(s.CountriesUnknown); n > 0 {
		line("countries unknown", "%s customers (%s), left empty", grouped(n), formatCounts(s.CountriesUnknown))
	}
	if n := sumCounts(s.CountriesNotSet); n > 0 {
		line("countries not set", "%s customers (%s)", grouped(n), formatCounts(s.CountriesNotSet))
	}
	line("elapsed", "%s", time.Duration(s.ElapsedSeconds*float64(time.Second)).Round(time.Millisecond))
	line("events/s", "%s", grouped(int(s.EventsPerSecond)))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.RejectedByReason) > 0 {
		fmt.Fprintln(w, "\nrejections by reason:")
		reasons := make([]string, 0, len(s.RejectedByReason))
		for r := range s.RejectedByReason {
			reasons = append(reasons, r)
		}
		slices.Sort(reasons)
		for _, r := range reasons {
			fmt.Fprintf(w, "  %s: %s\n", r, grouped(s.RejectedByReason[r]))
		}
		fmt.Fprintln(w, "first rejections:")
		for _, r := range s.Rejections {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	if len(s.Problems) > 0 {
		fmt.Fprintln(w, "\nfirst unreadable rows:")
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	return nil
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// formatCounts writes counts by key in key order: "EU: 1, Unspecified: 4".
func formatCounts(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %s", k, grouped(m[k])))
	}
	return strings.Join(parts, ", ")
}

// grouped writes n with thousands separators: 541909 → "541,909".
func grouped(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Package retailimport reads the UCI Online Retail data set (one CSV row per
// invoice line, plain or gzip) and turns each invoice into one Tenure
// customer event: an order_placed, or an order_refunded for a cancellation
// invoice (InvoiceNo starting with "C").
package retailimport

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London must resolve on machines without zoneinfo.

	"github.com/klauspost/pgzip"
)

// Errors about the file as a whole.
var (
	ErrMissingColumn = errors.New("retailimport: missing column")
	ErrEmptyFile     = errors.New("retailimport: empty file")
)

// Zone is where the data set's zone-less invoice times were recorded.
const Zone = "Europe/London"

// maxProblemSamples bounds how many row problems a Dataset keeps verbatim.
const maxProblemSamples = 10

// Line is one invoice line.
type Line struct {
	StockCode string
	Quantity  int64
	UnitPrice Price
}

// Invoice is every line of one InvoiceNo, gathered from wherever its rows
// appear in the file.
type Invoice struct {
	No         string
	CustomerID string
	// Country is the Country column of the invoice's first row, as the
	// file spells it ("United Kingdom"); empty when the file has none.
	Country string
	// Time is the earliest time on the invoice's rows (a few invoices
	// straddle a minute boundary), in UTC.
	Time  time.Time
	Lines []Line
}

// Cancelled reports whether the invoice is a cancellation ("C" prefix).
func (inv *Invoice) Cancelled() bool { return strings.HasPrefix(inv.No, "C") }

// RowProblem is a row that could not be read; its whole invoice is left out.
type RowProblem struct {
	Line    int // 1-based line in the CSV, the header being line 1
	Invoice string
	Err     error
}

func (p RowProblem) String() string {
	return fmt.Sprintf("line %d (invoice %s): %v", p.Line, p.Invoice, p.Err)
}

// Dataset is the parsed file.
type Dataset struct {
	// Rows is the number of data rows (header excluded).
	Rows int
	// RowsWithoutCustomer counts rows skipped for an empty CustomerID.
	RowsWithoutCustomer int
	// InvalidRows counts rows that could not be read; Problems keeps the
	// first few. Invoices with an invalid row are left out entirely, since
	// sending part of an invoice would record a wrong total.
	InvalidRows     int
	Problems        []RowProblem
	InvalidInvoices int
	// Invoices in time order, then by invoice number.
	Invoices []*Invoice
	// Customers is the number of distinct customers across Invoices.
	Customers int
}

// columns maps each field the import reads to its accepted header names
// (the original file's, and the "Online Retail II" spelling).
var columns = []struct {
	field    string
	names    []string
	optional bool
}{
	{field: "invoice", names: []string{"InvoiceNo", "Invoice"}},
	{field: "stock", names: []string{"StockCode"}},
	{field: "quantity", names: []string{"Quantity"}},
	{field: "date", names: []string{"InvoiceDate"}},
	{field: "price", names: []string{"UnitPrice", "Price"}},
	{field: "customer", names: []string{"CustomerID", "Customer ID"}},
	{field: "country", names: []string{"Country"}, optional: true},
}

// Decompress returns r's content, gunzipped when it starts with the gzip
// magic bytes. Close stops the inflating goroutine of a gzip input that is
// not read to its end; it does not close r.
func Decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("retailimport: read: %w", err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		// pgzip inflates ahead in a goroutine of its own, so that on a
		// machine with two cores or more the CSV is parsed meanwhile
		// (inflating is a third of reading the Online Retail file).
		zr, err := pgzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("retailimport: gzip: %w", err)
		}
		return zr, nil
	}
	return io.NopCloser(br), nil
}

// Load reads a whole CSV file, plain or gzip. Rows of one invoice need not
// be adjacent. Zone-less times are read in loc.
func Load(r io.Reader, loc *time.Location) (*Dataset, error) {
	dr, err := Decompress(r)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	cr, idx, err := openCSV(dr)
	if err != nil {
		return nil, err
	}
	width := 0 // of the required columns: a row may end before Country
	for _, c := range columns {
		if !c.optional {
			width = max(width, idx[c.field]+1)
		}
	}
	a := newAggregator()
	dates := dateReader{loc: loc}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				a.ds.Rows++
				a.problem(pe.StartLine, "?", err)
				continue
			}
			return nil, fmt.Errorf("retailimport: read: %w", err)
		}
		a.ds.Rows++
		line, _ := cr.FieldPos(0)
		if len(rec) < width {
			a.problem(line, "?", fmt.Errorf("retailimport: %d fields, want at least %d", len(rec), width))
			continue
		}
		row, err := parseRow(rec, idx, &dates)
		switch {
		case errors.Is(err, errNoCustomer):
			a.ds.RowsWithoutCustomer++
		case err != nil:
			a.problem(line, row.invoice, err)
		default:
			a.add(line, row)
		}
	}
	return a.finish(), nil
}

// openCSV starts reading a CSV file: it returns a reader positioned after
// the header and each field's column (see columns).
func openCSV(r io.Reader) (*csv.Reader, map[string]int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, ErrEmptyFile
	}
	if err != nil {
		return nil, nil, fmt.Errorf("retailimport: header: %w", err)
	}
	idx, err := columnIndex(header)
	if err != nil {
		return nil, nil, err
	}
	return cr, idx, nil
}

// errNoCustomer is parseRow's answer for a row without a CustomerID, which
// the import skips (and counts) rather than reports.
var errNoCustomer = errors.New("retailimport: no CustomerID")

// row is one parsed CSV row: an invoice line and the invoice it is on.
type row struct {
	invoice  string // "?" when the row has none
	customer string
	country  string
	time     time.Time
	line     Line
}

// parseRow reads the fields of one CSV record (at least as wide as the
// columns idx names). It fails with errNoCustomer when the customer is
// empty, and otherwise with the first field that does not parse; the
// returned row's invoice is set whenever the record has one.
func parseRow(rec []string, idx map[string]int, dates *dateReader) (row, error) {
	r := row{invoice: "?"}
	no := strings.TrimSpace(rec[idx["invoice"]])
	r.customer = NormalizeCustomerID(rec[idx["customer"]])
	if r.customer == "" {
		return r, errNoCustomer
	}
	if no == "" {
		return r, errors.New("retailimport: empty InvoiceNo")
	}
	r.invoice = no
	var err error
	if r.time, err = dates.parse(rec[idx["date"]]); err != nil {
		return r, err
	}
	if r.line.Quantity, err = ParseQuantity(rec[idx["quantity"]]); err != nil {
		return r, err
	}
	if r.line.UnitPrice, err = ParsePrice(rec[idx["price"]]); err != nil {
		return r, err
	}
	r.line.StockCode = strings.TrimSpace(rec[idx["stock"]])
	if i, ok := idx["country"]; ok && i < len(rec) {
		r.country = strings.TrimSpace(rec[i])
	}
	return r, nil
}

// dateReader is ParseTime in loc that remembers the last date it read: the
// rows of an invoice, usually adjacent, share theirs, and parsing dates was
// a fifth of reading the Online Retail file.
type dateReader struct {
	loc  *time.Location
	last string
	t    time.Time
}

func (d *dateReader) parse(s string) (time.Time, error) {
	if s == d.last && s != "" {
		return d.t, nil
	}
	t, err := ParseTime(s, d.loc)
	if err != nil {
		return t, err
	}
	d.last, d.t = s, t
	return t, nil
}

// aggregator gathers parsed rows into invoices, and counts and samples
// the rows that cannot be used.
type aggregator struct {
	ds     *Dataset
	byNo   map[string]*Invoice
	bad    map[string]bool  // invoices with an invalid row ("?": rows without one)
	totals map[string]int64 // by invoice, in thousandths, within MaxAmount
}

// newAggregator returns an aggregator with nothing gathered.
func newAggregator() *aggregator {
	return &aggregator{
		ds:     &Dataset{},
		byNo:   make(map[string]*Invoice),
		bad:    make(map[string]bool),
		totals: make(map[string]int64),
	}
}

// problem records that the row at line could not be used, which leaves
// its invoice out.
func (a *aggregator) problem(line int, no string, err error) {
	a.ds.InvalidRows++
	if len(a.ds.Problems) < maxProblemSamples {
		a.ds.Problems = append(a.ds.Problems, RowProblem{Line: line, Invoice: no, Err: err})
	}
	a.bad[no] = true
}

// add puts the row at line on its invoice, or records a problem when the
// invoice already has another customer or its total would leave the
// amount range.
func (a *aggregator) add(line int, r row) {
	no := r.invoice
	inv := a.byNo[no]
	if inv == nil {
		inv = &Invoice{No: no, CustomerID: r.customer, Country: r.country, Time: r.time}
		a.byNo[no] = inv
	} else if inv.CustomerID != r.customer {
		a.problem(line, no, fmt.Errorf("retailimport: invoice has customers %s and %s", inv.CustomerID, r.customer))
		return
	}
	amount, ok := lineAmount(r.line.Quantity, r.line.UnitPrice)
	if total := a.totals[no] + amount; ok && total >= -MaxAmount && total <= MaxAmount {
		a.totals[no] = total
	} else {
		a.problem(line, no, fmt.Errorf("%w: the line or the invoice comes to more than %d pounds either way", ErrBadAmount, int64(MaxAmount/1000)))
		return
	}
	if r.time.Before(inv.Time) {
		inv.Time = r.time
	}
	inv.Lines = append(inv.Lines, r.line)
}

// finish returns the dataset: the invoices without an invalid row, in
// time order then by number, and the counts.
func (a *aggregator) finish() *Dataset {
	ds := a.ds
	customers := make(map[string]struct{})
	ds.Invoices = make([]*Invoice, 0, len(a.byNo))
	for no, inv := range a.byNo {
		if a.bad[no] {
			continue
		}
		ds.Invoices = append(ds.Invoices, inv)
		customers[inv.CustomerID] = struct{}{}
	}
	for no := range a.bad {
		if no != "?" {
			ds.InvalidInvoices++
		}
	}
	ds.Customers = len(customers)
	slices.SortFunc(ds.Invoices, func(a, b *Invoice) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.No, b.No)
	})
	return ds
}

func columnIndex(header []string) (map[string]int, error) {
	pos := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimPrefix(h, "\ufeff")
		pos[strings.ToLower(strings.TrimSpace(h))] = i
	}
	idx := make(map[string]int, len(columns))
	for _, c := range columns {
		found := false
		for _, name := range c.names {
			if i, ok := pos[strings.ToLower(name)]; ok {
				idx[c.field], found = i, true
				break
			}
		}
		if !found && !c.optional {
			return nil, fmt.Errorf("%w %s", ErrMissingColumn, c.names[0])
		}
	}
	return idx, nil
}

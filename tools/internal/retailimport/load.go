// Package retailimport reads the UCI Online Retail data set (one CSV row per
// invoice line, plain or gzip) and turns each invoice into one Tenure
// customer event: an order_placed, or an order_refunded for a cancellation
// invoice (InvoiceNo starting with "C").
package retailimport

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London must resolve on machines without zoneinfo.
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
	field string
	names []string
}{
	{"invoice", []string{"InvoiceNo", "Invoice"}},
	{"stock", []string{"StockCode"}},
	{"quantity", []string{"Quantity"}},
	{"date", []string{"InvoiceDate"}},
	{"price", []string{"UnitPrice", "Price"}},
	{"customer", []string{"CustomerID", "Customer ID"}},
}

// Decompress returns r's content, gunzipped when it starts with the gzip
// magic bytes.
func Decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("retailimport: read: %w", err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("retailimport: gzip: %w", err)
		}
		return zr, nil
	}
	return br, nil
}

// Load reads a whole CSV file, plain or gzip. Rows of one invoice need not
// be adjacent. Zone-less times are read in loc.
func Load(r io.Reader, loc *time.Location) (*Dataset, error) {
	dr, err := Decompress(r)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(dr)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, ErrEmptyFile
	}
	if err != nil {
		return nil, fmt.Errorf("retailimport: header: %w", err)
	}
	idx, err := columnIndex(header)
	if err != nil {
		return nil, err
	}
	width := 0
	for _, i := range idx {
		width = max(width, i+1)
	}

	ds := &Dataset{}
	byNo := make(map[string]*Invoice)
	bad := make(map[string]bool)
	totals := make(map[string]int64) // by invoice, in thousandths, within MaxAmount
	problem := func(line int, no string, err error) {
		ds.InvalidRows++
		if len(ds.Problems) < maxProblemSamples {
			ds.Problems = append(ds.Problems, RowProblem{Line: line, Invoice: no, Err: err})
		}
		bad[no] = true
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				ds.Rows++
				problem(pe.StartLine, "?", err)
				continue
			}
			return nil, fmt.Errorf("retailimport: read: %w", err)
		}
		ds.Rows++
		line, _ := cr.FieldPos(0)
		if len(rec) < width {
			problem(line, "?", fmt.Errorf("retailimport: %d fields, want at least %d", len(rec), width))
			continue
		}
		no := strings.TrimSpace(rec[idx["invoice"]])
		customer := NormalizeCustomerID(rec[idx["customer"]])
		if customer == "" {
			ds.RowsWithoutCustomer++
			continue
		}
		if no == "" {
			problem(line, "?", errors.New("retailimport: empty InvoiceNo"))
			continue
		}
		when, err := ParseTime(rec[idx["date"]], loc)
		if err != nil {
			problem(line, no, err)
			continue
		}
		qty, err := ParseQuantity(rec[idx["quantity"]])
		if err != nil {
			problem(line, no, err)
			continue
		}
		price, err := ParsePrice(rec[idx["price"]])
		if err != nil {
			problem(line, no, err)
			continue
		}
		inv := byNo[no]
		if inv == nil {
			inv = &Invoice{No: no, CustomerID: customer, Time: when}
			byNo[no] = inv
		} else if inv.CustomerID != customer {
			problem(line, no, fmt.Errorf("retailimport: invoice has customers %s and %s", inv.CustomerID, customer))
			continue
		}
		amount, ok := lineAmount(qty, price)
		if total := totals[no] + amount; ok && total >= -MaxAmount && total <= MaxAmount {
			totals[no] = total
		} else {
			problem(line, no, fmt.Errorf("%w: the line or the invoice comes to more than %d pounds either way", ErrBadAmount, int64(MaxAmount/1000)))
			continue
		}
		if when.Before(inv.Time) {
			inv.Time = when
		}
		inv.Lines = append(inv.Lines, Line{
			StockCode: strings.TrimSpace(rec[idx["stock"]]),
			Quantity:  qty,
			UnitPrice: price,
		})
	}

	customers := make(map[string]struct{})
	ds.Invoices = make([]*Invoice, 0, len(byNo))
	for no, inv := range byNo {
		if bad[no] {
			continue
		}
		ds.Invoices = append(ds.Invoices, inv)
		customers[inv.CustomerID] = struct{}{}
	}
	for no := range bad {
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
	return ds, nil
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
		if !found {
			return nil, fmt.Errorf("%w %s", ErrMissingColumn, c.names[0])
		}
	}
	return idx, nil
}

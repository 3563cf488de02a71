// Package cdnowimport reads the CDNOW purchase histories (the full cohort
// file or the 1/10th sample used in the literature) and maps each purchase
// record to an order_placed event of the profile service.
package cdnowimport

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Mapping constants.
const (
	// EventIDPrefix makes event ids stable across runs, so importing the
	// same file again records nothing new.
	EventIDPrefix = "cdnow:"
	// CustomerIDPrefix prefixes the file's customer id (the full cohort's,
	// which the sample also carries, so both files name a customer alike).
	CustomerIDPrefix = "cdnow-"
	// Currency of every amount.
	Currency = "USD"
	// SKU and Category of every order line: the data only counts CDs.
	SKU, Category = "cd", "music"
)

// Record is one purchase record.
type Record struct {
	Line       int // 1-based line in the file
	CustomerID string
	Day        time.Time // the purchase date, 00:00 UTC
	CDs        int64
	Cents      int64
	// Seq numbers the customer's records on the same day from 0, in file
	// order: several purchases on one day are separate records.
	Seq int
}

// Dataset is a loaded file.
type Dataset struct {
	Records   []Record
	Customers int
}

// Load reads a CDNOW file, plain or gzip: whitespace-separated columns
// "customer id, date (YYYYMMDD), CDs, dollars" (the full cohort, after a
// header line) or "customer id, sample id, date, CDs, dollars" (the
// sample).
func Load(r io.Reader) (*Dataset, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	ds := &Dataset{}
	seen := map[string]bool{}
	seq := map[string]int{} // customer and day → records so far
	sc := bufio.NewScanner(br)
	for n := 1; sc.Scan(); n++ {
		cols := strings.Fields(sc.Text())
		if len(cols) == 0 || (n == 1 && cols[0] == "customer_id") {
			continue
		}
		rec, err := parseRecord(n, cols)
		if err != nil {
			return nil, err
		}
		key := rec.CustomerID + " " + rec.Day.Format("20060102")
		rec.Seq = seq[key]
		seq[key]++
		if !seen[rec.CustomerID] {
			seen[rec.CustomerID] = true
			ds.Customers++
		}
		ds.Records = append(ds.Records, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return ds, nil
}

// parseRecord parses the columns of line n.
func parseRecord(n int, cols []string) (Record, error) {
	if len(cols) == 5 {
		cols = append(cols[:1], cols[2:]...) // drop the sample id
	}
	if len(cols) != 4 {
		return Record{}, fmt.Errorf("line %d: %d columns, want 4 (full cohort) or 5 (sample)", n, len(cols))
	}
	day, err := time.Parse("20060102", cols[1])
	if err != nil {
		return Record{}, fmt.Errorf("line %d: date %q: want YYYYMMDD", n, cols[1])
	}
	cds, err := strconv.ParseInt(cols[2], 10, 64)
	if err != nil || cds < 0 {
		return Record{}, fmt.Errorf("line %d: number of CDs %q", n, cols[2])
	}
	dollars, ok := new(big.Rat).SetString(cols[3])
	if !ok || dollars.Sign() < 0 {
		return Record{}, fmt.Errorf("line %d: amount %q", n, cols[3])
	}
	cents := new(big.Rat).Mul(dollars, big.NewRat(100, 1))
	if !cents.IsInt() {
		return Record{}, fmt.Errorf("line %d: amount %q has more than two decimals", n, cols[3])
	}
	return Record{Line: n, CustomerID: CustomerIDPrefix + cols[0], Day: day, CDs: cds, Cents: cents.Num().Int64()}, nil
}

// Event maps the record to an order_placed event at noon UTC of its day:
// one line of its CDs and the amount as the order's total.
func (r Record) Event() *profilev1.Event {
	id := fmt.Sprintf("%s%s:%s:%d", EventIDPrefix, strings.TrimPrefix(r.CustomerID, CustomerIDPrefix), r.Day.Format("20060102"), r.Seq)
	order := &profilev1.OrderPlaced{
		OrderId: strings.TrimPrefix(id, EventIDPrefix),
		Total:   &typev1.Money{CurrencyCode: Currency, AmountMinor: r.Cents},
		Channel: "online",
	}
	if r.CDs > 0 {
		order.Lines = []*profilev1.OrderLine{{Sku: SKU, Category: Category, Quantity: r.CDs,
			UnitPrice: &typev1.Money{CurrencyCode: Currency}}}
	}
	return &profilev1.Event{
		EventId:    id,
		CustomerId: r.CustomerID,
		OccurredAt: timestamppb.New(r.Day.Add(12 * time.Hour)),
		Payload:    &profilev1.Event_OrderPlaced{OrderPlaced: order},
	}
}

// Events maps every record, in the file's order.
func (ds *Dataset) Events() []*profilev1.Event {
	out := make([]*profilev1.Event, len(ds.Records))
	for i, r := range ds.Records {
		out[i] = r.Event()
	}
	return out
}

package synth

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
)

// FileHeader is the first line of the inputs file WriteInputs writes: one
// tab-separated line per customer with these columns. Times are Unix
// nanoseconds (0 = none), money is in minor units, lists are
// comma-separated. services/segmentation's recompute benchmark reads this
// format (it cannot import this package, which is internal to tools/).
const FileHeader = "customer_id\tfirst_order_ns\tlast_order_ns\tlast_activity_ns\torder_count\trefund_count\t" +
	"currency\tgross_minor\tnet_minor\taov_minor\tdiscount_share\tpreferred_channel\ttop_categories\ttags"

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// WriteInputs writes every customer's features and tags to w in the
// FileHeader format.
func (g *Generator) WriteInputs(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(FileHeader)
	bw.WriteByte('\n')
	var b []byte
	for i := range g.Len() {
		c := g.Customer(i)
		f := c.Features()
		b = b[:0]
		b = append(b, c.ID...)
		for _, v := range []int64{nanos(f.FirstOrderTime), nanos(f.LastOrderTime), nanos(f.LastActivityTime), f.OrderCount, f.RefundCount} {
			b = append(b, '\t')
			b = strconv.AppendInt(b, v, 10)
		}
		b = append(b, '\t')
		b = append(b, f.Currency...)
		for _, v := range []int64{f.GrossMinor, f.NetMinor, f.AverageOrderValueMinor} {
			b = append(b, '\t')
			b = strconv.AppendInt(b, v, 10)
		}
		b = append(b, '\t')
		b = strconv.AppendFloat(b, f.DiscountShare, 'g', -1, 64)
		b = append(b, '\t')
		b = append(b, f.PreferredChannel...)
		b = append(b, '\t')
		b = append(b, strings.Join(f.TopCategories, ",")...)
		b = append(b, '\t')
		b = append(b, strings.Join(c.Tags, ",")...)
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

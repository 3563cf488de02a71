package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
)

// parseWithID parses args holding one positional argument, what (a
// customer id, a job name), before or after the flags.
func parseWithID(fs *flag.FlagSet, args []string, what string) (string, error) {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", fmt.Errorf("%w: %v", ErrUsage, err)
	}
	rest := fs.Args()
	if id == "" && len(rest) > 0 {
		id, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("%w: unexpected argument %q", ErrUsage, rest[0])
	}
	if id == "" {
		return "", fmt.Errorf("%w: %s is required", ErrUsage, what)
	}
	return id, nil
}

func customersShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "customers", "show", "ID [--gateway URL | --profile-grpc HOST:PORT --segmentation-grpc HOST:PORT] [--output text|json]")
	gateway := fs.String("gateway", "", "JSON gateway base URL (default "+DefaultGateway+" when no gRPC address is given)")
	profileAddr := fs.String("profile-grpc", "", "host:port of a profile service replica, to call over gRPC")
	segAddr := fs.String("segmentation-grpc", "", "host:port of a segmentation service replica, to call over gRPC")
	output := fs.String("output", "text", "format: text or json")
	id, err := parseWithID(fs, args, "a customer id")
	if err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if (*profileAddr == "") != (*segAddr == "") {
		return fmt.Errorf("%w: over gRPC give both --profile-grpc and --segmentation-grpc", ErrUsage)
	}
	c, closeAPI, err := connect(*gateway, *segAddr, *profileAddr)
	if err != nil {
		return err
	}
	defer closeAPI()

	cust, err := c.GetCustomer(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return &notFoundError{what: "customer " + id, err: err}
	}
	if err != nil {
		return fmt.Errorf("customer %s: %w", id, err)
	}
	// No scores yet (no recompute since the customer appeared) is not an
	// error: the profile is still worth showing.
	scores, err := c.GetCustomerScores(ctx, id)
	if errors.Is(err, ErrNotFound) {
		scores, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("scores of %s: %w", id, err)
	}
	if *output == "json" {
		return printCustomerJSON(env.Stdout, cust, scores)
	}
	return printCustomer(env.Stdout, cust, scores)
}

func printCustomerJSON(w io.Writer, c *profilev1.Customer, s *segmentationv1.CustomerScores) error {
	out := struct {
		Customer json.RawMessage `json:"customer"`
		Scores   json.RawMessage `json:"scores"`
	}{Scores: json.RawMessage("null")}
	var err error
	if out.Customer, err = protojson.Marshal(c); err != nil {
		return err
	}
	if s != nil {
		if out.Scores, err = protojson.Marshal(s); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func printCustomer(w io.Writer, c *profilev1.Customer, s *segmentationv1.CustomerScores) error {
	orNone := func(v string) string {
		if v == "" {
			return "-"
		}
		return v
	}
	// Every section's values start in one column: the labels are padded
	// to the longest label any section uses.
	const labelWidth = len("preferred channel")
	section := func(title string, rows [][2]string) error {
		if _, err := fmt.Fprintln(w, title); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := fmt.Fprintf(w, "  %-*s  %s\n", labelWidth, r[0], r[1]); err != nil {
				return err
			}
		}
		return nil
	}
	money := func(m interface {
		GetCurrencyCode() string
		GetAmountMinor() int64
	}) string {
		return formatMoney(m.GetCurrencyCode(), m.GetAmountMinor())
	}

	if err := section("Customer "+c.GetCustomerId(), [][2]string{
		{"name", orNone(c.GetFullName())},
		{"email", orNone(c.GetEmail())},
		{"country", orNone(c.GetCountry())},
		{"tags", orNone(strings.Join(c.GetTags(), ", "))},
		{"state", strings.ToLower(strings.TrimPrefix(c.GetState().String(), "CUSTOMER_STATE_"))},
		{"created", formatTime(c.GetCreateTime())},
	}); err != nil {
		return err
	}

	f := c.GetFeatures()
	cats := make([]string, 0, len(f.GetTopCategories()))
	for _, a := range f.GetTopCategories() {
		cats = append(cats, a.GetCategory())
	}
	fmt.Fprintln(w)
	if err := section("Features", [][2]string{
		{"orders", fmt.Sprintf("%s (%s refunds)", grouped(int(f.GetOrderCount())), grouped(int(f.GetRefundCount())))},
		{"first order", formatTime(f.GetFirstOrderTime())},
		{"last order", formatTime(f.GetLastOrderTime())},
		{"last activity", formatTime(f.GetLastActivityTime())},
		{"gross spend", money(f.GetGrossSpend())},
		{"net spend", money(f.GetNetSpend())},
		{"average order", money(f.GetAverageOrderValue())},
		{"discount share", fmt.Sprintf("%.0f%%", 100*f.GetDiscountShare())},
		{"preferred channel", orNone(f.GetPreferredChannel())},
		{"top categories", orNone(strings.Join(cats, ", "))},
	}); err != nil {
		return err
	}

	fmt.Fprintln(w)
	if s == nil {
		fmt.Fprintln(w, "Scores")
		fmt.Fprintln(w, "  none yet: no recompute has scored this customer")
		return nil
	}
	title := fmt.Sprintf("Scores (as of %s, %s, settings v%d)", formatTime(s.GetAsOfTime()), orNone(s.GetOperation()), s.GetSettingsVersion())
	rows := [][2]string{{"lifecycle stage", orNone(s.GetLifecycleStage())}}
	if s.GetScored() {
		rows = append([][2]string{
			{"RFM", fmt.Sprintf("R%d F%d M%d", s.GetRScore(), s.GetFScore(), s.GetMScore())},
			{"recency", fmt.Sprintf("%s days since the last order", grouped(int(s.GetRecencyDays())))},
			{"frequency", fmt.Sprintf("%s orders", grouped(int(s.GetFrequency())))},
			{"monetary", money(s.GetMonetary())},
			{"RFM segment", orNone(s.GetRfmSegment())},
			{"value tier", orNone(s.GetValueTier())},
		}, rows...)
	} else {
		rows = append([][2]string{{"RFM", "not scored (no orders)"}}, rows...)
	}
	rows = append(rows, [2]string{"segments", orNone(strings.Join(s.GetSegments(), ", "))})
	rows = append(rows, predictionRows(s)...)
	return section(title, rows)
}

// Command duckpeer is the DuckDB side of the segmentation recompute
// benchmark: what an analyst would run instead of Tenure. It loads the
// inputs file `tenure-bench synth` writes into an in-memory DuckDB
// database, computes every scored customer's R, F and M scores with
// window functions by the rule Tenure uses, and prints one JSON line with
// the time each step took and the score sums, which the benchmark compares
// with Tenure's.
//
// It is a module of its own, outside the workspace, so that building the
// services or running their tests never builds DuckDB (cgo, a large
// static library):
//
//	cd tools/duckpeer && GOWORK=off go run . --synth ../../.build/bench/synth-1m.tsv
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver
)

// result is the line duckpeer prints.
type result struct {
	Threads   int     `json:"threads"`
	LoadS     float64 `json:"load_s"`
	ScoreS    float64 `json:"score_s"`
	Customers int64   `json:"customers"`
	Scored    int64   `json:"scored"`
	SumR      int64   `json:"sum_r_score"`
	SumF      int64   `json:"sum_f_score"`
	SumM      int64   `json:"sum_m_score"`
}

func main() {
	synth := flag.String("synth", "", "inputs file written by `tenure-bench synth` (required)")
	asOf := flag.String("as-of", "2026-01-01T00:00:00Z", "as-of time of the scores (RFC 3339)")
	threads := flag.Int("threads", 2, "DuckDB worker threads")
	flag.Parse()
	if *synth == "" {
		fmt.Fprintln(os.Stderr, "duckpeer: --synth is required")
		os.Exit(2)
	}
	t, err := time.Parse(time.RFC3339, *asOf)
	if err != nil {
		fmt.Fprintf(os.Stderr, "duckpeer: --as-of: %v\n", err)
		os.Exit(2)
	}
	r, err := run(context.Background(), *synth, t, *threads)
	if err != nil {
		fmt.Fprintf(os.Stderr, "duckpeer: %v\n", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

// columns are the inputs file's columns (synth.FileHeader) with their types.
const columns = `{'customer_id': 'VARCHAR', 'first_order_ns': 'BIGINT', 'last_order_ns': 'BIGINT',
	'last_activity_ns': 'BIGINT', 'order_count': 'BIGINT', 'refund_count': 'BIGINT', 'currency': 'VARCHAR',
	'gross_minor': 'BIGINT', 'net_minor': 'BIGINT', 'aov_minor': 'BIGINT', 'discount_share': 'DOUBLE',
	'preferred_channel': 'VARCHAR', 'top_categories': 'VARCHAR', 'tags': 'VARCHAR'}`

// scoreQuery scores the customers with at least one order: score =
// 1 + floor(5 × W / N), W the number of scored customers with a strictly
// worse value, which is rank() − 1 over the values ordered worst first
// (recency: most days first; frequency, monetary: smallest first).
const scoreQuery = `CREATE TABLE rfm AS
WITH v AS (
  SELECT customer_id, order_count AS f, net_minor AS m,
         greatest(0, (%[1]d - last_order_ns) // %[2]d) AS r
  FROM customers WHERE order_count > 0
)
SELECT customer_id, r, f, m,
  1 + (5 * (rank() OVER (ORDER BY r DESC) - 1)) // count(*) OVER () AS r_score,
  1 + (5 * (rank() OVER (ORDER BY f ASC) - 1)) // count(*) OVER () AS f_score,
  1 + (5 * (rank() OVER (ORDER BY m ASC) - 1)) // count(*) OVER () AS m_score
FROM v`

func run(ctx context.Context, path string, asOf time.Time, threads int) (result, error) {
	out := result{Threads: threads}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return out, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one in-memory database
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`SET threads = %d`, threads)); err != nil {
		return out, err
	}
	start := time.Now()
	load := fmt.Sprintf(`CREATE TABLE customers AS SELECT * FROM read_csv('%s', delim = '\t', header = true, quote = '', escape = '', columns = %s)`,
		strings.ReplaceAll(path, "'", "''"), columns)
	if _, err := db.ExecContext(ctx, load); err != nil {
		return out, fmt.Errorf("load: %w", err)
	}
	out.LoadS = time.Since(start).Seconds()
	start = time.Now()
	if _, err := db.ExecContext(ctx, fmt.Sprintf(scoreQuery, asOf.UnixNano(), int64(24*time.Hour))); err != nil {
		return out, fmt.Errorf("score: %w", err)
	}
	out.ScoreS = time.Since(start).Seconds()
	err = db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM customers), count(*),
		coalesce(sum(r_score), 0), coalesce(sum(f_score), 0), coalesce(sum(m_score), 0) FROM rfm`).
		Scan(&out.Customers, &out.Scored, &out.SumR, &out.SumF, &out.SumM)
	if err != nil {
		return out, fmt.Errorf("sums: %w", err)
	}
	return out, nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tenurehq/tenure/services/platform/backoff"
	"github.com/tenurehq/tenure/tools/internal/procstat"
)

// runImport measures `tenurectl import online-retail` as a user runs it:
// for each run, engine and build, a fresh tenured (new data directory; on
// PostgreSQL new databases for both services), then the import command's
// wall time through the gateway. Builds are directories holding a built
// tenured and tenurectl; giving several compares them run by run, in
// alternation, so that a busy machine slows each about as much. Each run
// also reports the CPU time the import took, tenurectl's and tenured's
// (from the start of the command to its end, the segmentation consumer's
// share included), which a busy machine disturbs far less than wall time.
func runImport(args []string) error {
	fs := flag.NewFlagSet("import", flag.ExitOnError)
	var bins []string
	fs.Func("bin", "`DIR` holding built tenured and tenurectl binaries; repeat to compare builds (default ./bin)", func(s string) error {
		bins = append(bins, s)
		return nil
	})
	file := fs.String("file", "", "the Online Retail CSV, plain or gzip (required)")
	engines := fs.String("engines", "sqlite,postgres", "comma-separated database engines of the services: sqlite, postgres")
	runs := fs.Int("runs", 3, "imports per build and engine")
	admin := fs.String("postgres", envOr("TENURE_TEST_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "admin DSN for the postgres engine")
	_ = fs.Parse(args)
	if *file == "" {
		return errors.New("import: --file is required")
	}
	if len(bins) == 0 {
		bins = []string{"bin"}
	}
	ctx := context.Background()
	type key struct{ bin, engine string }
	walls, cpus := map[key][]time.Duration{}, map[key][]time.Duration{}
	for run := 1; run <= *runs; run++ {
		for _, engine := range strings.Split(*engines, ",") {
			for _, bin := range bins {
				m, err := importOnce(ctx, bin, engine, *admin, *file)
				if err != nil {
					return fmt.Errorf("%s on %s: %w", bin, engine, err)
				}
				fmt.Printf("run %d  %-8s  %-24s  %6.2f s  %6.0f events/s  CPU: tenurectl %.2f s, tenured %.2f s\n",
					run, engine, bin, m.wall.Seconds(), float64(m.events)/m.wall.Seconds(), m.ctlCPU.Seconds(), m.serverCPU.Seconds())
				k := key{bin, engine}
				walls[k] = append(walls[k], m.wall)
				cpus[k] = append(cpus[k], m.ctlCPU+m.serverCPU)
			}
		}
	}
	fmt.Println("\nimport (median, min–max):")
	for _, engine := range strings.Split(*engines, ",") {
		for _, bin := range bins {
			k := key{bin, engine}
			fmt.Printf("  %-8s  %-24s  wall %s  CPU (both processes) %s\n", engine, bin, durationSpread(walls[k]), durationSpread(cpus[k]))
		}
	}
	return nil
}

// durationSpread describes d by its median and range.
func durationSpread(d []time.Duration) string {
	slices.Sort(d)
	return fmt.Sprintf("%.2f s (%.2f–%.2f s, %d runs)", d[len(d)/2].Seconds(), d[0].Seconds(), d[len(d)-1].Seconds(), len(d))
}

// importRun is what one import took.
type importRun struct {
	wall              time.Duration
	events            int
	ctlCPU, serverCPU time.Duration
}

// importOnce starts a fresh tenured from bin on engine, runs the import
// and returns what it took.
func importOnce(ctx context.Context, bin, engine, admin, file string) (importRun, error) {
	var m importRun
	dir, err := os.MkdirTemp("", "tenure-bench-import-")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(dir)
	env := os.Environ()
	if engine != "sqlite" {
		dsns, drop, err := databases(ctx, dir, engine, admin)
		if err != nil {
			return m, err
		}
		defer drop()
		env = append(env, "TENURE_PROFILE_DSN="+dsns["profile"], "TENURE_SEGMENTATION_DSN="+dsns["segmentation"])
	}
	gwAddr, err := freeAddr()
	if err != nil {
		return m, err
	}
	etcdAddr, err := freeAddr()
	if err != nil {
		return m, err
	}
	var logs bytes.Buffer
	d := exec.Command(filepath.Join(bin, "tenured"), "--data", filepath.Join(dir, "data"),
		"--gateway-addr", gwAddr, "--etcd-addr", etcdAddr, "--log-level", "warn")
	d.Env, d.Stdout, d.Stderr = env, &logs, &logs
	if err := d.Start(); err != nil {
		return m, err
	}
	defer func() {
		_ = d.Process.Signal(syscall.SIGINT)
		_ = d.Wait()
	}()
	base := "http://" + gwAddr
	if err := waitHTTP(ctx, base+"/readyz", time.Minute); err != nil {
		return m, fmt.Errorf("tenured not ready: %w; its log:\n%s", err, logs.String())
	}
	cpu0, err := procstat.CPU(d.Process.Pid)
	if err != nil {
		return m, err
	}

	var out, errOut bytes.Buffer
	c := exec.CommandContext(ctx, filepath.Join(bin, "tenurectl"), "import", "online-retail",
		"--file", file, "--gateway", base, "--output", "json")
	c.Stdout, c.Stderr = &out, &errOut
	start := time.Now()
	err = c.Run()
	m.wall = time.Since(start)
	if err != nil {
		return m, fmt.Errorf("tenurectl: %w: %s", err, errOut.String())
	}
	cpu1, err := procstat.CPU(d.Process.Pid)
	if err != nil {
		return m, err
	}
	m.serverCPU = cpu1 - cpu0
	m.ctlCPU = c.ProcessState.UserTime() + c.ProcessState.SystemTime()
	var sum struct{ Invoices, Accepted int }
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		return m, fmt.Errorf("tenurectl summary: %w", err)
	}
	if sum.Accepted != sum.Invoices || sum.Accepted == 0 {
		return m, fmt.Errorf("accepted %d events of %d invoices", sum.Accepted, sum.Invoices)
	}
	m.events = sum.Accepted
	return m, nil
}

// freeAddr returns a 127.0.0.1 address with a port free at the time.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP polls url every 50 ms until it answers 200 or timeout passes.
func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := backoff.Sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// Command tenure-load measures what the gateway costs a read: it sends
// GetCustomer for one customer directly to a profile replica over gRPC and
// the same read through the gateway (GET /v1/customers/{id}, JSON over
// HTTP/1.1 keep-alive), with the same number of concurrent connections,
// one connection per client, alternating the two for several rounds. It
// prints each round's req/s and latency percentiles and the ratio of the
// gateway's throughput to direct gRPC's.
//
//	tenure-load --grpc HOST:PORT [--gateway URL] [--connections 8] [--duration 5s] [--rounds 3] [--server-pid PID]
//
// Run it against a running Tenure, e.g. `tenured --service-addr
// profile=127.0.0.1:9090`. It creates the customer it reads when missing.
// With --server-pid (Linux), it also prints the CPU time the server
// process spent per request on each side, which a machine busy with
// other work disturbs far less than throughput.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/grpcclient"
	"github.com/tenurehq/tenure/tools/internal/procstat"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tenure-load:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	grpcAddr, gateway, customer string
	connections, rounds, pid    int
	duration                    time.Duration
}

func run() error {
	var o options
	flag.StringVar(&o.grpcAddr, "grpc", "", "host:port of a profile service replica (required)")
	flag.StringVar(&o.gateway, "gateway", "http://127.0.0.1:8080", "gateway base URL")
	flag.StringVar(&o.customer, "customer", "load-1", "id of the customer read (created when missing)")
	flag.IntVar(&o.connections, "connections", 8, "concurrent clients on each side, one connection each")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each measurement")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds, each measuring gRPC then the gateway")
	flag.IntVar(&o.pid, "server-pid", 0, "process id of the server (e.g. tenured) to report its CPU time per request (Linux)")
	flag.Parse()
	if o.grpcAddr == "" || o.connections < 1 || o.rounds < 1 || o.duration <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx := context.Background()
	grpcReads, closeGRPC, err := grpcClients(o)
	if err != nil {
		return err
	}
	defer closeGRPC()
	if err := ensureCustomer(ctx, grpcReads[0].client, o.customer); err != nil {
		return err
	}
	httpReads, err := httpClients(o)
	if err != nil {
		return err
	}

	fmt.Printf("GetCustomer %s, %d connections per side, %s per measurement\n", o.customer, o.connections, o.duration)
	var ratios, cpuRatios []float64
	for round := 1; round <= o.rounds; round++ {
		direct, err := measure(ctx, o.duration, grpcReads, o.pid)
		if err != nil {
			return fmt.Errorf("grpc: %w", err)
		}
		gw, err := measure(ctx, o.duration, httpReads, o.pid)
		if err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
		ratios = append(ratios, gw.rate/direct.rate)
		line := fmt.Sprintf("round %d  grpc direct %s  |  gateway %s  |  ratio %.2f", round, direct, gw, gw.rate/direct.rate)
		if o.pid != 0 {
			cpuRatios = append(cpuRatios, direct.cpu/gw.cpu)
			line += fmt.Sprintf(" (server CPU %.2f)", direct.cpu/gw.cpu)
		}
		fmt.Println(line)
	}
	fmt.Println("gateway / direct throughput: " + spread(ratios))
	if o.pid != 0 {
		fmt.Println("direct / gateway server CPU per request: " + spread(cpuRatios))
	}
	return nil
}

// spread describes values by their median and range.
func spread(v []float64) string {
	slices.Sort(v)
	return fmt.Sprintf("median %.2f (%.2f–%.2f over %d rounds)", v[len(v)/2], v[0], v[len(v)-1], len(v))
}

// reader makes one read; each is used by one goroutine at a time.
type reader interface {
	read(ctx context.Context) error
}

type grpcReader struct {
	client profilev1.ProfileServiceClient
	req    *profilev1.GetCustomerRequest
}

func (g grpcReader) read(ctx context.Context) error {
	_, err := g.client.GetCustomer(ctx, g.req)
	return err
}

// grpcClients returns one reader per connection, each on a connection of
// its own.
func grpcClients(o options) ([]grpcReader, func(), error) {
	var out []grpcReader
	var closers []func() error
	closeAll := func() {
		for _, c := range closers {
			_ = c()
		}
	}
	key, err := auth.ClientKey()
	if err != nil {
		return nil, nil, err
	}
	var opts []grpc.DialOption
	if key != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.KeyCredentials{Key: key}))
	}
	for range o.connections {
		conn, err := grpcclient.NewClient(o.grpcAddr, opts...)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("dial %s: %w", o.grpcAddr, err)
		}
		closers = append(closers, conn.Close)
		out = append(out, grpcReader{
			client: profilev1.NewProfileServiceClient(conn),
			req:    &profilev1.GetCustomerRequest{Name: "customers/" + o.customer},
		})
	}
	return out, closeAll, nil
}

type httpReader struct {
	client *http.Client
	url    string
}

func (h httpReader) read(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// httpClients returns one reader per connection, each with a transport of
// its own, so that each keeps one keep-alive connection.
func httpClients(o options) ([]httpReader, error) {
	key, err := auth.ClientKey()
	if err != nil {
		return nil, err
	}
	url := strings.TrimRight(o.gateway, "/") + "/v1/customers/" + o.customer
	out := make([]httpReader, o.connections)
	for i := range out {
		out[i] = httpReader{client: &http.Client{Transport: auth.Transport{Key: key, Base: &http.Transport{MaxIdleConnsPerHost: 1}}}, url: url}
	}
	return out, nil
}

// ensureCustomer creates the customer id unless it exists.
func ensureCustomer(ctx context.Context, c profilev1.ProfileServiceClient, id string) error {
	_, err := c.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: id, Customer: &profilev1.Customer{
		FullName: "Load Test", Email: "load@example.com", Country: "GB", Tags: []string{"a", "b"},
	}})
	if status.Code(err) == codes.AlreadyExists {
		return nil
	}
	return err
}

// result is one measurement.
type result struct {
	rate          float64 // requests per second
	p50, p99, max time.Duration
	cpu           float64 // server CPU µs per request, when measured
}

func (r result) String() string {
	s := fmt.Sprintf("%7.0f req/s  p50 %5.0f µs  p99 %6.0f µs", r.rate, us(r.p50), us(r.p99))
	if r.cpu > 0 {
		s += fmt.Sprintf("  server %4.0f µs CPU/req", r.cpu)
	}
	return s
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// measure runs every reader in a loop of its own for d after a short
// warm-up, and returns the throughput and latencies and, when pid is not
// 0, that process's CPU time per request.
func measure[R reader](ctx context.Context, d time.Duration, readers []R, pid int) (result, error) {
	warm := min(d/5, time.Second)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	end := start.Add(warm + d)
	lat := make([][]time.Duration, len(readers))
	errs := make([]error, len(readers))
	var cpu0 atomic.Int64 // the server's CPU time when the warm-up ends
	if pid != 0 {
		t := time.AfterFunc(warm, func() { cpu0.Store(int64(serverCPU(pid))) })
		defer t.Stop()
	}
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Go(func() {
			for {
				t := time.Now()
				if t.After(end) {
					return
				}
				if err := r.read(ctx); err != nil {
					errs[i] = err
					cancel()
					return
				}
				if t.Sub(start) >= warm {
					lat[i] = append(lat[i], time.Since(t))
				}
			}
		})
	}
	wg.Wait()
	var cpu time.Duration
	if pid != 0 {
		cpu = serverCPU(pid) - time.Duration(cpu0.Load())
	}
	if err := errors.Join(errs...); err != nil {
		return result{}, err
	}
	all := slices.Concat(lat...)
	if len(all) == 0 {
		return result{}, errors.New("no request finished")
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	return result{rate: float64(len(all)) / d.Seconds(), p50: pct(0.5), p99: pct(0.99), max: all[len(all)-1],
		cpu: us(cpu) / float64(len(all))}, nil
}

// serverCPU is the CPU time process pid has used, or 0 when unknown.
func serverCPU(pid int) time.Duration {
	d, _ := procstat.CPU(pid)
	return d
}

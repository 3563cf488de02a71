package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tenurehq/tenure/services/platform/auth"
)

// gatewayEnv names the environment variable that points TestRunning at an
// already running Tenure: the base URL of its gateway.
const gatewayEnv = "TENURE_TEST_GATEWAY"

// syncBuffer is a log sink safe for the launcher's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exercise is the end-to-end body every test here runs, whatever started
// the system: a user's requests through the gateway at base. It creates a
// customer of its own, so it runs against a system with data too.
func exercise(t *testing.T, base, dataDir string) {
	t.Helper()
	id := fmt.Sprintf("c%d", time.Now().UnixNano())
	// tenured created an admin key in its data directory on its first
	// start; without it the API answers 401.
	key, err := os.ReadFile(filepath.Join(dataDir, auth.LocalAdminKeyFile))
	if err != nil {
		t.Fatalf("no admin key in the data directory: %v", err)
	}
	resp, err := http.Get(base + "/v1/customers/" + id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET without a key = %d, want 401", resp.StatusCode)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: auth.Transport{Key: strings.TrimSpace(string(key))}}
	requests := []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, "/readyz", "", http.StatusOK},
		{http.MethodPost, "/v1/customers?customerId=" + id, `{"fullName":"Ada"}`, http.StatusOK},
		{http.MethodGet, "/v1/customers/" + id, "", http.StatusOK},
		{http.MethodGet, "/v1/segmentation/settings", "", http.StatusOK},
		{http.MethodGet, "/v1/loyalty/programme", "", http.StatusOK},
	}
	for _, r := range requests {
		var body io.Reader
		if r.body != "" {
			body = strings.NewReader(r.body)
		}
		req, err := http.NewRequest(r.method, base+r.path, body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != r.want {
			t.Fatalf("%s %s = %d %s, want %d", r.method, r.path, resp.StatusCode, b, r.want)
		}
		if r.path == "/v1/customers/"+id {
			var got struct{ Customer struct{ FullName string } }
			if err := json.Unmarshal(b, &got); err != nil || got.Customer.FullName != "Ada" {
				t.Errorf("GET %s = %s, want fullName Ada", id, b)
			}
		}
	}
}

// freePorts are listen addresses on free ports for every service, so tests
// never collide with `make run` or with each other on the fixed defaults.
func freePorts() map[string]string {
	addrs := map[string]string{}
	for _, svc := range services() {
		addrs[svc.Name] = "127.0.0.1:0"
	}
	return addrs
}

// checkListeners checks the table tenured prints once ready: the gateway at
// gatewayURL, etcd, and a gRPC address for every service that the gRPC
// health service answers on.
func checkListeners(t *testing.T, out, gatewayURL string) {
	t.Helper()
	rows := listenerRows(out)
	if r := rows["gateway"]; len(r) < 2 || r[0] != "HTTP" || r[1] != gatewayURL {
		t.Errorf("gateway row = %q, want HTTP %s\n%s", r, gatewayURL, out)
	}
	if r := rows["etcd"]; len(r) < 2 || !strings.HasPrefix(r[1], "http://127.0.0.1:") {
		t.Errorf("etcd row = %q, want its client URL\n%s", r, out)
	}
	for _, svc := range services() {
		name := svc.Name
		r := rows[name]
		if len(r) < 2 || r[0] != "gRPC" {
			t.Errorf("%s row = %q, want gRPC and its address\n%s", name, r, out)
			continue
		}
		checkServing(t, name, r[1])
	}
}

// listenerRows reads the rows of tenured's listener table: component →
// protocol, address and data.
func listenerRows(out string) map[string][]string {
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 {
			rows[f[0]] = f[1:]
		}
	}
	return rows
}

// checkServing calls the gRPC health service at addr, as a platform team's
// client finds the service from tenured's table.
func checkServing(t *testing.T, name, addr string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Errorf("%s at %s: %v", name, addr, err)
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("%s at %s: health %v, %v; want SERVING", name, addr, resp.GetStatus(), err)
	}
}

// checkStopped checks from tenured's text log that it stopped cleanly,
// gateway first and etcd last, and left its data in dir.
func checkStopped(t *testing.T, out, dir string) {
	t.Helper()
	gw := strings.Index(out, "msg=stopped service=gateway")
	ly := strings.Index(out, "msg=stopped service=loyalty\n")
	sg := strings.Index(out, "msg=stopped service=segmentation\n")
	pr := strings.Index(out, "msg=stopped service=profile\n")
	et := strings.Index(out, "msg=\"etcd stopped\"")
	if gw < 0 || ly < 0 || sg < 0 || pr < 0 || et < 0 || gw > ly || ly > sg || sg > pr || pr > et {
		t.Errorf("stop order: gateway %d, loyalty %d, segmentation %d, profile %d, etcd %d; want gateway < loyalty < segmentation < profile < etcd\n%s",
			gw, ly, sg, pr, et, out)
	}
	for _, f := range []string{"profile.db", "segmentation.db", "loyalty.db", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("data: %v", err)
		}
	}
}

// TestRun starts the whole system in this process, serves a user's
// requests through the gateway and checks that cancelling stops it
// cleanly, gateway first and etcd last.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	p := startInProcess(t, dir)
	exercise(t, p.base, dir)
	checkListeners(t, p.out.String(), p.base)
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	checkStopped(t, p.logs.String(), dir)
}

// inProcess is tenured running in the test's process.
type inProcess struct {
	base      string // the gateway's base URL
	logs, out *syncBuffer
	// stop cancels run and waits for it; the test's cleanup calls it too.
	stop func() error
}

// startInProcess runs tenured in this process on free ports with its data
// in dir, and returns once it is ready.
func startInProcess(t *testing.T, dir string) inProcess {
	t.Helper()
	cfg := config{
		dataDir:      dir,
		gatewayAddr:  "127.0.0.1:0",
		etcdAddr:     "127.0.0.1:0",
		serviceAddrs: freePorts(),
		logLevel:     "info",
		logFormat:    "text",
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := inProcess{logs: &syncBuffer{}, out: &syncBuffer{}}
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, cfg, p.logs, p.out, func(addr string) { addrc <- addr }) }()
	var once sync.Once
	var stopErr error
	p.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					stopErr = fmt.Errorf("run: %w\n%s", err, p.logs)
				}
			case <-time.After(60 * time.Second):
				stopErr = fmt.Errorf("run did not stop after cancel\n%s", p.logs)
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = p.stop() })

	select {
	case addr := <-addrc:
		p.base = "http://" + addr
	case err := <-errc:
		once.Do(cancel) // run has returned: nothing to wait for
		t.Fatalf("run returned before ready: %v\n%s", err, p.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("not ready after 60s\n%s", p.logs)
	}
	return p
}

// TestBinary runs the same body against tenured built from this tree, as
// a user starts it, and stops it with an interrupt.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tenured")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build tenured: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tenured")
	if out, err := exec.Command(gotool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	args := []string{"--data", data, "--gateway-addr", "127.0.0.1:0", "--etcd-addr", "127.0.0.1:0", "--log-format", "text"}
	for name, addr := range freePorts() {
		args = append(args, "--"+name+"-addr", addr)
	}
	cmd := exec.Command(bin, args...)
	out := &syncBuffer{}
	cmd.Stdout = out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	// Copy the log, and report the gateway's URL once tenured is ready.
	logs := &syncBuffer{}
	urlc := make(chan string, 1)
	copied := make(chan struct{})
	ready := regexp.MustCompile(`msg="tenured ready.*gateway=(http://\S+)`)
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(logs, sc.Text())
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case url := <-urlc:
		exercise(t, url, data)
		// The table is written before the ready line, but through a pipe
		// of its own: wait until its last row has arrived.
		last := services()[len(services())-1].Name
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "\n"+last+" ") && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		checkListeners(t, out.String(), url)
	case <-copied:
		t.Fatalf("tenured exited before ready\n%s", logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("not ready after 60s\n%s", logs)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-copied
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tenured after interrupt: %v, want exit 0\n%s", err, logs)
	}
	checkStopped(t, logs.String(), data)
}

// TestRunning runs the same body against an already running Tenure when
// TENURE_TEST_GATEWAY names its gateway, e.g.
// TENURE_TEST_GATEWAY=http://127.0.0.1:8080 after `make run`, whose data
// directory (for its admin key) is TENURE_DATA_DIR, else the repository's
// data.
func TestRunning(t *testing.T) {
	base := os.Getenv(gatewayEnv)
	if base == "" {
		t.Skipf("%s is not set", gatewayEnv)
	}
	dataDir := os.Getenv("TENURE_DATA_DIR")
	if dataDir == "" {
		dataDir = "../../../data"
	}
	exercise(t, strings.TrimSuffix(base, "/"), dataDir)
}

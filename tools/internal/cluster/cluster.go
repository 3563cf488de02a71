// Package cluster runs Tenure on loopback as separate processes, the way a
// deployment runs it: an etcd cluster of several members (each an embedded
// etcd server in a process of its own), several replicas of each service on
// PostgreSQL, and the gateway. tenure-cluster starts one for people; fault
// tests start one to kill and restart its processes.
package cluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

// Config configures a cluster.
type Config struct {
	// Bin is the directory holding the service binaries and the gateway,
	// as make static-build writes them. Every binary there other than
	// gateway and tenurectl is a service.
	Bin string
	// EtcdCommand is the command line that runs one etcd member: the
	// member's flags (see RunMember) are appended to it.
	EtcdCommand []string
	// Dir holds the etcd members' data and every process's log.
	Dir string
	// EtcdMembers (default 3) and Replicas (of each service, default 3).
	EtcdMembers, Replicas int
	// PostgresDSN reaches a PostgreSQL server where the cluster creates
	// (or reuses) one database per service, named DatabasePrefix+service.
	PostgresDSN    string
	DatabasePrefix string
	// ServicePostgres puts a service's database on another server: the
	// service's name to that server's DSN, used instead of PostgresDSN.
	ServicePostgres map[string]string
	// BasePort is the first of the loopback ports the cluster uses:
	// etcd clients from BasePort, etcd peers from BasePort+100, the
	// gateway at BasePort+80 and the replicas of the i-th service from
	// BasePort+1000+100*i.
	BasePort int
}

// Process is one process of the cluster.
type Process struct {
	Name string // etcd-0, profile-1, gateway
	Addr string // its client (etcd), gRPC (services) or HTTP (gateway) address
	Log  string // the file its output goes to
	cmd  *exec.Cmd
	done chan struct{}
	args []string // to restart it
	env  []string
}

// Cluster is a running cluster.
type Cluster struct {
	cfg      Config
	Etcd     []*Process
	Services map[string][]*Process
	Gateway  *Process
	// AdminKeyFile holds the admin API key that clients of the cluster send.
	AdminKeyFile string
	mu           sync.Mutex
	endpoints    []string
	dsns         map[string]string
}

// Start starts the etcd members, then every replica, then the gateway, and
// returns once the gateway is ready; on error it stops what it started.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	if cfg.EtcdMembers <= 0 {
		cfg.EtcdMembers = 3
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 3
	}
	services, err := serviceNames(cfg.Bin)
	if err != nil {
		return nil, err
	}
	c = &Cluster{cfg: cfg, Services: map[string][]*Process{}, dsns: map[string]string{}}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if err := c.startEtcd(ctx); err != nil {
		return nil, err
	}
	// Every process reads one key file; the services call each other with
	// the service key, clients send the admin key (Dir/admin.key).
	authCfg, _, err := auth.EnsureLocalKeys(cfg.Dir, time.Now())
	if err != nil {
		return nil, err
	}
	c.AdminKeyFile = filepath.Join(cfg.Dir, auth.LocalAdminKeyFile)
	for i, svc := range services {
		server := cfg.PostgresDSN
		if dsn, ok := cfg.ServicePostgres[svc]; ok {
			server = dsn
		}
		dsn, err := database(ctx, server, cfg.DatabasePrefix+svc)
		if err != nil {
			return nil, err
		}
		c.dsns[svc] = dsn
		for r := range cfg.Replicas {
			addr := fmt.Sprintf("127.0.0.1:%d", cfg.BasePort+1000+100*i+r)
			env := bootstrap.NewEnv(svc)
			p, err := c.spawn(fmt.Sprintf("%s-%d", svc, r), addr, []string{filepath.Join(cfg.Bin, svc)},
				env.Name("LISTEN")+"="+addr, env.Name("DSN")+"="+dsn, env.Name("ETCD_ENDPOINTS")+"="+strings.Join(c.endpoints, ","),
				env.Name("AUTH_KEYS_FILE")+"="+authCfg.KeysFile, env.Name("SERVICE_KEY_FILE")+"="+filepath.Join(cfg.Dir, auth.LocalServiceKeyFile))
			if err != nil {
				return nil, err
			}
			c.Services[svc] = append(c.Services[svc], p)
		}
	}
	if err := c.waitRegistered(ctx, services); err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", cfg.BasePort+80)
	env := bootstrap.NewEnv("gateway")
	c.Gateway, err = c.spawn("gateway", addr, []string{filepath.Join(cfg.Bin, "gateway")},
		env.Name("LISTEN")+"="+addr, env.Name("ETCD_ENDPOINTS")+"="+strings.Join(c.endpoints, ","),
		env.Name("AUTH_KEYS_FILE")+"="+authCfg.KeysFile)
	if err != nil {
		return nil, err
	}
	return c, waitHTTP(ctx, "http://"+addr+"/readyz")
}

// serviceNames lists the services whose binaries are in bin.
func serviceNames(bin string) ([]string, error) {
	entries, err := os.ReadDir(bin)
	if err != nil {
		return nil, fmt.Errorf("cluster: service binaries (make static-build): %w", err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && n != "gateway" && n != "tenurectl" {
			names = append(names, n)
		}
	}
	if len(names) == 0 || !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == "gateway" }) {
		return nil, fmt.Errorf("cluster: %s holds no services or no gateway: run make static-build", bin)
	}
	return names, nil
}

// startEtcd starts the members together (a new cluster needs its quorum to
// boot) and waits until the cluster answers.
func (c *Cluster) startEtcd(ctx context.Context) error {
	var peers []string
	for i := range c.cfg.EtcdMembers {
		peers = append(peers, fmt.Sprintf("etcd-%d=127.0.0.1:%d", i, c.cfg.BasePort+100+i))
		c.endpoints = append(c.endpoints, fmt.Sprintf("http://127.0.0.1:%d", c.cfg.BasePort+i))
	}
	for i := range c.cfg.EtcdMembers {
		name := fmt.Sprintf("etcd-%d", i)
		addr := fmt.Sprintf("127.0.0.1:%d", c.cfg.BasePort+i)
		args := append(slices.Clone(c.cfg.EtcdCommand), "-name", name, "-client", addr,
			"-peers", strings.Join(peers, ","), "-dir", filepath.Join(c.cfg.Dir, name))
		p, err := c.spawn(name, addr, args)
		if err != nil {
			return err
		}
		c.Etcd = append(c.Etcd, p)
	}
	cli, err := c.client()
	if err != nil {
		return err
	}
	defer cli.Close()
	return poll(ctx, 60*time.Second, "etcd cluster", func(ctx context.Context) error {
		_, err := cli.Get(ctx, "tenure-cluster-health")
		return err
	})
}

func (c *Cluster) client() (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: c.endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
}

// DSN is the database DSN of service's replicas.
func (c *Cluster) DSN(service string) string { return c.dsns[service] }

// EtcdEndpoints are the members' client URLs.
func (c *Cluster) EtcdEndpoints() []string { return slices.Clone(c.endpoints) }

// waitRegistered waits until every replica of services is in discovery.
func (c *Cluster) waitRegistered(ctx context.Context, services []string) error {
	cli, err := c.client()
	if err != nil {
		return err
	}
	defer cli.Close()
	for _, svc := range services {
		err := poll(ctx, 60*time.Second, svc+" replicas registered", func(ctx context.Context) error {
			eps, err := discovery.Endpoints(ctx, cli, svc)
			if err != nil {
				return err
			}
			for _, p := range c.Services[svc] {
				if !slices.Contains(eps, p.Addr) {
					return fmt.Errorf("%s not registered (registered: %v; log %s)", p.Name, eps, p.Log)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// spawn starts a process with env added to this one's, its output in
// Dir/logs/<name>.log.
func (c *Cluster) spawn(name, addr string, args []string, env ...string) (*Process, error) {
	logDir := filepath.Join(c.cfg.Dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cluster: start %s: %w", name, err)
	}
	p := &Process{Name: name, Addr: addr, Log: logPath, cmd: cmd, done: make(chan struct{}), args: args, env: env}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Kill kills the process at once (SIGKILL), as a crash would, and waits
// until it is gone.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Restart starts a replica of service again after it exited, in its place
// in Services, and waits until it serves (gRPC health SERVING) and is
// registered in discovery. (A killed replica's registration outlives it
// until its lease expires, so registration alone says little.)
func (c *Cluster) Restart(ctx context.Context, service string, p *Process) (*Process, error) {
	q, err := c.respawn(p, c.Services[service])
	if err != nil {
		return nil, err
	}
	if err := waitServing(ctx, q.Addr); err != nil {
		return nil, fmt.Errorf("cluster: restart %s: %w (log %s)", q.Name, err, q.Log)
	}
	return q, c.waitRegistered(ctx, []string{service})
}

// RestartEtcd starts an etcd member again after it exited, on its data,
// in its place in Etcd. It does not wait: a member alone has no quorum.
func (c *Cluster) RestartEtcd(p *Process) (*Process, error) { return c.respawn(p, c.Etcd) }

// respawn starts an exited process again with its command line and
// environment, and puts the new one in its place in list.
func (c *Cluster) respawn(p *Process, list []*Process) (*Process, error) {
	if !p.Exited() {
		return nil, fmt.Errorf("cluster: restart %s: still running", p.Name)
	}
	q, err := c.spawn(p.Name, p.Addr, p.args, p.env...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, r := range list {
		if r == p {
			list[i] = q
		}
	}
	return q, nil
}

// WaitServing waits until the gRPC server at addr reports SERVING for the
// health service name ("" for the server as a whole).
func WaitServing(ctx context.Context, addr, name string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	return poll(ctx, 60*time.Second, addr+" serving "+name, func(ctx context.Context) error {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: name})
		if err != nil {
			return err
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health %s", resp.GetStatus())
		}
		return nil
	})
}

// waitServing waits until the gRPC server at addr reports SERVING.
func waitServing(ctx context.Context, addr string) error { return WaitServing(ctx, addr, "") }

// PID is the process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits for the process to exit, killing it after
// timeout.
func (p *Process) Stop(timeout time.Duration) {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Close stops the gateway, the replicas and then etcd.
func (c *Cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Gateway.Stop(30 * time.Second)
	var wg sync.WaitGroup
	for _, ps := range c.Services {
		for _, p := range ps {
			wg.Go(func() { p.Stop(30 * time.Second) })
		}
	}
	wg.Wait()
	for _, p := range c.Etcd {
		wg.Go(func() { p.Stop(10 * time.Second) })
	}
	wg.Wait()
}

// database creates the database name on the server of adminDSN unless it
// exists, and returns its DSN.
func database(ctx context.Context, adminDSN, name string) (string, error) {
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		return "", fmt.Errorf("cluster: postgres: %w", err)
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("cluster: postgres at %s: %w", sqlstore.RedactDSN(adminDSN), err)
	}
	if !exists {
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return "", fmt.Errorf("cluster: create database %s: %w", name, err)
		}
	}
	u, err := url.Parse(adminDSN)
	if err != nil {
		return "", fmt.Errorf("cluster: postgres DSN: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// waitHTTP waits until url answers 200.
func waitHTTP(ctx context.Context, url string) error {
	return poll(ctx, 60*time.Second, url, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// poll calls check until it succeeds, for up to limit.
func poll(ctx context.Context, limit time.Duration, what string, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		err := check(cctx)
		ccancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: waiting for %s: %w", what, errors.Join(err, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Processes lists every process: etcd, the replicas by service, the gateway.
func (c *Cluster) Processes() []*Process {
	ps := slices.Clone(c.Etcd)
	names := make([]string, 0, len(c.Services))
	for name := range c.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ps = append(ps, c.Services[name]...)
	}
	if c.Gateway != nil {
		ps = append(ps, c.Gateway)
	}
	return ps
}

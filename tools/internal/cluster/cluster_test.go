package cluster_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/platform/testenv"
	"github.com/tenurehq/tenure/tools/internal/cluster"
)

// memberEnv makes the test binary run as an etcd member: the cluster
// re-runs it for each one.
const memberEnv = "TENURE_CLUSTER_TEST_ETCD_MEMBER"

func TestMain(m *testing.M) {
	if os.Getenv(memberEnv) == "1" {
		os.Exit(cluster.RunMember(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

// startCluster starts three etcd members, replicas of each service on
// throw-away PostgreSQL databases and the gateway, from make static-build's
// binaries; the databases are dropped when the test ends.
func startCluster(t *testing.T, replicas int) *cluster.Cluster {
	t.Helper()
	return startClusterOn(t, replicas, nil)
}

// startClusterOn is startCluster with some services' databases on other
// PostgreSQL servers (see cluster.Config.ServicePostgres).
func startClusterOn(t *testing.T, replicas int, servicePostgres map[string]string) *cluster.Cluster {
	t.Helper()
	bin, err := filepath.Abs("../../../.build/static")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bin, "gateway")); err != nil {
		testenv.Missing(t, "no binaries in %s: run make static-build", bin)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(memberEnv, "1") // inherited by the members only: the services ignore it
	admin := adminDSN(t)
	prefix := fmt.Sprintf("tenure_cluster_test_%d_", rand.Uint32())
	t.Cleanup(func() { dropDatabases(t, admin, prefix) })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	c, err := cluster.Start(ctx, cluster.Config{Bin: bin, EtcdCommand: []string{self}, Dir: dir,
		Replicas: replicas, PostgresDSN: admin, ServicePostgres: servicePostgres, DatabasePrefix: prefix, BasePort: basePort()})
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", filepath.Base(l), tail(string(b), 2000))
		}
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	// Every HTTP client of these tests sends the cluster's admin key, as
	// any client of a Tenure must.
	key, err := os.ReadFile(c.AdminKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	base := http.DefaultTransport
	http.DefaultTransport = auth.Transport{Key: strings.TrimSpace(string(key)), Base: base}
	t.Cleanup(func() { http.DefaultTransport = base })
	return c
}

// basePort is a random base port for a cluster, so that its ports (about
// 1,300 above it) stay below the ephemeral range (32768 on Linux), where
// outgoing connections could hold them.
func basePort() int { return 20000 + 10*rand.IntN(900) }

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestCluster starts the cluster with two replicas of each service, writes
// through the gateway, and stops every process on Close.
func TestCluster(t *testing.T) {
	c := startCluster(t, 2)
	ps := c.Processes()
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	// Two replicas of every service binary make static-build writes
	// (feedback, profile, segmentation, …), in name order.
	want := []string{"etcd-0", "etcd-1", "etcd-2"}
	bins, err := os.ReadDir("../../../.build/static")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bins {
		if n := b.Name(); n != "gateway" && n != "tenurectl" {
			want = append(want, n+"-0", n+"-1")
		}
	}
	want = append(want, "gateway")
	if got := strings.Join(names, " "); got != strings.Join(want, " ") {
		t.Errorf("processes = %s, want %s", got, strings.Join(want, " "))
	}
	if code := post(t, "http://"+c.Gateway.Addr+"/v1/customers?customerId=cluster-1", `{"fullName":"Ada"}`); code != http.StatusOK {
		t.Fatalf("create customer through the gateway: %d", code)
	}
	c.Close()
	for _, p := range ps {
		if !p.Exited() {
			t.Errorf("%s still runs after Close", p.Name)
		}
	}
}

func post(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// adminDSN is the PostgreSQL server of the tests, skipping (failing in
// CI) when it is unreachable.
func adminDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("TENURE_TEST_POSTGRES_DSN")
	if dsn == "" {
		dsn = sqlstoretest.DefaultPostgresDSN
	}
	db, err := sql.Open("pgx", dsn)
	if err == nil {
		defer db.Close()
		err = db.Ping()
	}
	if err != nil {
		testenv.Missing(t, "postgres unavailable: %v", err)
	}
	return dsn
}

func dropDatabases(t *testing.T, admin, prefix string) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Error(err)
		return
	}
	defer db.Close()
	rows, err := db.Query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix)
	if err != nil {
		t.Error(err)
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		if _, err := db.Exec("DROP DATABASE " + n + " WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", n, err)
		}
	}
}

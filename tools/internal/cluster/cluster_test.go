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

// TestCluster starts three etcd members, two replicas of each service on
// PostgreSQL and the gateway as separate processes, writes through the
// gateway, and stops every process on Close.
func TestCluster(t *testing.T) {
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
	c, err := cluster.Start(ctx, cluster.Config{Bin: bin, EtcdCommand: []string{self}, Dir: t.TempDir(),
		Replicas: 2, PostgresDSN: admin, DatabasePrefix: prefix, BasePort: 30000 + 10*rand.IntN(2000)})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			c.Close()
		}
	}()
	ps := c.Processes()
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "etcd-0 etcd-1 etcd-2 profile-0 profile-1 segmentation-0 segmentation-1 gateway" {
		t.Errorf("processes = %s", got)
	}
	resp, err := http.Post("http://"+c.Gateway.Addr+"/v1/customers?customerId=cluster-1", "application/json", strings.NewReader(`{"fullName":"Ada"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create customer through the gateway: %d", resp.StatusCode)
	}
	c.Close()
	closed = true
	for _, p := range ps {
		if !p.Exited() {
			t.Errorf("%s still runs after Close", p.Name)
		}
	}
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

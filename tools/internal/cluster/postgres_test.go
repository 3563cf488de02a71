package cluster_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/tenurehq/tenure/services/platform/testenv"
)

// privatePostgres is a PostgreSQL server of the test's own, which it may
// stop and start without disturbing other tests' server.
type privatePostgres struct {
	t        *testing.T
	bin      string // the directory of initdb, pg_ctl and postgres
	dir      string // holds data/, the socket and the log
	port     int
	asUser   []string // runs a command as the postgres user when the test runs as root
	DSN      string   // the administrator's DSN (trust authentication)
	username string
}

// startPostgres runs initdb (trust authentication) into a temporary
// directory and starts the server on a free loopback port. It skips the
// test (fails it in CI) when no PostgreSQL server binaries are installed.
// initdb and postgres refuse to run as root: as root, they run as the
// system's postgres user.
func startPostgres(t *testing.T) *privatePostgres {
	t.Helper()
	initdbs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(initdbs) == 0 {
		testenv.Missing(t, "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)")
	}
	slices.SortFunc(initdbs, func(a, b string) int { return version(a) - version(b) })
	p := &privatePostgres{t: t, bin: filepath.Dir(initdbs[len(initdbs)-1]), username: "postgres"}
	// Not t.TempDir: its parent is private to the test's user, and the
	// server may run as another one.
	dir, err := os.MkdirTemp("", "tenure-cluster-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			testenv.Missing(t, "running as root and no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	p.run("initdb", "-D", p.data(), "-A", "trust", "-U", p.username, "--no-sync", "-E", "UTF8")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	p.DSN = fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", p.username, p.port)
	p.Start()
	t.Cleanup(func() { _ = p.command("pg_ctl", "stop", "-D", p.data(), "-m", "immediate").Run() })
	return p
}

// version is the major version in a path /usr/lib/postgresql/<version>/bin/….
func version(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func (p *privatePostgres) data() string { return filepath.Join(p.dir, "data") }

// Start starts the server on its port and data and waits until it accepts
// connections.
func (p *privatePostgres) Start() {
	p.t.Helper()
	p.run("pg_ctl", "start", "-w", "-t", "60", "-D", p.data(), "-l", filepath.Join(p.dir, "postgres.log"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", p.port, p.dir))
}

// Stop stops the server with a fast shutdown (SIGINT): open transactions
// are rolled back, clients disconnected, and the server exits once its data
// is on disk.
func (p *privatePostgres) Stop() {
	p.t.Helper()
	p.run("pg_ctl", "stop", "-w", "-D", p.data(), "-m", "fast")
}

func (p *privatePostgres) command(name string, args ...string) *exec.Cmd {
	argv := append(slices.Clone(p.asUser), append([]string{filepath.Join(p.bin, name)}, args...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = p.dir
	return cmd
}

func (p *privatePostgres) run(name string, args ...string) {
	p.t.Helper()
	if out, err := p.command(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "postgres.log"))
		p.t.Fatalf("%s %v: %v\n%s\nserver log:\n%s", name, args, err, out, tail(string(log), 2000))
	}
}

package stacktest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/stack"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// dbUser is a service that uses its database until it stops.
type dbUser struct {
	db      *sqlstore.DB
	stopErr error // the database's answer once Run was cancelled
}

func (d *dbUser) Addr() string { return "127.0.0.1:1" }

func (d *dbUser) Run(ctx context.Context) error {
	<-ctx.Done()
	d.stopErr = d.db.PingContext(context.WithoutCancel(ctx))
	return nil
}

// TestServiceStopsBeforeItsDatabaseGoes: a service added without a DSN
// gets a fresh database of the stack's engine, and stops while that
// database still exists.
func TestServiceStopsBeforeItsDatabaseGoes(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		var d dbUser
		var dsn string
		t.Run("run", func(t *testing.T) {
			s := stacktest.Start(t, stacktest.Options{NoEtcd: true, Engine: engine})
			s.Add(stack.Component{Name: "demo", Start: func(ctx context.Context, env stack.Env) (stack.Runner, func(), error) {
				dsn = env.DSN
				db, err := sqlstore.Open(ctx, env.DSN)
				if err != nil {
					return nil, nil, err
				}
				d.db = db
				return &d, func() { _ = db.Close() }, nil
			}})
		})
		if !strings.HasPrefix(dsn, map[string]string{stacktest.SQLite: "sqlite:", stacktest.Postgres: "postgres"}[engine]) {
			t.Errorf("DSN %q, want a %s database", dsn, engine)
		}
		if d.stopErr != nil {
			t.Errorf("database when the service stopped: %v, want it still there", d.stopErr)
		}
	})
}

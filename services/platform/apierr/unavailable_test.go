package apierr_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// TestUnavailableDatabase: the errors a service gets from a PostgreSQL
// server that is down, shutting down or starting up become UNAVAILABLE,
// which the gateway answers with 503 and clients retry; other database
// errors stay INTERNAL.
func TestUnavailableDatabase(t *testing.T) {
	closed := closedPort(t)
	db, err := sqlstore.Open(context.Background(), "postgres://postgres@"+closed+"/postgres?sslmode=disable&connect_timeout=5")
	if err == nil {
		err = db.PingContext(context.Background())
		db.Close()
	}
	if err == nil {
		t.Fatalf("connected to %s, which nothing listens on", closed)
	}
	for _, tc := range []struct {
		name string
		err  error
		want codes.Code
	}{
		{"connection refused", fmt.Errorf("profile: get customer: %w", err), codes.Unavailable},
		{"admin shutdown (57P01)", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, codes.Unavailable},
		{"cannot connect now (57P03)", fmt.Errorf("begin: %w", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}), codes.Unavailable},
		{"connection failure (08006)", &pgconn.PgError{Code: "08006"}, codes.Unavailable},
		{"unique violation (23505)", &pgconn.PgError{Code: "23505"}, codes.Internal},
		{"plain error", errors.New("boom"), codes.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newTable(nil).Status(context.Background(), tc.err)
			if st.Code() != tc.want {
				t.Fatalf("Status(%v) = %s %q, want %s", tc.err, st.Code(), st.Message(), tc.want)
			}
			if tc.want == codes.Unavailable && (st.Message() != apierr.UnavailableMessage || reason(t, st.Details()) != "UNAVAILABLE") {
				t.Errorf("status %q %v, want message %q and reason UNAVAILABLE (the driver's text names hosts)", st.Message(), st.Details(), apierr.UnavailableMessage)
			}
		})
	}
}

// TestTerminatedConnection: a query on a connection the server terminates
// (as a shutdown does to every connection) is UNAVAILABLE.
func TestTerminatedConnection(t *testing.T) {
	db := sqlstoretest.Postgres(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "SELECT 1")
	if err == nil {
		t.Fatal("query on a terminated connection succeeded")
	}
	if st := newTable(nil).Status(ctx, err); st.Code() != codes.Unavailable {
		t.Fatalf("query on a terminated connection: %v gives %s, want Unavailable", err, st.Code())
	}
}

func reason(t *testing.T, details []any) string {
	t.Helper()
	for _, d := range details {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

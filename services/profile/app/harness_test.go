package app_test

import (
	"testing"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/profile/app"
)

// serve starts one replica of the profile service on dsn, on 127.0.0.1:0
// without etcd, and returns a client for it.
func serve(t *testing.T, dsn string) profilev1.ProfileServiceClient {
	t.Helper()
	c := app.Component(nil)
	c.DSN = dsn
	p := stacktest.Start(t, stacktest.Options{NoEtcd: true}).Add(c)
	return profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
}

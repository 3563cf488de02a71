package auth_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	_ "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	_ "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	_ "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"

	"github.com/tenurehq/tenure/services/platform/auth"
)

// TestEveryRPCHasAPolicy fails when a registered RPC has no line in the
// policy: such a method would be denied to everyone. The gateway, which
// links every service, runs auth.CheckPolicy on its backends too.
func TestEveryRPCHasAPolicy(t *testing.T) {
	methods := auth.RegisteredMethods("tenure.")
	if len(methods) < 60 {
		t.Fatalf("found %d RPCs in the registry, want every service's", len(methods))
	}
	if err := auth.CheckPolicy(auth.DefaultPolicy(), methods); err != nil {
		t.Error(err)
	}
	known := make(map[string]bool, len(methods))
	for _, m := range methods {
		known[m] = true
	}
	for m := range auth.DefaultPolicy() {
		if !known[m] && strings.Count(m, "/") == 2 {
			service := m[1:strings.LastIndex(m, "/")]
			if _, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service)); err == nil {
				t.Errorf("policy names %s, which its service does not have", m)
			}
		}
	}
}

func TestPolicyAllows(t *testing.T) {
	p := auth.DefaultPolicy()
	const export = "/tenure.profile.v1.ProfileService/ExportCustomer"
	const getCustomer = "/tenure.profile.v1.ProfileService/GetCustomer"
	for _, tc := range []struct {
		method string
		roles  []auth.Role
		want   bool
	}{
		{export, []auth.Role{auth.Privacy}, true},
		{export, []auth.Role{auth.Operator}, false},
		{export, []auth.Role{auth.Admin}, true},
		{getCustomer, []auth.Role{auth.Analyst}, true},
		{getCustomer, []auth.Role{auth.Storefront}, false},
		{getCustomer, nil, false},
		{"/tenure.profile.v1.ProfileService/NoSuchMethod", []auth.Role{auth.Admin}, false},
		{"/grpc.health.v1.Health/Check", nil, true},
	} {
		if got := p.Allows(tc.method, auth.Principal{Roles: tc.roles}); got != tc.want {
			t.Errorf("%s with %v: got %v, want %v", tc.method, tc.roles, got, tc.want)
		}
	}
}

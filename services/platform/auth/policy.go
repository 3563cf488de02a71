package auth

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Policy maps a full gRPC method ("/package.Service/Method") to the roles
// allowed to call it. Admin may call every method in the policy; a method
// missing from it is denied to everyone.
type Policy map[string][]Role

// openPrefixes are methods anyone may call without credentials: health
// checks, which probes and load balancers make.
var openPrefixes = []string{"/grpc.health.v1.Health/"}

// authenticatedPrefixes are methods every authenticated principal may call:
// reflection, which tools such as grpcurl need to describe the API.
var authenticatedPrefixes = []string{"/grpc.reflection."}

// Open reports whether method needs no credentials.
func Open(method string) bool { return hasPrefix(method, openPrefixes) }

func hasPrefix(method string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(method, p) })
}

// Known reports whether the policy decides method: it has an entry, or it
// is open or infrastructure.
func (p Policy) Known(method string) bool {
	_, ok := p[method]
	return ok || Open(method) || hasPrefix(method, authenticatedPrefixes)
}

// Allows reports whether pr may call method.
func (p Policy) Allows(method string, pr Principal) bool {
	if Open(method) || hasPrefix(method, authenticatedPrefixes) {
		return true
	}
	roles, ok := p[method]
	if !ok {
		return false
	}
	return pr.Has(Admin) || slices.ContainsFunc(roles, pr.Has)
}

// Needed lists the roles that may call method, admin first; none when the
// method is missing from the policy.
func (p Policy) Needed(method string) []Role {
	roles, ok := p[method]
	if !ok {
		return nil
	}
	return append([]Role{Admin}, roles...)
}

// Privacy reports whether method is a privacy operation (export, erase):
// one the privacy role may call.
func (p Policy) Privacy(method string) bool { return slices.Contains(p[method], Privacy) }

// CheckPolicy reports the methods that p does not decide: each would be
// denied to everyone.
func CheckPolicy(p Policy, methods []string) error {
	var missing []string
	for _, m := range methods {
		if !p.Known(m) {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("auth: no policy entry for %s: add a line per RPC to DefaultPolicy", strings.Join(missing, ", "))
	}
	return nil
}

// RegisteredMethods lists every RPC of the services in the protobuf
// registry of this binary whose package starts with prefix (e.g.
// "tenure."), so that a check of the policy finds a new service's RPCs by
// itself.
func RegisteredMethods(prefix string) []string {
	var out []string
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), prefix) {
			return true
		}
		for i := range fd.Services().Len() {
			s := fd.Services().Get(i)
			for j := range s.Methods().Len() {
				out = append(out, "/"+string(s.FullName())+"/"+string(s.Methods().Get(j).Name()))
			}
		}
		return true
	})
	slices.Sort(out)
	return out
}

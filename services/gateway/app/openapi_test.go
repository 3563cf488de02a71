package app_test

import (
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"sigs.k8s.io/yaml"
)

// httpRule is one HTTP binding of an RPC: the primary google.api.http rule
// (binding 0) or one of its additional_bindings.
type httpRule struct {
	method   protoreflect.FullName // e.g. tenure.profile.v1.ProfileService.GetCustomer
	binding  int
	verb     string // "get", "post", … as in an OpenAPI path item
	template string // e.g. /v1/{name=customers/*}:addTags
}

// operationID is the id the document must give the binding: the RPC's name
// (or the operation_id proto/openapi.yaml gives it, in renamed), then 2, 3,
// … for its additional bindings.
func (r httpRule) operationID(renamed map[protoreflect.FullName]string) string {
	id := string(r.method.Name())
	if own, ok := renamed[r.method]; ok {
		id = own
	}
	if r.binding > 0 {
		id += strconv.Itoa(r.binding + 1)
	}
	return id
}

// route is the rule's path with each variable written out as its pattern and
// every wildcard segment as "{}": /v1/{name=customers/*}:erase becomes
// /v1/customers/{}:erase. A "**" stays and so matches no OpenAPI path.
func (r httpRule) route() string {
	expanded := ruleVariable.ReplaceAllStringFunc(r.template, func(v string) string {
		if _, pattern, ok := strings.Cut(v[1:len(v)-1], "="); ok {
			return pattern
		}
		return "*"
	})
	parts := strings.Split(expanded, "/")
	for i, p := range parts {
		if seg, verb, ok := strings.Cut(p, ":"); seg == "*" {
			parts[i] = "{}"
			if ok {
				parts[i] += ":" + verb
			}
		}
	}
	return strings.Join(parts, "/")
}

var (
	ruleVariable = regexp.MustCompile(`\{[^}]*\}`)
	// readableParam is a path parameter name a code generator can use as is:
	// no dots from a field path, no _1 suffix telling bindings apart.
	readableParam = regexp.MustCompile(`^[a-z][A-Za-z]*$`)
)

// tenureHTTPRules reads every google.api.http rule of the tenure services
// linked into this test binary: the gateway imports each backend's generated
// package, so a new service is covered once the gateway serves it.
func tenureHTTPRules(t *testing.T) []httpRule {
	t.Helper()
	var rules []httpRule
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), "tenure.") {
			return true
		}
		for i := range f.Services().Len() {
			ms := f.Services().Get(i).Methods()
			for j := range ms.Len() {
				m := ms.Get(j)
				rule, ok := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
				if !ok || rule == nil {
					continue
				}
				for b, binding := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
					verb, template := bindingPattern(binding)
					rules = append(rules, httpRule{method: m.FullName(), binding: b, verb: verb, template: template})
				}
			}
		}
		return true
	})
	if len(rules) == 0 {
		t.Fatal("no google.api.http rules in the tenure protos linked into the gateway")
	}
	return rules
}

// renamedOperations reads the operation ids proto/openapi.yaml gives
// methods whose name is another service's method's too, by method.
func renamedOperations(t *testing.T) map[protoreflect.FullName]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "proto", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		OpenAPIOptions struct {
			Method []struct {
				Method string `json:"method"`
				Option struct {
					OperationID string `json:"operation_id"`
				} `json:"option"`
			} `json:"method"`
		} `json:"openapiOptions"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("proto/openapi.yaml: %v", err)
	}
	renamed := map[protoreflect.FullName]string{}
	for _, m := range cfg.OpenAPIOptions.Method {
		if m.Option.OperationID != "" {
			renamed[protoreflect.FullName(m.Method)] = m.Option.OperationID
		}
	}
	return renamed
}

func bindingPattern(r *annotations.HttpRule) (verb, template string) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return "get", p.Get
	case *annotations.HttpRule_Put:
		return "put", p.Put
	case *annotations.HttpRule_Post:
		return "post", p.Post
	case *annotations.HttpRule_Delete:
		return "delete", p.Delete
	case *annotations.HttpRule_Patch:
		return "patch", p.Patch
	case *annotations.HttpRule_Custom:
		return strings.ToLower(p.Custom.GetKind()), p.Custom.GetPath()
	}
	return "", ""
}

type openAPIOperation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
		Type     string `json:"type"`
	} `json:"parameters"`
}

// TestOpenAPIDocument checks the document served at /openapi.json against the
// HTTP rules of the protos, as a code generator would read it: one operation
// per rule at a path with the rule's literal segments, each path parameter
// named readably and documented as a required path parameter, and operation
// ids that name the method and are unique.
func TestOpenAPIDocument(t *testing.T) {
	s := startStack(t, stackOptions{noBackends: true})
	code, b := s.do(t, http.MethodGet, "/openapi.json", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d %s", code, b)
	}
	doc := decode[struct {
		Paths map[string]map[string]openAPIOperation `json:"paths"`
	}](t, b)

	// The document's operations by route ("get /v1/customers/{}"), with their path.
	type documented struct {
		path string
		op   openAPIOperation
	}
	ops := map[string]documented{}
	ids := map[string]string{}
	for path, item := range doc.Paths {
		for verb, op := range item {
			route := verb + " " + ruleVariable.ReplaceAllString(path, "{}")
			ops[route] = documented{path, op}
			if other, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %q is used by %s and %s %s; operation ids must be unique: give one an operation_id in proto/openapi.yaml",
					op.OperationID, other, verb, path)
			}
			ids[op.OperationID] = verb + " " + path
		}
	}

	missing := false
	renamed := renamedOperations(t)
	for _, r := range tenureHTTPRules(t) {
		d, ok := ops[r.verb+" "+r.route()]
		if !ok {
			t.Errorf("%s (%s %s): no operation at a path with the same literal segments in /openapi.json",
				r.method, r.verb, r.template)
			missing = true
			continue
		}
		delete(ops, r.verb+" "+r.route())
		if want := r.operationID(renamed); d.op.OperationID != want {
			t.Errorf("%s %s: operationId %q, want %q", r.verb, d.path, d.op.OperationID, want)
		}
		checkPathParameters(t, r.verb+" "+d.path, d.op)
	}
	for route, d := range ops {
		t.Errorf("%s (%s) is in /openapi.json but is no HTTP rule of a service the gateway serves", route, d.op.OperationID)
	}
	if missing {
		t.Logf("the paths of /openapi.json: %v", slices.Sorted(maps.Keys(doc.Paths)))
	}
}

// checkPathParameters checks that each {placeholder} of the path is a
// readable name documented once as a required string path parameter, and
// that no other path parameter is documented.
func checkPathParameters(t *testing.T, route string, op openAPIOperation) {
	t.Helper()
	var want []string
	for _, p := range ruleVariable.FindAllString(route, -1) {
		name := p[1 : len(p)-1]
		if !readableParam.MatchString(name) {
			t.Errorf("%s: path parameter {%s} is not a plain name", route, name)
		}
		want = append(want, name)
	}
	var got []string
	for _, p := range op.Parameters {
		if p.In != "path" {
			continue
		}
		got = append(got, p.Name)
		if !p.Required || p.Type != "string" {
			t.Errorf("%s: path parameter %q required=%v type=%q, want a required string", route, p.Name, p.Required, p.Type)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s: documented path parameters %v, want %v", route, got, want)
	}
}

// TestAPIReference checks the reference page a new user opens in a browser:
// it is served without credentials, names /openapi.json as its document, and
// every script, stylesheet and icon it loads is served too.
func TestAPIReference(t *testing.T) {
	s := startStack(t, stackOptions{noBackends: true})
	resp, page := s.send(t, http.MethodGet, "/docs", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs = %d %q, want 200 text/html; body %s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	if !strings.Contains(string(page), `"/openapi.json"`) {
		t.Errorf("the page does not load /openapi.json:\n%s", page)
	}

	base, err := url.Parse(s.gateway + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	assets := pageAssets(t, page)
	var scripts, styles int
	for _, a := range assets {
		ref, err := base.Parse(a)
		if err != nil {
			t.Fatalf("asset %q: %v", a, err)
		}
		// The gateway serves the viewer itself: the page works offline and
		// behind a firewall.
		if ref.Host != base.Host {
			t.Errorf("asset %s is loaded from another host", a)
			continue
		}
		resp, body := s.send(t, http.MethodGet, ref.RequestURI(), nil, nil)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("asset %s: status %d with %d bytes, want 200 with content", ref.Path, resp.StatusCode, len(body))
		}
		ct := resp.Header.Get("Content-Type")
		switch {
		case strings.HasSuffix(ref.Path, ".js") && strings.Contains(ct, "javascript"):
			scripts++
		case strings.HasSuffix(ref.Path, ".css") && strings.HasPrefix(ct, "text/css"):
			styles++
		}
	}
	if scripts == 0 || styles == 0 {
		t.Errorf("page assets %v: %d scripts and %d stylesheets served with their content type, want at least one of each", assets, scripts, styles)
	}
}

// pageAssets returns the src of every script and the href of every link
// element in an HTML page.
func pageAssets(t *testing.T, page []byte) []string {
	t.Helper()
	root, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		t.Fatalf("page is not HTML: %v", err)
	}
	var out []string
	for n := range root.Descendants() {
		if n.Type != html.ElementNode || (n.Data != "script" && n.Data != "link") {
			continue
		}
		for _, a := range n.Attr {
			if (n.Data == "script" && a.Key == "src") || (n.Data == "link" && a.Key == "href") {
				out = append(out, a.Val)
			}
		}
	}
	return out
}

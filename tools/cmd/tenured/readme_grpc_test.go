package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// grpcurlLines returns the grpcurl commands of the README's section "Talk
// gRPC to it", continuation lines joined.
func grpcurlLines(t *testing.T) []string {
	t.Helper()
	var lines []string
	for _, block := range shBlocks(t, "Talk gRPC to it") {
		for _, line := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
			if strings.HasPrefix(line, "grpcurl ") {
				lines = append(lines, line)
			}
		}
	}
	if len(lines) == 0 {
		t.Fatal(`the section "Talk gRPC to it" has no grpcurl command`)
	}
	return lines
}

// shellWords splits a command line as a shell would for the plain words
// and single-quoted strings the README uses, and drops a trailing comment.
func shellWords(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			word.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == '#' && !inWord:
			return words, nil
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case strings.ContainsRune(`"\$`+"`", r):
			return nil, fmt.Errorf("%q: only plain words and single quotes are handled here", line)
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("%q: unterminated quote", line)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// grpcurlCall is one README grpcurl command: -plaintext, optionally -d
// with a JSON request, the address, then "list", "describe SYMBOL" or a
// method "package.Service/Method".
type grpcurlCall struct {
	data, addr string
	verb       []string
	headers    []string // -H "name: value"
}

func parseGrpcurl(line string) (grpcurlCall, error) {
	words, err := shellWords(line)
	if err != nil {
		return grpcurlCall{}, err
	}
	var c grpcurlCall
	plaintext := false
	rest := words[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
		switch {
		case rest[0] == "-plaintext":
			plaintext = true
			rest = rest[1:]
		case rest[0] == "-d" && len(rest) > 1:
			c.data, rest = rest[1], rest[2:]
		case rest[0] == "-H" && len(rest) > 1:
			c.headers, rest = append(c.headers, rest[1]), rest[2:]
		default:
			return c, fmt.Errorf("%q: flag %s is not handled here", line, rest[0])
		}
	}
	if !plaintext || len(rest) < 2 {
		return c, fmt.Errorf("%q: want grpcurl -plaintext [-d JSON] ADDR VERB", line)
	}
	c.addr, c.verb = rest[0], rest[1:]
	return c, nil
}

// runGrpcurl does what grpcurl would for c against conn: list the services
// through reflection (each service the line's comment names must be
// there), describe a symbol through reflection, or call a method with the
// JSON request, the request and response types found in the generated
// descriptors, as reflection would give them.
func runGrpcurl(ctx context.Context, conn *grpc.ClientConn, c grpcurlCall, comment string) error {
	for _, h := range c.headers {
		name, value, _ := strings.Cut(h, ":")
		ctx = metadata.AppendToOutgoingContext(ctx, strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value))
	}
	switch c.verb[0] {
	case "list":
		resp, err := reflect(ctx, conn, &reflectionpb.ServerReflectionRequest{
			MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
		if err != nil {
			return err
		}
		var names []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			names = append(names, s.GetName())
		}
		for _, word := range strings.Fields(strings.ReplaceAll(comment, ",", " ")) {
			if strings.HasPrefix(word, "tenure.") && !strings.Contains(" "+strings.Join(names, " ")+" ", " "+word+" ") {
				return fmt.Errorf("list: %v lacks %s", names, word)
			}
		}
		return nil
	case "describe":
		resp, err := reflect(ctx, conn, &reflectionpb.ServerReflectionRequest{
			MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: c.verb[1]}})
		if err != nil {
			return err
		}
		if e := resp.GetErrorResponse(); e != nil {
			return fmt.Errorf("describe %s: %s", c.verb[1], e.GetErrorMessage())
		}
		return nil
	}
	service, method, ok := strings.Cut(c.verb[0], "/")
	if !ok {
		return fmt.Errorf("%s: want package.Service/Method", c.verb[0])
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return fmt.Errorf("service %s: %w", service, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok || sd.Methods().ByName(protoreflect.Name(method)) == nil {
		return fmt.Errorf("%s has no method %s", service, method)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	req, resp := dynamicpb.NewMessage(md.Input()), dynamicpb.NewMessage(md.Output())
	if err := protojson.Unmarshal([]byte(c.data), req); err != nil {
		return fmt.Errorf("-d %s: %w", c.data, err)
	}
	return conn.Invoke(ctx, "/"+c.verb[0], req, resp)
}

// reflect sends one request to the server reflection service.
func reflect(ctx context.Context, conn *grpc.ClientConn, req *reflectionpb.ServerReflectionRequest) (*reflectionpb.ServerReflectionResponse, error) {
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = stream.CloseSend() }()
	if err := stream.Send(req); err != nil {
		return nil, err
	}
	return stream.Recv()
}

// checkREADMEGrpc runs the README's grpcurl commands against the services
// of the tenured whose listener table is out, the README's addresses (each
// service's own fixed port) standing for the ones the test's tenured has.
func checkREADMEGrpc(t *testing.T, out string) {
	t.Helper()
	addrs := map[string]string{} // README address → this tenured's
	rows := listenerRows(out)
	for name, c := range serviceConfigs() {
		if r := rows[name]; len(r) >= 2 {
			addrs[c.ListenAddr] = r[1]
		}
	}
	// The README's lines send the key in $TENURE_API_KEY, double-quoted;
	// the parser here takes single quotes and no variables.
	keyHeader := `"authorization: Bearer $TENURE_API_KEY"`
	for _, line := range grpcurlLines(t) {
		line = strings.ReplaceAll(line, keyHeader, "'authorization: Bearer "+os.Getenv("TENURE_API_KEY")+"'")
		command, comment, _ := strings.Cut(line, "#")
		c, err := parseGrpcurl(command)
		if err != nil {
			t.Fatal(err)
		}
		addr, ok := addrs[c.addr]
		if !ok {
			t.Errorf("%s: %s is no service's fixed address (%v)", line, c.addr, addrs)
			continue
		}
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := runGrpcurl(ctx, conn, c, comment); err != nil {
			t.Errorf("README: %s\n%v", line, err)
		}
		cancel()
		_ = conn.Close()
	}
}

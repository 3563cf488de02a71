package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/grpcclient"
)

// ErrNotFound is a lookup of something the service does not have, over
// either transport.
var ErrNotFound = errors.New("tenurectl: not found")

// notFoundError reports a missing resource in one line ("customer x not
// found") while still matching ErrNotFound through err.
type notFoundError struct {
	what string
	err  error
}

func (e *notFoundError) Error() string { return e.what + " not found" }

func (e *notFoundError) Unwrap() error { return e.err }

// api is the part of the Tenure API the read and recompute commands use,
// over the JSON gateway or directly over gRPC.
type api interface {
	Recompute(ctx context.Context, req *segmentationv1.RecomputeRequest) (*segmentationv1.Operation, error)
	GetOperation(ctx context.Context, name string) (*segmentationv1.Operation, error)
	GetReport(ctx context.Context) (*segmentationv1.Report, error)
	GetCustomerScores(ctx context.Context, customerID string) (*segmentationv1.CustomerScores, error)
	GetCustomer(ctx context.Context, customerID string) (*profilev1.Customer, error)
}

// gatewayAPI calls the JSON gateway.
type gatewayAPI struct {
	base string
	http *http.Client
}

// checkGatewayURL refuses anything but an absolute http(s) URL.
func checkGatewayURL(base string) error {
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: --gateway must be an http(s) URL, got %q", ErrUsage, base)
	}
	return nil
}

// call sends body (if any) as JSON and decodes the response into out.
func (g *gatewayAPI) call(ctx context.Context, method, path string, body proto.Message, out proto.Message) error {
	var rd io.Reader
	if body != nil {
		b, err := protojson.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(g.base, "/")+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var st struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &st) != nil || st.Message == "" {
			return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
		}
		err := fmt.Errorf("%s (%s)", st.Message, codes.Code(st.Code))
		if codes.Code(st.Code) == codes.NotFound {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return err
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

func (g *gatewayAPI) Recompute(ctx context.Context, req *segmentationv1.RecomputeRequest) (*segmentationv1.Operation, error) {
	op := new(segmentationv1.Operation)
	return op, g.call(ctx, http.MethodPost, "/v1/segmentation:recompute", req, op)
}

func (g *gatewayAPI) GetOperation(ctx context.Context, name string) (*segmentationv1.Operation, error) {
	op := new(segmentationv1.Operation)
	return op, g.call(ctx, http.MethodGet, "/v1/"+pathEscapeName(name), nil, op)
}

func (g *gatewayAPI) GetReport(ctx context.Context) (*segmentationv1.Report, error) {
	r := new(segmentationv1.Report)
	return r, g.call(ctx, http.MethodGet, "/v1/segmentation/report", nil, r)
}

func (g *gatewayAPI) GetCustomerScores(ctx context.Context, id string) (*segmentationv1.CustomerScores, error) {
	s := new(segmentationv1.CustomerScores)
	return s, g.call(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(id)+"/scores", nil, s)
}

func (g *gatewayAPI) GetCustomer(ctx context.Context, id string) (*profilev1.Customer, error) {
	resp := new(profilev1.GetCustomerResponse)
	if err := g.call(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(id), nil, resp); err != nil {
		return nil, err
	}
	return resp.GetCustomer(), nil
}

// pathEscapeName escapes each segment of a resource name such as
// "operations/abc".
func pathEscapeName(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// grpcAPI calls the services directly. A nil client makes its methods
// fail: a command that needs it was not given the address.
type grpcAPI struct {
	seg     segmentationv1.SegmentationServiceClient
	profile profilev1.ProfileServiceClient
}

// grpcErr maps a gRPC NOT_FOUND to ErrNotFound and keeps the message.
func grpcErr(err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		e := fmt.Errorf("%s (%s)", st.Message(), st.Code())
		if st.Code() == codes.NotFound {
			e = fmt.Errorf("%w: %w", ErrNotFound, e)
		}
		return e
	}
	return err
}

var errNoAddr = errors.New("tenurectl: no gRPC address for this service")

func (g *grpcAPI) Recompute(ctx context.Context, req *segmentationv1.RecomputeRequest) (*segmentationv1.Operation, error) {
	if g.seg == nil {
		return nil, errNoAddr
	}
	resp, err := g.seg.Recompute(ctx, req)
	return resp.GetOperation(), grpcErr(err)
}

func (g *grpcAPI) GetOperation(ctx context.Context, name string) (*segmentationv1.Operation, error) {
	if g.seg == nil {
		return nil, errNoAddr
	}
	resp, err := g.seg.GetOperation(ctx, &segmentationv1.GetOperationRequest{Name: name})
	return resp.GetOperation(), grpcErr(err)
}

func (g *grpcAPI) GetReport(ctx context.Context) (*segmentationv1.Report, error) {
	if g.seg == nil {
		return nil, errNoAddr
	}
	resp, err := g.seg.GetReport(ctx, &segmentationv1.GetReportRequest{})
	return resp.GetReport(), grpcErr(err)
}

func (g *grpcAPI) GetCustomerScores(ctx context.Context, id string) (*segmentationv1.CustomerScores, error) {
	if g.seg == nil {
		return nil, errNoAddr
	}
	resp, err := g.seg.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/" + id + "/scores"})
	return resp.GetScores(), grpcErr(err)
}

func (g *grpcAPI) GetCustomer(ctx context.Context, id string) (*profilev1.Customer, error) {
	if g.profile == nil {
		return nil, errNoAddr
	}
	resp, err := g.profile.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/" + id})
	return resp.GetCustomer(), grpcErr(err)
}

// dial connects to a replica without TLS, as the services serve locally,
// with the platform's client settings (keepalive, retried and hedged reads),
// sending the API key auth.ClientKey finds.
func dial(addr string) (*grpc.ClientConn, error) {
	key, err := auth.ClientKey()
	if err != nil {
		return nil, err
	}
	var opts []grpc.DialOption
	if key != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.KeyCredentials{Key: key}))
	}
	conn, err := grpcclient.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// connect returns the api for the given flags: the gateway unless gRPC
// addresses are given. The returned close releases connections.
func connect(gateway, segAddr, profileAddr string) (api, func(), error) {
	if segAddr == "" && profileAddr == "" {
		if gateway == "" {
			gateway = DefaultGateway
		}
		if err := checkGatewayURL(gateway); err != nil {
			return nil, nil, err
		}
		hc, err := auth.ClientHTTP(0)
		if err != nil {
			return nil, nil, err
		}
		return &gatewayAPI{base: gateway, http: hc}, func() {}, nil
	}
	if gateway != "" {
		return nil, nil, fmt.Errorf("%w: give --gateway or gRPC addresses, not both", ErrUsage)
	}
	g := &grpcAPI{}
	var conns []*grpc.ClientConn
	closeAll := func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}
	if segAddr != "" {
		c, err := dial(segAddr)
		if err != nil {
			return nil, nil, err
		}
		conns = append(conns, c)
		g.seg = segmentationv1.NewSegmentationServiceClient(c)
	}
	if profileAddr != "" {
		c, err := dial(profileAddr)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		conns = append(conns, c)
		g.profile = profilev1.NewProfileServiceClient(c)
	}
	return g, closeAll, nil
}

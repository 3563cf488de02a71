package app

import (
	"context"
	"fmt"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"

	"github.com/tenurehq/tenure/services/gateway/internal/probe"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// backend is one service behind the gateway: its discovery name and the
// generated function that registers its HTTP rules on the mux.
type backend struct {
	service  string
	register func(ctx context.Context, mux *runtime.ServeMux, conn grpc.ClientConnInterface) error
}

// backends lists every service the gateway routes to. A new service is one
// more entry.
func backends() []backend {
	return []backend{
		{"profile", func(ctx context.Context, mux *runtime.ServeMux, conn grpc.ClientConnInterface) error {
			return profilev1.RegisterProfileServiceHandlerClient(ctx, mux, profilev1.NewProfileServiceClient(conn))
		}},
		{"segmentation", func(ctx context.Context, mux *runtime.ServeMux, conn grpc.ClientConnInterface) error {
			if err := segmentationv1.RegisterSegmentationServiceHandlerClient(ctx, mux, segmentationv1.NewSegmentationServiceClient(conn)); err != nil {
				return err
			}
			if err := segmentationv1.RegisterAudienceChangeServiceHandlerClient(ctx, mux, segmentationv1.NewAudienceChangeServiceClient(conn)); err != nil {
				return err
			}
			return segmentationv1.RegisterRecommendationServiceHandlerClient(ctx, mux, segmentationv1.NewRecommendationServiceClient(conn))
		}},
		{"loyalty", func(ctx context.Context, mux *runtime.ServeMux, conn grpc.ClientConnInterface) error {
			return loyaltyv1.RegisterLoyaltyServiceHandlerClient(ctx, mux, loyaltyv1.NewLoyaltyServiceClient(conn))
		}},
		{"feedback", func(ctx context.Context, mux *runtime.ServeMux, conn grpc.ClientConnInterface) error {
			return feedbackv1.RegisterFeedbackServiceHandlerClient(ctx, mux, feedbackv1.NewFeedbackServiceClient(conn))
		}},
		{"promotion", func(ctx context.Context, mux *runtime.ServeMux, conn grpc.ClientConnInterface) error {
			if err := promotionv1.RegisterPromotionServiceHandlerClient(ctx, mux, promotionv1.NewPromotionServiceClient(conn)); err != nil {
				return err
			}
			return promotionv1.RegisterOutreachServiceHandlerClient(ctx, mux, promotionv1.NewOutreachServiceClient(conn))
		}},
	}
}

// connectBackends dials every backend through the runtime's discovery —
// without waiting for etcd — registers its routes on mux with timeout as
// the default deadline of unary calls, and returns the backends for
// readiness.
func connectBackends(ctx context.Context, rt *bootstrap.Runtime, mux *runtime.ServeMux, timeout time.Duration) ([]probe.Backend, error) {
	var out []probe.Backend
	for _, b := range backends() {
		// Backend calls forward each caller's own credentials; the
		// gateway adds no key of its own to them.
		conn, err := rt.DialForwarding(b.service)
		if err != nil {
			return nil, err
		}
		if err := b.register(ctx, mux, deadlineConn{ClientConn: conn, timeout: timeout}); err != nil {
			return nil, fmt.Errorf("gateway: register %s handlers: %w", b.service, err)
		}
		out = append(out, probe.Backend{
			Name:      b.service,
			Endpoints: func() []string { return rt.Discovery.Endpoints(b.service) },
			Conn:      conn,
		})
	}
	return out, nil
}

// deadlineConn gives every unary call a deadline, so that a request to a
// backend with no endpoints fails instead of waiting forever. A caller's
// shorter deadline (the Grpc-Timeout header) still wins. Streams pass
// through without one: a server stream such as StreamEvents may
// legitimately run for as long as the caller keeps it open.
type deadlineConn struct {
	*grpc.ClientConn
	timeout time.Duration
}

func (c deadlineConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.ClientConn.Invoke(ctx, method, args, reply, opts...)
}

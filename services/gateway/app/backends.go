package app

import (
	"context"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
)

// backend is one service behind the gateway: its discovery name and the
// generated function that registers its HTTP rules on the mux.
type backend struct {
	service  string
	register func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error
}

// backends lists every service the gateway routes to. A new service is one
// more entry.
func backends() []backend {
	return []backend{
		{"profile", func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error {
			return profilev1.RegisterProfileServiceHandlerClient(ctx, mux, profilev1.NewProfileServiceClient(conn))
		}},
		{"segmentation", func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error {
			return segmentationv1.RegisterSegmentationServiceHandlerClient(ctx, mux, segmentationv1.NewSegmentationServiceClient(conn))
		}},
	}
}

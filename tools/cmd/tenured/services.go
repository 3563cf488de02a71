package main

import (
	gatewayapp "github.com/tenurehq/tenure/services/gateway/app"
	"github.com/tenurehq/tenure/services/platform/stack"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
)

// service is one backend tenured runs and the gRPC address it listens on
// unless -<name>-addr or TENURE_<NAME>_LISTEN says otherwise. Each service
// has a fixed port of its own, so that platform teams find it at the same
// address every time.
type service struct {
	component stack.Component
	grpcAddr  string
}

// services lists every backend tenured runs, in start order; they stop in
// reverse order after the gateway. Adding a service is one entry, with the
// next free port of the 91xx range.
func services() []service {
	return []service{
		{profileapp.Component(nil), "127.0.0.1:9101"},
		{segmentationapp.Component(nil), "127.0.0.1:9102"}, // after profile: it consumes profile's event stream
	}
}

// gateway is the JSON gateway in front of the services.
func gateway() stack.Component { return gatewayapp.Component(nil) }

package main

import (
	gatewayapp "github.com/tenurehq/tenure/services/gateway/app"
	loyaltyapp "github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/stack"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
)

// services lists every backend tenured runs, in start order; they stop in
// reverse order after the gateway. Adding a service is one entry.
func services() []stack.Component {
	return []stack.Component{
		profileapp.Component(nil),
		segmentationapp.Component(nil), // after profile: it consumes profile's event stream
		loyaltyapp.Component(nil),      // likewise
	}
}

// gateway is the JSON gateway in front of the services.
func gateway() stack.Component { return gatewayapp.Component(nil) }

package main

import (
	feedbackapp "github.com/tenurehq/tenure/services/feedback/app"
	gatewayapp "github.com/tenurehq/tenure/services/gateway/app"
	loyaltyapp "github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/stack"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	promotionapp "github.com/tenurehq/tenure/services/promotion/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
)

// services lists every backend tenured runs, in start order; they stop in
// reverse order after the gateway. Adding a service is one entry. Each
// listens on its own fixed gRPC port, the default of its Config (profile
// 127.0.0.1:9101, segmentation 9102, loyalty 9103, promotion 9104, feedback
// 9105), unless
// TENURE_<SERVICE>_LISTEN or tenured's -<service>-addr says otherwise.
func services() []stack.Component {
	return []stack.Component{
		profileapp.Component(nil),
		segmentationapp.Component(nil), // after profile: it consumes profile's event stream
		loyaltyapp.Component(nil),      // likewise
		promotionapp.Component(nil),    // after profile, segmentation and loyalty: it follows and calls them
		feedbackapp.Component(nil),     // after profile, segmentation, loyalty and promotion: it calls them
	}
}

// gateway is the JSON gateway in front of the services.
func gateway() stack.Component { return gatewayapp.Component(nil) }

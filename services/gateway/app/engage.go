package app

import (
	"fmt"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/gateway/internal/edge"
	"github.com/tenurehq/tenure/services/gateway/internal/engage"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// engagePaths are open to everyone: the signature of each request is its
// credential, which promotion checks.
var engagePaths = []string{engage.CallbackPath, engage.OpenPath, engage.ClickPath}

// routeEngagement serves outreach engagement callbacks, open pixels and
// click redirects; they reach promotion as the gateway itself (its own
// service key): the people and providers who send them have no API key.
func routeEngagement(rt *bootstrap.Runtime, e *edge.Edge, cfg Config) error {
	conn, err := rt.Dial("promotion")
	if err != nil {
		return err
	}
	h := &engage.Handler{Outreach: promotionv1.NewOutreachServiceClient(deadlineConn{ClientConn: conn, timeout: cfg.BackendTimeout}), Render: e}
	for route, handler := range h.Routes() {
		if err := e.Handle(route[0], route[1], handler); err != nil {
			return fmt.Errorf("gateway: route %s %s: %w", route[0], route[1], err)
		}
	}
	return nil
}

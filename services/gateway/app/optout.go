package app

import (
	"fmt"
	"net/http"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/gateway/internal/edge"
	"github.com/tenurehq/tenure/services/gateway/internal/optout"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// routeUnsubscribe serves one-click unsubscribe links when a secret is
// configured: they revoke consent through profile, as the gateway itself
// (its own service key): the people who click them have no credentials.
func routeUnsubscribe(rt *bootstrap.Runtime, e *edge.Edge, cfg Config) error {
	if cfg.UnsubscribeSecret == "" {
		return nil
	}
	conn, err := rt.Dial("profile")
	if err != nil {
		return err
	}
	promo, err := rt.Dial("promotion")
	if err != nil {
		return err
	}
	h := &optout.Handler{Secret: []byte(cfg.UnsubscribeSecret), Logger: rt.Logger, Clock: rt.Clock,
		Profile:  profilev1.NewProfileServiceClient(deadlineConn{ClientConn: conn, timeout: cfg.BackendTimeout}),
		Outreach: promotionv1.NewOutreachServiceClient(deadlineConn{ClientConn: promo, timeout: cfg.BackendTimeout})}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if err := e.Handle(m, optout.Path, h); err != nil {
			return fmt.Errorf("gateway: route %s %s: %w", m, optout.Path, err)
		}
	}
	return nil
}

// unsubscribePath is open to everyone: its links carry their own signed
// token, and the people who click them have no API credentials.
const unsubscribePath = optout.Path

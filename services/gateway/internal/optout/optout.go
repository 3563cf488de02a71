// Package optout serves one-click unsubscribe links (RFC 8058): a POST
// with a valid signed token revokes the customer's marketing consent on
// the token's channel in profile. A GET (a person following the link, or a
// mail scanner fetching it) only shows a page whose button sends that
// POST, so fetching a link never unsubscribes anyone.
package optout

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/unsubscribe"
)

// Path is where the links point.
const Path = "/v1/unsubscribe"

// Handler serves Path.
type Handler struct {
	Secret  []byte
	Profile profilev1.ProfileServiceClient
	// Outreach, when set, is told of each unsubscription from a message,
	// for its reports (a failure is logged: the customer is unsubscribed).
	Outreach promotionv1.OutreachServiceClient
	Clock    func() time.Time
	Logger   *slog.Logger
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Unsubscribe</title></head><body>
{{if .Done}}<p>You will get no more marketing messages by {{.Channel}}.</p>
{{else}}<form method="post" action="?token={{.Token}}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<p><button type="submit">Stop marketing messages by {{.Channel}}</button></p></form>{{end}}
</body></html>
`))

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	claims, err := unsubscribe.Verify(h.Secret, token, h.Clock())
	if err != nil {
		http.Error(w, "This unsubscribe link is not valid or has expired.", http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodGet:
		h.render(w, claims.Channel, token, false)
	case http.MethodPost:
		if err := h.revoke(r, claims); err != nil {
			h.Logger.Error("optout: revoke consent", "customer", claims.CustomerID, "channel", claims.Channel, "error", err)
			code := http.StatusBadGateway
			if errors.Is(err, errUnknownChannel) || status.Code(err) == codes.NotFound {
				code = http.StatusBadRequest
			}
			http.Error(w, "Unsubscribing failed; please try again later.", code)
			return
		}
		h.report(r, claims, token)
		h.render(w, claims.Channel, token, true)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (h *Handler) render(w http.ResponseWriter, channel, token string, done bool) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = page.Execute(w, struct {
		Channel, Token string
		Done           bool
	}{channel, token, done})
}

// report tells promotion a message was unsubscribed from.
func (h *Handler) report(r *http.Request, c unsubscribe.Claims, token string) {
	if h.Outreach == nil || c.MessageID == "" {
		return
	}
	_, err := h.Outreach.RecordEngagement(r.Context(), &promotionv1.RecordEngagementRequest{
		Credential: &promotionv1.RecordEngagementRequest_UnsubscribeToken{UnsubscribeToken: token}})
	if err != nil {
		h.Logger.Warn("optout: report the unsubscription to promotion", "message", c.MessageID, "error", err)
	}
}

var errUnknownChannel = errors.New("optout: unknown channel")

// revoke sets the customer's consent on the token's channel to denied;
// doing it twice is harmless.
func (h *Handler) revoke(r *http.Request, c unsubscribe.Claims) error {
	var consent profilev1.Consent
	denied := profilev1.ConsentState_CONSENT_STATE_DENIED
	switch c.Channel {
	case "email":
		consent.Email = denied
	case "sms":
		consent.Sms = denied
	case "push":
		consent.Push = denied
	default:
		return fmt.Errorf("%w %q", errUnknownChannel, c.Channel)
	}
	_, err := h.Profile.UpdateCustomer(r.Context(), &profilev1.UpdateCustomerRequest{
		Customer:   &profilev1.Customer{Name: "customers/" + c.CustomerID, Consent: &consent},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"consent." + c.Channel}},
	})
	return err
}

// Package engage serves outreach engagement to callers without API keys:
// signed callbacks from the shop's dispatcher or email provider (POST
// /v1/outreach/engagements), open pixels (GET /v1/outreach/open) and
// click redirects (GET /v1/outreach/click). The promotion service checks
// every signature; this package only carries the request to it, as the
// gateway itself, and turns its answer into HTTP.
package engage

import (
	"io"
	"net/http"
	"net/url"
	"strconv"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/webhook"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// The routes.
const (
	CallbackPath = "/v1/outreach/engagements"
	OpenPath     = "/v1/outreach/open"
	ClickPath    = "/v1/outreach/click"
)

// MaxCallbackBytes bounds a callback's body.
const MaxCallbackBytes = 64 << 10

// Renderer writes responses and errors as the rest of the API does.
type Renderer interface {
	Respond(w http.ResponseWriter, r *http.Request, msg proto.Message)
	Fail(w http.ResponseWriter, r *http.Request, err error)
}

// Handler serves the three routes.
type Handler struct {
	Outreach promotionv1.OutreachServiceClient
	Render   Renderer
}

// Routes lists the handler's methods and paths.
func (h *Handler) Routes() map[[2]string]http.Handler {
	return map[[2]string]http.Handler{
		{http.MethodPost, CallbackPath}: http.HandlerFunc(h.callback),
		{http.MethodGet, OpenPath}:      http.HandlerFunc(h.open),
		{http.MethodGet, ClickPath}:     http.HandlerFunc(h.click),
	}
}

// callback passes a signed callback, its headers and its body as
// received, to promotion.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxCallbackBytes+1))
	if err != nil {
		h.Render.Fail(w, r, status.Error(codes.InvalidArgument, "engage: reading the body: "+err.Error()))
		return
	}
	if len(body) > MaxCallbackBytes {
		h.Render.Fail(w, r, status.Errorf(codes.ResourceExhausted, "engage: the body is over %d bytes", MaxCallbackBytes))
		return
	}
	ts, err := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
	if err != nil {
		ts = 0 // promotion answers that the signature is out of date
	}
	resp, err := h.Outreach.RecordEngagement(r.Context(), &promotionv1.RecordEngagementRequest{
		Credential: &promotionv1.RecordEngagementRequest_Callback{Callback: &promotionv1.SignedEngagementCallback{
			WebhookId: r.Header.Get(webhook.HeaderID), Timestamp: ts, Signature: r.Header.Get(webhook.HeaderSignature), Body: body}}})
	if err != nil {
		h.Render.Fail(w, r, err)
		return
	}
	h.Render.Respond(w, r, resp)
}

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// open records an open and answers the pixel.
func (h *Handler) open(w http.ResponseWriter, r *http.Request) {
	if _, err := h.link(r); err != nil {
		h.Render.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(pixel)
}

// click records a click and redirects to the destination the token
// signs, and nowhere else.
func (h *Handler) click(w http.ResponseWriter, r *http.Request) {
	resp, err := h.link(r)
	if err != nil {
		h.Render.Fail(w, r, err)
		return
	}
	u, err := url.Parse(resp.GetRedirectUrl())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		h.Render.Fail(w, r, status.Error(codes.PermissionDenied, "engage: the link is not a click link"))
		return
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (h *Handler) link(r *http.Request) (*promotionv1.RecordEngagementResponse, error) {
	token := r.URL.Query().Get("token")
	if token == "" {
		return nil, status.Error(codes.Unauthenticated, "engage: the link has no token")
	}
	return h.Outreach.RecordEngagement(r.Context(), &promotionv1.RecordEngagementRequest{
		Credential: &promotionv1.RecordEngagementRequest_LinkToken{LinkToken: token}})
}

package outreach

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/signedtoken"
	"github.com/tenurehq/tenure/services/platform/unsubscribe"
	"github.com/tenurehq/tenure/services/platform/webhook"
)

// Engagement errors.
var (
	// ErrSignatureInvalid: a link token or callback not signed with the
	// secret, or malformed.
	ErrSignatureInvalid = errors.New("outreach: engagement signature invalid")
	// ErrSignatureExpired: a link token past its expiry, or a callback
	// whose timestamp is outside the tolerance.
	ErrSignatureExpired = errors.New("outreach: engagement signature expired")
	// ErrEngagementForbidden: a valid token naming another customer than
	// the message's.
	ErrEngagementForbidden = errors.New("outreach: engagement token is not for this message")
	// ErrEngagementNotConfigured: no secret to check this kind of
	// credential with.
	ErrEngagementNotConfigured = errors.New("outreach: engagement secret not configured")
)

// Action is what a customer, or the provider, did with a message.
type Action int

// The actions; the API numbers its EngagementAction values the same.
const (
	ActionUnspecified Action = iota
	ActionDelivered
	ActionOpened
	ActionClicked
	ActionUnsubscribed
)

var actionNames = [...]string{"", "delivered", "opened", "clicked", "unsubscribed"}

// String returns the action's name as profile's message_engaged events
// carry it ("opened").
func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return fmt.Sprintf("action(%d)", int(a))
	}
	return actionNames[a]
}

// Valid reports whether a is one of the actions.
func (a Action) Valid() bool { return a > ActionUnspecified && int(a) < len(actionNames) }

// Engagement is one action on a message, recorded once per message and
// action.
type Engagement struct {
	MessageID  string
	Action     Action
	CustomerID string
	Channel    Channel
	OccurTime  time.Time
	URL        string // clicked: the destination
}

// EventID is the id of the message_engaged event e makes in profile, the
// same on every retry.
func (e Engagement) EventID() string { return "outreach-" + e.MessageID + "-" + e.Action.String() }

// EngagementStore records engagements.
type EngagementStore interface {
	GetMessage(ctx context.Context, id string) (Message, error)
	// RecordEngagement stores e unless the message has its action already
	// (duplicate, and the stored one is returned) and, for a delivery,
	// moves the message from sent to delivered, in one transaction.
	RecordEngagement(ctx context.Context, e Engagement) (stored Engagement, duplicate bool, err error)
	// UnreportedEngagements returns up to limit engagements not yet
	// recorded in profile, oldest first.
	UnreportedEngagements(ctx context.Context, limit int) ([]Engagement, error)
	// MarkEngagementReported notes that profile has e's event.
	MarkEngagementReported(ctx context.Context, messageID string, a Action) error
}

// EngagementEvents records message_engaged events in the customer's
// profile; the event id makes a retry a duplicate.
type EngagementEvents interface {
	RecordEngaged(ctx context.Context, e Engagement) error
}

// LinkClaims are what an open-pixel or click link's token says.
type LinkClaims struct {
	MessageID  string    `json:"m"`
	CustomerID string    `json:"c"`
	Action     Action    `json:"a"`
	URL        string    `json:"u,omitempty"`
	Expires    time.Time `json:"e"`
}

// Expiry implements signedtoken.Claims.
func (c LinkClaims) Expiry() time.Time { return c.Expires }

// Paths of the gateway's link routes.
const (
	OpenPath  = "/v1/outreach/open"
	ClickPath = "/v1/outreach/click"
)

// LinkSigner makes a message's signed open-pixel and click links, served
// by the gateway at Base (e.g. "https://api.shop.example.com").
type LinkSigner struct {
	Base   string
	Secret []byte
	TTL    time.Duration // default 60 days
}

// Links returns l with the open-pixel link and the click-link maker of m;
// l unchanged when the signer has no base.
func (s LinkSigner) Links(l Links, m Message, now time.Time) (Links, error) {
	if s.Base == "" {
		return l, nil
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = 60 * 24 * time.Hour
	}
	claims := LinkClaims{MessageID: m.ID, CustomerID: m.CustomerID, Expires: now.Add(ttl).UTC().Truncate(time.Second)}
	sign := func(c LinkClaims, path string) (string, error) {
		tok, err := signedtoken.Sign(s.Secret, c)
		if err != nil {
			return "", fmt.Errorf("outreach: link: %w", err)
		}
		return s.Base + path + "?token=" + url.QueryEscape(tok), nil
	}
	open := claims
	open.Action = ActionOpened
	var err error
	if l.Open, err = sign(open, OpenPath); err != nil {
		return l, err
	}
	l.click = func(dest string) (string, error) {
		if _, err := (Links{}).Click(dest); err != nil {
			return "", err
		}
		c := claims
		c.Action, c.URL = ActionClicked, dest
		return sign(c, ClickPath)
	}
	return l, nil
}

// SignedCallback is an engagement callback as received: the signature
// headers of platform/webhook and the body.
type SignedCallback struct {
	WebhookID string
	Timestamp int64
	Signature string
	Body      []byte
}

// Callback is what a callback's body says.
type Callback struct {
	MessageID string
	Action    Action
	OccurTime time.Time // zero: when received
	URL       string
}

// CallbackTolerance is how far a callback's timestamp may be from now.
const CallbackTolerance = 5 * time.Minute

// EngagementResult is what recording an engagement did.
type EngagementResult struct {
	Engagement
	Duplicate   bool
	RedirectURL string // a click link's destination
}

// Engagements records engagements from signed links and callbacks.
type Engagements struct {
	Store  EngagementStore
	Events EngagementEvents // nil: no profile to tell
	// LinkSecret checks open and click links, CallbackSecret callbacks,
	// UnsubscribeSecret one-click unsubscribe tokens; an empty one
	// refuses its kind (ErrEngagementNotConfigured).
	LinkSecret, CallbackSecret, UnsubscribeSecret []byte
	Clock                                         func() time.Time
	Logger                                        *slog.Logger
}

// Link records the open or click of a link token.
func (s *Engagements) Link(ctx context.Context, token string) (EngagementResult, error) {
	if len(s.LinkSecret) == 0 {
		return EngagementResult{}, fmt.Errorf("%w: no link secret", ErrEngagementNotConfigured)
	}
	var c LinkClaims
	if err := verifyToken(s.LinkSecret, token, s.Clock(), &c); err != nil {
		return EngagementResult{}, err
	}
	if c.Action != ActionOpened && c.Action != ActionClicked {
		return EngagementResult{}, fmt.Errorf("%w: a link token for %s", ErrSignatureInvalid, c.Action)
	}
	r, err := s.record(ctx, c.CustomerID, Engagement{MessageID: c.MessageID, Action: c.Action, URL: c.URL})
	if err == nil && c.Action == ActionClicked {
		r.RedirectURL = c.URL // the signed destination, never another
	}
	return r, err
}

// Unsubscribed records the unsubscription of a one-click unsubscribe
// token (the gateway served it).
func (s *Engagements) Unsubscribed(ctx context.Context, token string) (EngagementResult, error) {
	if len(s.UnsubscribeSecret) == 0 {
		return EngagementResult{}, fmt.Errorf("%w: no unsubscribe secret", ErrEngagementNotConfigured)
	}
	var c unsubscribe.Claims
	if err := verifyToken(s.UnsubscribeSecret, token, s.Clock(), &c); err != nil {
		return EngagementResult{}, err
	}
	if c.MessageID == "" {
		return EngagementResult{}, fmt.Errorf("%w: the token names no message", ErrEngagementForbidden)
	}
	return s.record(ctx, c.CustomerID, Engagement{MessageID: c.MessageID, Action: ActionUnsubscribed})
}

func verifyToken(secret []byte, token string, now time.Time, c signedtoken.Claims) error {
	err := signedtoken.Verify(secret, token, now, c)
	switch {
	case errors.Is(err, signedtoken.ErrExpired):
		return fmt.Errorf("%w: %w", ErrSignatureExpired, err)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrSignatureInvalid, err)
	}
	return nil
}

// Callback records the engagement a signed callback reports; decode reads
// its body. A callback may report deliveries, opens and clicks.
func (s *Engagements) Callback(ctx context.Context, sc SignedCallback, decode func([]byte) (Callback, error)) (EngagementResult, error) {
	if len(s.CallbackSecret) == 0 {
		return EngagementResult{}, fmt.Errorf("%w: no callback secret", ErrEngagementNotConfigured)
	}
	h := http.Header{}
	h.Set(webhook.HeaderID, sc.WebhookID)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(sc.Timestamp, 10))
	h.Set(webhook.HeaderSignature, sc.Signature)
	now := s.Clock()
	if d := now.Sub(time.Unix(sc.Timestamp, 0)); d > CallbackTolerance || d < -CallbackTolerance {
		return EngagementResult{}, fmt.Errorf("%w: timestamp %d is more than %s from now", ErrSignatureExpired, sc.Timestamp, CallbackTolerance)
	}
	if err := webhook.Verify(s.CallbackSecret, h, sc.Body, now, CallbackTolerance); err != nil {
		return EngagementResult{}, fmt.Errorf("%w: %w", ErrSignatureInvalid, err)
	}
	c, err := decode(sc.Body)
	if err != nil {
		return EngagementResult{}, err
	}
	if err := c.check(now); err != nil {
		return EngagementResult{}, err
	}
	return s.record(ctx, "", Engagement{MessageID: c.MessageID, Action: c.Action, OccurTime: c.OccurTime, URL: c.URL})
}

// record stores e for its message (of customer, when a token names one)
// and tells profile.
func (s *Engagements) record(ctx context.Context, customer string, e Engagement) (EngagementResult, error) {
	m, err := s.Store.GetMessage(ctx, e.MessageID)
	if err != nil {
		return EngagementResult{}, err
	}
	if customer != "" && customer != m.CustomerID {
		return EngagementResult{}, fmt.Errorf("%w: message %s", ErrEngagementForbidden, m.ID)
	}
	if err := CanEngage(m, e.Action); err != nil {
		return EngagementResult{}, err
	}
	e.CustomerID, e.Channel = m.CustomerID, m.Channel
	if e.OccurTime.IsZero() {
		e.OccurTime = s.Clock()
	}
	stored, dup, err := s.Store.RecordEngagement(ctx, e)
	if err != nil {
		return EngagementResult{}, err
	}
	if !dup {
		s.report(ctx, stored)
	}
	return EngagementResult{Engagement: stored, Duplicate: dup}, nil
}

// CanEngage reports whether m may have action a: a delivery must be a
// valid transition (a sent message, or one delivered already); other
// actions need a message that was sent.
func CanEngage(m Message, a Action) error {
	if a == ActionDelivered {
		if m.State == StateDelivered {
			return nil
		}
		return Transition(m.State, StateDelivered)
	}
	if m.State != StateSent && m.State != StateDelivered {
		return fmt.Errorf("%w: message %s is %s: only a sent message can be %s", ErrInvalidTransition, m.ID, m.State, a)
	}
	return nil
}

// report records e's event in profile; a failure is left to
// ReportPending.
func (s *Engagements) report(ctx context.Context, e Engagement) {
	if s.Events == nil {
		return
	}
	err := s.Events.RecordEngaged(ctx, e)
	if err == nil {
		err = s.Store.MarkEngagementReported(ctx, e.MessageID, e.Action)
	}
	if err != nil && s.Logger != nil {
		s.Logger.WarnContext(ctx, "outreach: engagement not yet in profile; it will be retried", "message", e.MessageID,
			"action", e.Action.String(), "error", err)
	}
}

// ReportPending records in profile up to limit engagements whose events
// it does not have yet (profile was unavailable when they were recorded)
// and returns how many it recorded.
func (s *Engagements) ReportPending(ctx context.Context, limit int) (int, error) {
	if s.Events == nil {
		return 0, nil
	}
	es, err := s.Store.UnreportedEngagements(ctx, limit)
	if err != nil {
		return 0, err
	}
	for i, e := range es {
		if err := s.Events.RecordEngaged(ctx, e); err != nil {
			return i, err
		}
		if err := s.Store.MarkEngagementReported(ctx, e.MessageID, e.Action); err != nil {
			return i, err
		}
	}
	return len(es), nil
}

// check validates a callback's body, naming fields as the API does.
func (c Callback) check(now time.Time) error {
	if c.MessageID == "" {
		return fielderr.New("callback.body.message", "is required: name the message, messages/{message_id}")
	}
	switch c.Action {
	case ActionDelivered, ActionOpened, ActionClicked:
	case ActionUnsubscribed:
		return &fielderr.Error{Path: "callback.body.action", Problem: "cannot be ENGAGEMENT_ACTION_UNSUBSCRIBED in a callback",
			Fix: "unsubscribe through the message's one-click unsubscribe link"}
	default:
		return fielderr.New("callback.body.action", "must be ENGAGEMENT_ACTION_DELIVERED, _OPENED or _CLICKED")
	}
	if c.OccurTime.After(now.Add(CallbackTolerance)) {
		return fielderr.New("callback.body.occur_time", "is in the future: %s", c.OccurTime.UTC().Format(time.RFC3339))
	}
	return nil
}

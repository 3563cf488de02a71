package outreach

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/signedtoken"
)

func TestCanEngage(t *testing.T) {
	for _, tt := range []struct {
		state  State
		action Action
		ok     bool
	}{
		{StateSent, ActionDelivered, true},
		{StateDelivered, ActionDelivered, true}, // a repeated callback
		{StateScheduled, ActionDelivered, false},
		{StateFailed, ActionDelivered, false},
		{StateSuppressed, ActionDelivered, false},
		{StateSent, ActionClicked, true},
		{StateDelivered, ActionOpened, true},
		{StateDead, ActionOpened, false},
		{StateHeld, ActionClicked, false},
	} {
		err := CanEngage(Message{ID: "m", State: tt.state}, tt.action)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidTransition)) {
			t.Errorf("%s on a %s message: got %v, want ok %v", tt.action, tt.state, err, tt.ok)
		}
	}
}

// TestLinks renders a template with a message's links and checks their
// tokens: signed, for the message, its customer and the destination.
func TestLinks(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	s := LinkSigner{Base: "https://api.shop.example.com", Secret: []byte("k"), TTL: time.Hour}
	m := Message{ID: "m1", CustomerID: "c1"}
	links, err := s.Links(Links{Shop: "https://shop.example.com/"}, m, now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile("template", Template{Text: `{{.Links.Click .Links.Shop}} {{.Links.Open}}`})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Render(Data{Links: links})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Fields(r.Text)
	for i, want := range []LinkClaims{
		{MessageID: "m1", CustomerID: "c1", Action: ActionClicked, URL: "https://shop.example.com/", Expires: now.Add(time.Hour)},
		{MessageID: "m1", CustomerID: "c1", Action: ActionOpened, Expires: now.Add(time.Hour)},
	} {
		u, err := url.Parse(parts[i])
		if err != nil || u.Host != "api.shop.example.com" {
			t.Fatalf("link %q", parts[i])
		}
		var got LinkClaims
		if err := signedtoken.Verify([]byte("k"), u.Query().Get("token"), now, &got); err != nil || got != want {
			t.Errorf("link %s: got %+v, %v; want %+v", parts[i], got, err, want)
		}
	}
	if _, err := links.Click("javascript:alert(1)"); err == nil {
		t.Error("a click link to a javascript: URL was made")
	}
	// Without tracking, Click gives the URL and Open nothing.
	plain, _ := LinkSigner{}.Links(Links{}, m, now)
	if got, err := plain.Click("https://shop.example.com/x"); err != nil || got != "https://shop.example.com/x" || plain.Open != "" {
		t.Errorf("untracked: Click = %q, %v; Open = %q", got, err, plain.Open)
	}
	// A template that clicks to something else than an absolute URL is
	// rejected when saved.
	if _, err := Compile("template", Template{Text: `{{.Links.Click "/sale"}}`}); !errors.Is(err, ErrInvalidTemplate) {
		t.Errorf("relative click link: got %v, want ErrInvalidTemplate", err)
	}
}

func TestLinkTokenErrors(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	e := &Engagements{LinkSecret: []byte("k"), Clock: func() time.Time { return now }}
	sign := func(secret string, c LinkClaims) string {
		tok, err := signedtoken.Sign([]byte(secret), c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ok := LinkClaims{MessageID: "m1", CustomerID: "c1", Action: ActionOpened, Expires: now.Add(time.Hour)}
	expired := ok
	expired.Expires = now
	notALink := ok
	notALink.Action = ActionDelivered
	for _, tt := range []struct {
		name, token string
		want        error
	}{
		{"other secret", sign("other", ok), ErrSignatureInvalid},
		{"expired", sign("k", expired), ErrSignatureExpired},
		{"a delivery", sign("k", notALink), ErrSignatureInvalid},
		{"garbage", "x.y", ErrSignatureInvalid},
	} {
		if _, err := e.Link(context.Background(), tt.token); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := (&Engagements{Clock: e.Clock}).Link(context.Background(), sign("k", ok)); !errors.Is(err, ErrEngagementNotConfigured) {
		t.Errorf("no link secret: got %v, want ErrEngagementNotConfigured", err)
	}
}

func TestCallbackCheck(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		c    Callback
		path string // "" when valid
	}{
		{Callback{MessageID: "m", Action: ActionDelivered}, ""},
		{Callback{MessageID: "m", Action: ActionClicked, OccurTime: now.Add(time.Minute)}, ""},
		{Callback{Action: ActionOpened}, "callback.body.message"},
		{Callback{MessageID: "m", Action: ActionUnsubscribed}, "callback.body.action"},
		{Callback{MessageID: "m"}, "callback.body.action"},
		{Callback{MessageID: "m", Action: ActionOpened, OccurTime: now.Add(time.Hour)}, "callback.body.occur_time"},
	} {
		err := tt.c.check(now)
		if (err == nil) != (tt.path == "") || (err != nil && !strings.Contains(err.Error(), tt.path)) {
			t.Errorf("%+v: got %v, want a problem with %q", tt.c, err, tt.path)
		}
	}
}

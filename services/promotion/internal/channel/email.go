package channel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode is how the email provider secures its SMTP connection.
type TLSMode int

// The TLS modes.
const (
	// TLSStartTLSMandatory upgrades the connection with STARTTLS and fails
	// if the relay does not offer it (the default).
	TLSStartTLSMandatory TLSMode = iota
	// TLSStartTLSOpportunistic upgrades when the relay offers STARTTLS.
	TLSStartTLSOpportunistic
	// TLSNone sends in plain text (a relay on the same host or network).
	TLSNone
)

// EmailConfig configures the email provider.
type EmailConfig struct {
	// Host and Port of the SMTP relay (Port 0: 587).
	Host string
	Port int
	// Username and Password, when Username is set, authenticate with
	// PLAIN (only over TLS, unless the relay is this host).
	Username, Password string
	TLS                TLSMode
	// TLSConfig verifies the relay (nil: the system's roots and Host).
	TLSConfig *tls.Config
	// From is the sender address, e.g. "Shop <news@shop.example.com>".
	From string
	// Timeout bounds one delivery (0: 30 s).
	Timeout time.Duration
}

// Email sends messages over SMTP to a relay. A marketing message (one with
// an UnsubscribeURL) carries the RFC 8058 one-click unsubscribe headers:
// List-Unsubscribe with the signed link and List-Unsubscribe-Post.
type Email struct {
	cfg    EmailConfig
	domain string // of From, for Message-IDs
}

// NewEmail returns the email provider for cfg.
func NewEmail(cfg EmailConfig) (*Email, error) {
	if cfg.Host == "" {
		return nil, errors.New("channel: email: no SMTP host")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("channel: email: sender %q: %w", cfg.From, err)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	return &Email{cfg: cfg, domain: domain}, nil
}

// Send implements Provider. An address the relay or the message rejects
// for good is a permanent failure.
func (e *Email) Send(ctx context.Context, m Message) error {
	msg, err := e.message(m)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(e.cfg.Host, e.options()...)
	if err != nil {
		return fmt.Errorf("channel: email: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
			return fmt.Errorf("%w: email to %s: %w", ErrPermanent, m.CustomerID, err)
		}
		return fmt.Errorf("channel: email to %s: %w", m.CustomerID, err)
	}
	return nil
}

func (e *Email) options() []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(e.cfg.Port), gomail.WithTimeout(e.cfg.Timeout)}
	switch e.cfg.TLS {
	case TLSStartTLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	tc := e.cfg.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: e.cfg.Host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, gomail.WithTLSConfig(tc))
	if e.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(e.cfg.Username), gomail.WithPassword(e.cfg.Password))
	}
	return opts
}

// message builds m as a MIME message: a text part, an HTML alternative,
// the Message-ID from m.ID and the unsubscribe headers.
func (e *Email) message(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(e.cfg.From); err != nil {
		return nil, fmt.Errorf("channel: email sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("%w: email address of %s: %w", ErrPermanent, m.CustomerID, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID + "@" + e.domain)
	msg.SetDate()
	if m.UnsubscribeURL != "" {
		msg.SetGenHeaderPreformatted("List-Unsubscribe", "<"+m.UnsubscribeURL+">")
		msg.SetGenHeaderPreformatted("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	switch {
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		if m.HTML != "" {
			msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
		}
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		return nil, fmt.Errorf("%w: message %s has no body", ErrPermanent, m.ID)
	}
	return msg, nil
}

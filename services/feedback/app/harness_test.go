package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/feedback/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/platform/webhook"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// env is a running stack: profile, segmentation and feedback on one
// engine, in etcd, with a webhook receiver.
type env struct {
	feedback     feedbackv1.FeedbackServiceClient
	profile      profilev1.ProfileServiceClient
	segmentation segmentationv1.SegmentationServiceClient
	seg          *segmentationapp.App
	clock        *clock
	hooks        chan hook
	hookURL      string
}

// hook is one webhook received, with its signature checked.
type hook struct {
	id   string
	body string
	err  error
}

const hookSecret = "hook-secret"

func start(t *testing.T, engine string, at time.Time) *env {
	t.Helper()
	c := &clock{now: at}
	hooks := make(chan hook, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- hook{id: r.Header.Get(webhook.HeaderID), body: string(b),
			err: webhook.Verify([]byte(hookSecret), r.Header, b, time.Now(), time.Minute)}
	}))
	t.Cleanup(srv.Close)
	s := stacktest.Start(t, stacktest.Options{Engine: engine})
	p := s.Add(profileapp.Component(nil))
	seg := s.Add(segmentationapp.Component(func(c *segmentationapp.Config, _ *segmentationapp.Deps) { c.MemoryLimit = 0 }))
	f := s.Add(app.Component(func(cfg *app.Config, d *app.Deps) {
		cfg.EscalationInterval, cfg.WebhookSecret = 0, hookSecret
		d.Clock = c.Now
	}))
	return &env{
		feedback:     feedbackv1.NewFeedbackServiceClient(stacktest.Dial(t, f.Addr())),
		profile:      profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr())),
		segmentation: segmentationv1.NewSegmentationServiceClient(stacktest.Dial(t, seg.Addr())),
		seg:          seg.Runner.(*segmentationapp.App),
		clock:        c, hooks: hooks, hookURL: srv.URL,
	}
}

// wantStatus checks an error's code and ErrorInfo reason and returns the
// field the BadRequest detail names, if any.
func wantStatus(t *testing.T, err error, code codes.Code, reason string) string {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("error = %v, want code %v", err, code)
	}
	var field string
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			field = d.GetFieldViolations()[0].GetField()
		}
	}
	if info.GetReason() != reason || info.GetDomain() != "feedback.tenure.dev" {
		t.Fatalf("ErrorInfo = %v, want reason %s in feedback.tenure.dev", info, reason)
	}
	return field
}

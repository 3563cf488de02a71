package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/paging"
	"github.com/tenurehq/tenure/services/promotion/internal/channel"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

func smsJourney(id string) outreach.JourneyDef {
	return outreach.JourneyDef{
		Journey: outreach.Journey{ID: id, Trigger: outreach.Trigger{Kind: outreach.TriggerAudienceEntered, Audience: "stages/new"},
			Channels: []outreach.Channel{outreach.ChannelSMS}},
		Templates: []outreach.TemplateDef{{Channel: outreach.ChannelSMS, Template: outreach.Template{Text: "Hi {{.Customer.FirstName}}"}}},
	}
}

func ids(ds []outreach.JourneyDef) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func claimedIDs(t *testing.T, s *store.Store, at time.Time) map[string]bool {
	t.Helper()
	ms, err := s.Claim(context.Background(), at, time.Second, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range ms {
		out[m.ID] = true
	}
	return out
}

// TestJourneyLifecycle pauses, resumes, updates and deletes journeys: the
// triggers' list holds only active ones, the dispatcher leaves a paused
// journey's messages waiting, and deleting suppresses the unsent messages
// and keeps the others.
func TestJourneyLifecycle(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := t0
		j := outreach.Journeys{Store: s, Clock: func() time.Time { return now }}
		for _, id := range []string{"a", "b", "c"} {
			if _, err := j.Create(ctx, smsJourney(id)); err != nil {
				t.Fatal(err)
			}
		}
		waiting, sent := message("b", "c1", "x", t0), message("b", "c2", "x", t0)
		other := message("a", "c1", "x", t0)
		for _, m := range []outreach.Message{waiting, sent, other} {
			if _, err := s.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		now = t0.Add(time.Minute)
		paused, err := j.Pause(ctx, "b", "")
		if err != nil || paused.State != outreach.JourneyPaused || paused.Version != 2 || !paused.UpdateTime.Equal(now) {
			t.Fatalf("Pause: got %+v, %v", paused, err)
		}
		if again, err := j.Pause(ctx, "b", paused.ETag()); err != nil || again.Version != 2 {
			t.Errorf("second Pause: got version %d, %v; want 2 (no change)", again.Version, err)
		}
		if got, _ := s.ListJourneys(ctx, "", 10); len(got) != 2 || got[0].ID != "a" || got[1].ID != "c" {
			t.Errorf("ListJourneys with b paused: got %v, want [a c]", ids(got))
		}
		if got, _, err := j.List(ctx, 0, "", false); err != nil || len(got) != 3 {
			t.Errorf("List: got %v, %v; want all three", ids(got), err)
		}
		if created, err := s.CreateMessage(ctx, message("b", "c3", "x", now)); err != nil || created {
			t.Errorf("CreateMessage for the paused journey: got %v, %v; want none created", created, err)
		}
		if got := claimedIDs(t, s, now); !got[other.ID] || got[waiting.ID] || got[sent.ID] {
			t.Errorf("Claim with b paused: got %v, want only a's message", got)
		}

		if _, err := j.Resume(ctx, "b", paused.ETag()); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Resume(ctx, "b", paused.ETag()); !errors.Is(err, outreach.ErrETagMismatch) {
			t.Errorf("Resume with a stale etag: got %v, want ErrETagMismatch", err)
		}
		claimed := claimedIDs(t, s, now.Add(time.Hour))
		if !claimed[waiting.ID] || !claimed[sent.ID] {
			t.Fatalf("Claim after resuming: got %v, want b's messages", claimed)
		}
		// c2's message is sent; c1's failed once and waits for a retry.
		gotSent, _ := s.GetMessage(ctx, sent.ID)
		next := gotSent
		next.State, next.Channel, next.Attempts, next.UpdateTime = outreach.StateSent, outreach.ChannelSMS, 1, now
		if err := s.Record(ctx, gotSent, next); err != nil {
			t.Fatal(err)
		}
		gotWaiting, _ := s.GetMessage(ctx, waiting.ID)
		failed := gotWaiting
		failed.State, failed.Attempts, failed.Due, failed.UpdateTime = outreach.StateFailed, 1, now.Add(time.Hour), now
		if err := s.Record(ctx, gotWaiting, failed); err != nil {
			t.Fatal(err)
		}

		now = t0.Add(2 * time.Minute)
		deleted, err := j.Delete(ctx, "b", "")
		if err != nil || deleted.State != outreach.JourneyDeleted || !deleted.DeleteTime.Equal(now) {
			t.Fatalf("Delete: got %+v, %v", deleted, err)
		}
		if created, err := s.CreateMessage(ctx, message("b", "c4", "x", now)); err != nil || created {
			t.Errorf("CreateMessage for the deleted journey: got %v, %v; want none created", created, err)
		}
		if _, err := j.Delete(ctx, "b", ""); !errors.Is(err, outreach.ErrJourneyNotFound) {
			t.Errorf("second Delete: got %v, want ErrJourneyNotFound", err)
		}
		for _, err := range []error{
			func() error { _, err := j.Resume(ctx, "b", ""); return err }(),
			func() error { _, err := j.Update(ctx, "b", "", []string{"display_name"}, smsJourney("b")); return err }(),
		} {
			if !errors.Is(err, outreach.ErrJourneyDeleted) {
				t.Errorf("change of a deleted journey: got %v, want ErrJourneyDeleted", err)
			}
		}
		if got, err := s.GetMessage(ctx, waiting.ID); err != nil || got.State != outreach.StateSuppressed ||
			got.Reason != outreach.ReasonJourneyDeleted || !got.UpdateTime.Equal(now) {
			t.Errorf("unsent message after the delete: got %+v, %v; want suppressed (journey deleted)", got, err)
		}
		if got, _ := s.GetMessage(ctx, sent.ID); got.State != outreach.StateSent {
			t.Errorf("sent message after the delete: got %s, want sent", got.State)
		}
		if got := claimedIDs(t, s, now.Add(48*time.Hour)); got[waiting.ID] || got[sent.ID] {
			t.Errorf("Claim after the delete: got %v, want none of b's messages", got)
		}
		if got, _, _ := j.List(ctx, 0, "", false); len(got) != 2 {
			t.Errorf("List without deleted: got %v", ids(got))
		}
		if got, _, _ := j.List(ctx, 0, "", true); len(got) != 3 || got[1].State != outreach.JourneyDeleted {
			t.Errorf("List with deleted: got %v", ids(got))
		}
		h, err := s.MessageHistories(ctx, []string{waiting.ID, sent.ID})
		if err != nil {
			t.Fatal(err)
		}
		states := func(cs []outreach.MessageChange) (out []outreach.State) {
			for _, c := range cs {
				out = append(out, c.State)
			}
			return out
		}
		if got := states(h[waiting.ID]); len(got) != 3 || got[0] != outreach.StateScheduled || got[1] != outreach.StateFailed ||
			got[2] != outreach.StateSuppressed || h[waiting.ID][2].Reason != outreach.ReasonJourneyDeleted || !h[waiting.ID][2].At.Equal(now) {
			t.Errorf("history of the suppressed message: got %+v", h[waiting.ID])
		}
		if got := states(h[sent.ID]); len(got) != 2 || got[1] != outreach.StateSent || h[sent.ID][1].Channel != outreach.ChannelSMS {
			t.Errorf("history of the sent message: got %+v", h[sent.ID])
		}
	})
}

// TestJourneyUpdate changes fields by mask, validates the result and
// guards the change by the etag and the stored version.
func TestJourneyUpdate(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		j := outreach.Journeys{Store: s, Clock: func() time.Time { return t0 }}
		created, err := j.Create(ctx, smsJourney("a"))
		if err != nil {
			t.Fatal(err)
		}
		in := smsJourney("a")
		in.DisplayName, in.Delay = "Welcome", time.Hour
		updated, err := j.Update(ctx, "a", created.ETag(), []string{"display_name"}, in)
		if err != nil || updated.DisplayName != "Welcome" || updated.Delay != 0 || updated.ETag() == created.ETag() {
			t.Fatalf("Update display_name: got %+v, %v", updated, err)
		}
		if got, _ := s.GetJourney(ctx, "a"); got.DisplayName != "Welcome" || got.Version != updated.Version {
			t.Errorf("stored after Update: got %+v", got)
		}
		if _, err := j.Update(ctx, "a", created.ETag(), []string{"delay"}, in); !errors.Is(err, outreach.ErrETagMismatch) {
			t.Errorf("Update with a stale etag: got %v, want ErrETagMismatch", err)
		}
		bad := smsJourney("a")
		bad.Channels = []outreach.Channel{outreach.ChannelEmail}
		if _, err := j.Update(ctx, "a", "", []string{"channels"}, bad); !errors.Is(err, outreach.ErrInvalidTemplate) {
			t.Errorf("Update to a channel without a template: got %v, want ErrInvalidTemplate", err)
		}
		if got, err := j.Update(ctx, "a", "", []string{"etag", "name", "display_name"}, in); err != nil || got.DisplayName != "Welcome" {
			t.Errorf("Update naming output-only fields: got %+v, %v; want them ignored", got, err)
		}
		for _, paths := range [][]string{nil, {"displayName"}} {
			if _, err := j.Update(ctx, "a", "", paths, in); err == nil {
				t.Errorf("Update with mask %v: no error", paths)
			}
		}
		if err := s.SaveJourney(ctx, created, created.Version); !errors.Is(err, outreach.ErrJourneyChanged) {
			t.Errorf("SaveJourney of an old version: got %v, want ErrJourneyChanged", err)
		}
	})
}

// TestCustomerMessagesAndInbox pages a customer's messages newest first
// with filters, and the inbox with its unread count and read marks.
func TestCustomerMessagesAndInbox(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, occ := range []string{"1", "2", "3"} {
			m := message("a", "c1", occ, t0)
			m.CreateTime = t0.Add(time.Duration(i) * time.Minute)
			if _, err := s.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateMessage(ctx, message("b", "c1", "1", t0)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateMessage(ctx, message("a", "c2", "1", t0)); err != nil {
			t.Fatal(err)
		}
		cm := outreach.CustomerMessages{Store: s}
		page, next, err := cm.List(ctx, outreach.MessageFilter{CustomerID: "c1", JourneyID: "a"}, 2, "")
		if err != nil || len(page) != 2 || page[0].Occurrence != "3" || page[1].Occurrence != "2" || next == "" {
			t.Fatalf("first page: got %+v %q %v", page, next, err)
		}
		if len(page[0].History) != 1 || page[0].History[0].State != outreach.StateScheduled {
			t.Errorf("history of a new message: got %+v", page[0].History)
		}
		page, next, err = cm.List(ctx, outreach.MessageFilter{CustomerID: "c1", JourneyID: "a"}, 2, next)
		if err != nil || len(page) != 1 || page[0].Occurrence != "1" || next != "" {
			t.Fatalf("second page: got %+v %q %v", page, next, err)
		}
		if all, _, _ := cm.List(ctx, outreach.MessageFilter{CustomerID: "c1"}, 0, ""); len(all) != 4 {
			t.Errorf("all of c1's messages: got %d, want 4", len(all))
		}
		if none, _, _ := cm.List(ctx, outreach.MessageFilter{CustomerID: "c1", State: outreach.StateSent}, 0, ""); len(none) != 0 {
			t.Errorf("c1's sent messages: got %d, want 0", len(none))
		}

		for i, id := range []string{"m1", "m2", "m3"} {
			if err := s.Deliver(ctx, channel.Message{ID: id, CustomerID: "c1", Subject: "s" + id, Text: "t" + id,
				SentAt: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		// Delivered twice (a retry after a lost record): kept once, at the first time.
		if err := s.Deliver(ctx, channel.Message{ID: "m1", CustomerID: "c1", SentAt: t0.Add(9 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		inbox := outreach.Inbox{Store: s, Clock: func() time.Time { return t0.Add(5 * time.Hour) }}
		read, err := inbox.MarkRead(ctx, "c1", "m2")
		if err != nil || !read.ReadTime.Equal(t0.Add(5*time.Hour)) || read.Subject != "sm2" {
			t.Fatalf("MarkRead: got %+v, %v", read, err)
		}
		inbox.Clock = func() time.Time { return t0.Add(6 * time.Hour) }
		if again, err := inbox.MarkRead(ctx, "c1", "m2"); err != nil || !again.ReadTime.Equal(t0.Add(5*time.Hour)) {
			t.Errorf("second MarkRead: got %+v, %v; want the first read time", again, err)
		}
		if _, err := inbox.MarkRead(ctx, "c2", "m2"); !errors.Is(err, outreach.ErrMessageNotFound) {
			t.Errorf("MarkRead of another customer's message: got %v, want ErrMessageNotFound", err)
		}
		ms, next, unread, err := inbox.List(ctx, "c1", 2, "")
		if err != nil || unread != 2 || len(ms) != 2 || ms[0].MessageID != "m3" || ms[1].MessageID != "m2" || next == "" ||
			!ms[0].CreateTime.Equal(t0.Add(2*time.Hour)) || !ms[0].ReadTime.IsZero() {
			t.Fatalf("first inbox page: got %+v, %q, %d unread, %v", ms, next, unread, err)
		}
		first := next
		ms, next, unread, err = inbox.List(ctx, "c1", 2, next)
		if err != nil || unread != 2 || len(ms) != 1 || ms[0].MessageID != "m1" || !ms[0].CreateTime.Equal(t0) || next != "" {
			t.Errorf("second inbox page: got %+v, %q, %d unread, %v", ms, next, unread, err)
		}
		if _, _, _, err := inbox.List(ctx, "c2", 2, first); !errors.Is(err, paging.ErrInvalidPageToken) {
			t.Error("a token of another customer's inbox was accepted")
		}
	})
}

package app_test

import (
	"context"
	"testing"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
)

// TestErasure: when profile erases a customer, feedback follows its log
// and moves the customer's tickets and answers to the anonymous id,
// clearing the email.
func TestErasure(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		e := start(t, engine, friday)
		create := &feedbackv1.CreateTicketRequest{RequestId: "ticket-c-5", Ticket: &feedbackv1.Ticket{CustomerId: "c-5",
			Email: "ada@example.com", Channel: feedbackv1.Channel_CHANNEL_EMAIL, Body: "please call me"}}
		tk, err := e.feedback.CreateTicket(ctx, create)
		if err != nil {
			t.Fatal(err)
		}
		erased, err := e.profile.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: "customers/c-5"})
		if err != nil {
			t.Fatal(err)
		}
		anon := erased.GetAnonymousId()
		var got *feedbackv1.GetTicketResponse
		waitFor(t, "the ticket to move to "+anon, func() bool {
			got, err = e.feedback.GetTicket(ctx, &feedbackv1.GetTicketRequest{Name: tk.GetTicket().GetName()})
			return err == nil && got.GetTicket().GetCustomerId() == anon
		})
		if got.GetTicket().GetEmail() != "" {
			t.Fatalf("erased ticket keeps email %q", got.GetTicket().GetEmail())
		}
		list, err := e.feedback.ListTickets(ctx, &feedbackv1.ListTicketsRequest{CustomerId: "c-5"})
		if err != nil || len(list.GetTickets()) != 0 {
			t.Fatalf("tickets under the erased id: %v, %v; want none", list, err)
		}
		// The stored response held the email: a retry no longer returns it.
		_, err = e.feedback.CreateTicket(ctx, create)
		wantStatus(t, err, codes.FailedPrecondition, "REQUEST_FORGOTTEN")
	})
}

package feedback

import (
	"errors"
	"testing"
)

func TestCheckTransition(t *testing.T) {
	tests := []struct {
		from, to Status
		want     error
	}{
		{StatusNew, StatusOpen, nil},
		{StatusOpen, StatusPending, nil},
		{StatusPending, StatusOnHold, nil},
		{StatusOnHold, StatusSolved, nil},
		{StatusSolved, StatusClosed, nil},
		{StatusSolved, StatusOpen, nil},
		{StatusPending, StatusOpen, nil},
		{StatusNew, StatusClosed, ErrInvalidTransition},
		{StatusOpen, StatusNew, ErrInvalidTransition},
		{StatusOpen, StatusClosed, ErrInvalidTransition},
		{StatusSolved, StatusPending, ErrInvalidTransition},
		{StatusOpen, StatusOpen, ErrInvalidTransition},
		{StatusClosed, StatusOpen, ErrTicketClosed},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			if err := CheckTransition(tt.from, tt.to); !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAfterCustomerReply(t *testing.T) {
	for from, want := range map[Status]Status{
		StatusPending: StatusOpen, StatusSolved: StatusOpen, StatusNew: StatusNew,
		StatusOpen: StatusOpen, StatusOnHold: StatusOnHold,
	} {
		if got := AfterCustomerReply(from); got != want {
			t.Errorf("AfterCustomerReply(%s) = %s, want %s", from, got, want)
		}
	}
}

package consumer_test

import (
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/consumer"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

func TestToOrderProfile(t *testing.T) {
	tests := []struct {
		name string
		ev   *profilev1.Event
		want *promotion.ProfileChange // nil: not applied
	}{
		{"birthday and zone", &profilev1.Event{Payload: &profilev1.Event_CustomerUpdated{CustomerUpdated: &profilev1.CustomerUpdated{
			Birthday: "1992-02-29", TimeZone: "Europe/Paris"}}}, &promotion.ProfileChange{BirthMonth: time.February, BirthDay: 29, TimeZone: "Europe/Paris"}},
		{"unknown birthday", &profilev1.Event{Payload: &profilev1.Event_CustomerUpdated{CustomerUpdated: &profilev1.CustomerUpdated{}}},
			&promotion.ProfileChange{}},
		{"unreadable birthday", &profilev1.Event{Payload: &profilev1.Event_CustomerUpdated{CustomerUpdated: &profilev1.CustomerUpdated{
			Birthday: "29/02/1992"}}}, &promotion.ProfileChange{}},
		{"deleted", &profilev1.Event{Payload: &profilev1.Event_CustomerDeleted{CustomerDeleted: &profilev1.CustomerDeleted{}}},
			&promotion.ProfileChange{Deleted: true}},
		{"a product view", &profilev1.Event{Payload: &profilev1.Event_ProductViewed{ProductViewed: &profilev1.ProductViewed{}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := consumer.ToOrder(tt.ev)
			if ok != (tt.want != nil) || (ok && *o.Profile != *tt.want) {
				t.Errorf("got %+v, %v; want %+v", o.Profile, ok, tt.want)
			}
		})
	}
}

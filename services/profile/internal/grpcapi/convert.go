package grpcapi

import (
	"errors"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/resourcename"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// customerNames is the pattern of a customer's resource name.
var customerNames = resourcename.MustCompile("customers/{customer_id}")

// parseName returns the customer id of a "customers/{customer_id}" name
// in field, checked as the domain checks customer ids.
func parseName(field, name string) (string, error) {
	id, err := customerNames.ParseID(field, name)
	var fe *fielderr.Error
	if errors.As(err, &fe) {
		return "", profile.AsInvalidArgument(fe)
	}
	var verr *profile.ValidationError
	if err := profile.CheckCustomerID(id); errors.As(err, &verr) {
		return "", profile.InvalidArgument(field, "customer id %s", verr.Message)
	} else if err != nil {
		return "", err
	}
	return id, nil
}

func customerName(id string) string { return customerNames.Format(id) }

// prefixed returns err with its validation field path under prefix.
func prefixed(err error, prefix string) error {
	if ve, ok := err.(*profile.ValidationError); ok && ve.Path != "customer_id" {
		return ve.WithPrefix(prefix)
	}
	return err
}

func toTime(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if ts.CheckValid() != nil {
		return time.Time{}, profile.InvalidArgument(field, "must be a valid timestamp from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z")
	}
	return ts.AsTime(), nil
}

func fromTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func toMoney(m *typev1.Money) profile.Money {
	if m == nil {
		return profile.Money{}
	}
	return profile.Money{Currency: m.GetCurrencyCode(), Minor: m.GetAmountMinor()}
}

func fromMoney(m profile.Money) *typev1.Money {
	if m.IsZero() {
		return nil
	}
	return &typev1.Money{CurrencyCode: m.Currency, AmountMinor: m.Minor}
}

// toCustomer converts the profile fields of a request's customer.
func toCustomer(id string, c *profilev1.Customer) (profile.Customer, error) {
	reg, err := toTime("customer.registration_time", c.GetRegistrationTime())
	if err != nil {
		return profile.Customer{}, err
	}
	return profile.Customer{
		ID:                  id,
		FullName:            c.GetFullName(),
		Email:               c.GetEmail(),
		Phone:               c.GetPhone(),
		Birthday:            c.GetBirthday(),
		TimeZone:            c.GetTimeZone(),
		Country:             c.GetCountry(),
		RegistrationTime:    reg,
		RegistrationChannel: c.GetRegistrationChannel(),
		Consent: profile.Consent{
			Email: profile.ConsentState(c.GetConsent().GetEmail()),
			SMS:   profile.ConsentState(c.GetConsent().GetSms()),
			Push:  profile.ConsentState(c.GetConsent().GetPush()),
		},
		Tags: c.GetTags(),
	}, nil
}

func fromCustomer(c profile.Customer) *profilev1.Customer {
	return &profilev1.Customer{
		Name:                customerName(c.ID),
		CustomerId:          c.ID,
		FullName:            c.FullName,
		Email:               c.Email,
		Phone:               c.Phone,
		Birthday:            c.Birthday,
		TimeZone:            c.TimeZone,
		Country:             c.Country,
		RegistrationTime:    fromTime(c.RegistrationTime),
		RegistrationChannel: c.RegistrationChannel,
		Consent: &profilev1.Consent{
			Email: profilev1.ConsentState(c.Consent.Email),
			Sms:   profilev1.ConsentState(c.Consent.SMS),
			Push:  profilev1.ConsentState(c.Consent.Push),
		},
		Tags:       c.Tags,
		Features:   fromFeatures(c.Features),
		State:      fromState(c.State),
		CreateTime: fromTime(c.CreateTime),
		UpdateTime: fromTime(c.UpdateTime),
		Etag:       c.ETag(),
	}
}

func fromState(s profile.CustomerState) profilev1.CustomerState {
	switch s {
	case profile.StateActive:
		return profilev1.CustomerState_CUSTOMER_STATE_ACTIVE
	case profile.StateProvisional:
		return profilev1.CustomerState_CUSTOMER_STATE_PROVISIONAL
	case profile.StateErased:
		return profilev1.CustomerState_CUSTOMER_STATE_ERASED
	}
	return profilev1.CustomerState_CUSTOMER_STATE_UNSPECIFIED
}

func fromFeatures(f profile.Features) *profilev1.CustomerFeatures {
	out := &profilev1.CustomerFeatures{
		FirstOrderTime:    fromTime(f.FirstOrderTime),
		LastOrderTime:     fromTime(f.LastOrderTime),
		OrderCount:        f.OrderCount,
		GrossSpend:        fromMoney(f.GrossSpend()),
		NetSpend:          fromMoney(f.NetSpend()),
		RefundCount:       f.RefundCount,
		AverageOrderValue: fromMoney(f.AverageOrderValue()),
		DiscountShare:     f.DiscountShare(),
		PreferredChannel:  f.PreferredChannel(),
		LastActivityTime:  fromTime(f.LastActivityTime),
		EventCount:        f.EventCount,
	}
	for _, c := range f.TopCategories() {
		out.TopCategories = append(out.TopCategories, &profilev1.CategoryAffinity{
			Category: c.Category, Quantity: c.Quantity, OrderCount: c.OrderCount,
		})
	}
	for _, s := range f.SpendByCurrency() {
		out.SpendByCurrency = append(out.SpendByCurrency, &profilev1.CurrencySpend{
			CurrencyCode: s.Currency, OrderCount: s.OrderCount, GrossMinor: s.GrossMinor, NetMinor: s.NetMinor,
		})
	}
	return out
}

// toEvent converts a request event. Only a malformed timestamp fails here;
// everything else is the domain's validation.
func toEvent(e *profilev1.Event) (profile.Event, *profile.ValidationError) {
	out := profile.Event{ID: e.GetEventId(), CustomerID: e.GetCustomerId()}
	if ts := e.GetOccurredAt(); ts != nil {
		// A set 0001-01-01T00:00:00Z would read as unset once converted.
		if ts.CheckValid() != nil || ts.AsTime().IsZero() {
			return out, profile.OccurredAtOutOfRange(out.ID)
		}
		out.OccurredAt = ts.AsTime()
	}
	switch p := e.GetPayload().(type) {
	case *profilev1.Event_OrderPlaced:
		out.Payload = profile.OrderPlaced{
			OrderID:       p.OrderPlaced.GetOrderId(),
			Lines:         toLines(p.OrderPlaced.GetLines()),
			Total:         toMoney(p.OrderPlaced.GetTotal()),
			OrderDiscount: toMoney(p.OrderPlaced.GetOrderDiscount()),
			Channel:       p.OrderPlaced.GetChannel(),
		}
	case *profilev1.Event_OrderRefunded:
		out.Payload = profile.OrderRefunded{
			OrderID: p.OrderRefunded.GetOrderId(),
			Amount:  toMoney(p.OrderRefunded.GetAmount()),
			Lines:   toLines(p.OrderRefunded.GetLines()),
		}
	case *profilev1.Event_ProductViewed:
		out.Payload = profile.ProductViewed{SKU: p.ProductViewed.GetSku(), Category: p.ProductViewed.GetCategory(), Channel: p.ProductViewed.GetChannel()}
	case *profilev1.Event_CartUpdated:
		out.Payload = profile.CartUpdated{Lines: toLines(p.CartUpdated.GetLines()), Value: toMoney(p.CartUpdated.GetValue()), Channel: p.CartUpdated.GetChannel()}
	case *profilev1.Event_ReviewPosted:
		out.Payload = profile.ReviewPosted{SKU: p.ReviewPosted.GetSku(), Rating: p.ReviewPosted.GetRating(), Length: p.ReviewPosted.GetLength(), HasPhoto: p.ReviewPosted.GetHasPhoto()}
	case *profilev1.Event_ContentShared:
		out.Payload = profile.ContentShared{ContentID: p.ContentShared.GetContentId(), Network: p.ContentShared.GetNetwork()}
	case *profilev1.Event_CheckedIn:
		out.Payload = profile.CheckedIn{LocationID: p.CheckedIn.GetLocationId()}
	case *profilev1.Event_ServiceContacted:
		out.Payload = profile.ServiceContacted{Channel: p.ServiceContacted.GetChannel(), Topic: p.ServiceContacted.GetTopic()}
	case *profilev1.Event_OrderDelivered:
		out.Payload = profile.OrderDelivered{OrderID: p.OrderDelivered.GetOrderId(), Carrier: p.OrderDelivered.GetCarrier()}
	case *profilev1.Event_MessageEngaged:
		out.Payload = profile.MessageEngaged{MessageID: p.MessageEngaged.GetMessageId(), Channel: p.MessageEngaged.GetChannel(), Action: p.MessageEngaged.GetAction()}
	case *profilev1.Event_CustomerErased:
		out.Payload = profile.CustomerErased{AnonymousID: p.CustomerErased.GetAnonymousId()}
	case *profilev1.Event_CustomerUpdated:
		out.Payload = profile.CustomerUpdated{Tags: p.CustomerUpdated.GetTags(),
			Birthday: p.CustomerUpdated.GetBirthday(), TimeZone: p.CustomerUpdated.GetTimeZone()}
	case *profilev1.Event_CustomerDeleted:
		out.Payload = profile.CustomerDeleted{}
	}
	return out, nil
}

func toLines(ls []*profilev1.OrderLine) []profile.OrderLine {
	if len(ls) == 0 {
		return nil
	}
	out := make([]profile.OrderLine, len(ls))
	for i, l := range ls {
		out[i] = profile.OrderLine{
			SKU: l.GetSku(), Category: l.GetCategory(), Quantity: l.GetQuantity(),
			UnitPrice: toMoney(l.GetUnitPrice()), Discount: toMoney(l.GetDiscount()),
		}
	}
	return out
}

func fromLines(ls []profile.OrderLine) []*profilev1.OrderLine {
	if len(ls) == 0 {
		return nil
	}
	out := make([]*profilev1.OrderLine, len(ls))
	for i, l := range ls {
		out[i] = &profilev1.OrderLine{
			Sku: l.SKU, Category: l.Category, Quantity: l.Quantity,
			UnitPrice: fromMoney(l.UnitPrice), Discount: fromMoney(l.Discount),
		}
	}
	return out
}

func fromEvent(e profile.Event) *profilev1.Event {
	out := &profilev1.Event{
		EventId:    e.ID,
		CustomerId: e.CustomerID,
		OccurredAt: fromTime(e.OccurredAt),
		Sequence:   e.Sequence,
		RecordTime: fromTime(e.RecordTime),
	}
	switch p := e.Payload.(type) {
	case profile.OrderPlaced:
		out.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{
			OrderId: p.OrderID, Lines: fromLines(p.Lines), Total: fromMoney(p.Total),
			OrderDiscount: fromMoney(p.OrderDiscount), Channel: p.Channel,
		}}
	case profile.OrderRefunded:
		out.Payload = &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{
			OrderId: p.OrderID, Amount: fromMoney(p.Amount), Lines: fromLines(p.Lines),
		}}
	case profile.ProductViewed:
		out.Payload = &profilev1.Event_ProductViewed{ProductViewed: &profilev1.ProductViewed{Sku: p.SKU, Category: p.Category, Channel: p.Channel}}
	case profile.CartUpdated:
		out.Payload = &profilev1.Event_CartUpdated{CartUpdated: &profilev1.CartUpdated{Lines: fromLines(p.Lines), Value: fromMoney(p.Value), Channel: p.Channel}}
	case profile.ReviewPosted:
		out.Payload = &profilev1.Event_ReviewPosted{ReviewPosted: &profilev1.ReviewPosted{Sku: p.SKU, Rating: p.Rating, Length: p.Length, HasPhoto: p.HasPhoto}}
	case profile.ContentShared:
		out.Payload = &profilev1.Event_ContentShared{ContentShared: &profilev1.ContentShared{ContentId: p.ContentID, Network: p.Network}}
	case profile.CheckedIn:
		out.Payload = &profilev1.Event_CheckedIn{CheckedIn: &profilev1.CheckedIn{LocationId: p.LocationID}}
	case profile.ServiceContacted:
		out.Payload = &profilev1.Event_ServiceContacted{ServiceContacted: &profilev1.ServiceContacted{Channel: p.Channel, Topic: p.Topic}}
	case profile.OrderDelivered:
		out.Payload = &profilev1.Event_OrderDelivered{OrderDelivered: &profilev1.OrderDelivered{OrderId: p.OrderID, Carrier: p.Carrier}}
	case profile.MessageEngaged:
		out.Payload = &profilev1.Event_MessageEngaged{MessageEngaged: &profilev1.MessageEngaged{MessageId: p.MessageID, Channel: p.Channel, Action: p.Action}}
	case profile.CustomerErased:
		out.Payload = &profilev1.Event_CustomerErased{CustomerErased: &profilev1.CustomerErased{AnonymousId: p.AnonymousID}}
	case profile.CustomerUpdated:
		out.Payload = &profilev1.Event_CustomerUpdated{CustomerUpdated: &profilev1.CustomerUpdated{Tags: p.Tags,
			Birthday: p.Birthday, TimeZone: p.TimeZone}}
	case profile.CustomerDeleted:
		out.Payload = &profilev1.Event_CustomerDeleted{CustomerDeleted: &profilev1.CustomerDeleted{}}
	}
	return out
}

func fromEvents(es []profile.Event) []*profilev1.Event {
	out := make([]*profilev1.Event, len(es))
	for i, e := range es {
		out[i] = fromEvent(e)
	}
	return out
}

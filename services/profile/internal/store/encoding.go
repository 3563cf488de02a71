package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// The storage encoding of features (customers.features) and event payloads
// (events.payload): JSON of the store-private types below, one per domain
// type, converted by hand. The JSON field names are the stored format:
// never rename one, or existing rows stop decoding.

type featuresJSON struct {
	FirstOrderTime       time.Time                     `json:"first_order_time,omitzero"`
	LastOrderTime        time.Time                     `json:"last_order_time,omitzero"`
	OrderCount           int64                         `json:"order_count,omitempty"`
	DiscountedOrderCount int64                         `json:"discounted_order_count,omitempty"`
	RefundCount          int64                         `json:"refund_count,omitempty"`
	LastActivityTime     time.Time                     `json:"last_activity_time,omitzero"`
	EventCount           int64                         `json:"event_count,omitempty"`
	Currencies           map[string]currencyTotalsJSON `json:"currencies,omitempty"`
	Categories           map[string]categoryTotalsJSON `json:"categories,omitempty"`
	Channels             map[string]int64              `json:"channels,omitempty"`
}

type currencyTotalsJSON struct {
	OrderCount int64 `json:"order_count,omitempty"`
	GrossMinor int64 `json:"gross_minor,omitempty"`
	NetMinor   int64 `json:"net_minor,omitempty"`
}

type categoryTotalsJSON struct {
	Quantity   int64 `json:"quantity,omitempty"`
	OrderCount int64 `json:"order_count,omitempty"`
}

func encodeFeatures(f profile.Features) (string, error) {
	v := featuresJSON{
		FirstOrderTime:       f.FirstOrderTime,
		LastOrderTime:        f.LastOrderTime,
		OrderCount:           f.OrderCount,
		DiscountedOrderCount: f.DiscountedOrderCount,
		RefundCount:          f.RefundCount,
		LastActivityTime:     f.LastActivityTime,
		EventCount:           f.EventCount,
		Channels:             f.Channels,
	}
	if f.Currencies != nil {
		v.Currencies = make(map[string]currencyTotalsJSON, len(f.Currencies))
		for code, t := range f.Currencies {
			v.Currencies[code] = currencyTotalsJSON(t)
		}
	}
	if f.Categories != nil {
		v.Categories = make(map[string]categoryTotalsJSON, len(f.Categories))
		for name, t := range f.Categories {
			v.Categories[name] = categoryTotalsJSON(t)
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encode features: %w", err)
	}
	return string(b), nil
}

func parseFeatures(data string) (profile.Features, error) {
	var v featuresJSON
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		return profile.Features{}, err
	}
	f := profile.Features{
		FirstOrderTime:       v.FirstOrderTime,
		LastOrderTime:        v.LastOrderTime,
		OrderCount:           v.OrderCount,
		DiscountedOrderCount: v.DiscountedOrderCount,
		RefundCount:          v.RefundCount,
		LastActivityTime:     v.LastActivityTime,
		EventCount:           v.EventCount,
		Channels:             v.Channels,
	}
	if v.Currencies != nil {
		f.Currencies = make(map[string]profile.CurrencyTotals, len(v.Currencies))
		for code, t := range v.Currencies {
			f.Currencies[code] = profile.CurrencyTotals(t)
		}
	}
	if v.Categories != nil {
		f.Categories = make(map[string]profile.CategoryTotals, len(v.Categories))
		for name, t := range v.Categories {
			f.Categories[name] = profile.CategoryTotals(t)
		}
	}
	return f, nil
}

type moneyJSON struct {
	Currency string `json:"currency,omitempty"`
	Minor    int64  `json:"minor,omitempty"`
}

type orderLineJSON struct {
	SKU       string    `json:"sku,omitempty"`
	Category  string    `json:"category,omitempty"`
	Quantity  int64     `json:"quantity,omitempty"`
	UnitPrice moneyJSON `json:"unit_price,omitzero"`
	Discount  moneyJSON `json:"discount,omitzero"`
}

func toLinesJSON(ls []profile.OrderLine) []orderLineJSON {
	if ls == nil {
		return nil
	}
	out := make([]orderLineJSON, len(ls))
	for i, l := range ls {
		out[i] = orderLineJSON{SKU: l.SKU, Category: l.Category, Quantity: l.Quantity,
			UnitPrice: moneyJSON(l.UnitPrice), Discount: moneyJSON(l.Discount)}
	}
	return out
}

func fromLinesJSON(ls []orderLineJSON) []profile.OrderLine {
	if ls == nil {
		return nil
	}
	out := make([]profile.OrderLine, len(ls))
	for i, l := range ls {
		out[i] = profile.OrderLine{SKU: l.SKU, Category: l.Category, Quantity: l.Quantity,
			UnitPrice: profile.Money(l.UnitPrice), Discount: profile.Money(l.Discount)}
	}
	return out
}

// Payload encodings, one per profile.Payload type.
type (
	orderPlacedJSON struct {
		OrderID       string          `json:"order_id,omitempty"`
		Lines         []orderLineJSON `json:"lines,omitempty"`
		Total         moneyJSON       `json:"total,omitzero"`
		OrderDiscount moneyJSON       `json:"order_discount,omitzero"`
		Channel       string          `json:"channel,omitempty"`
	}
	orderRefundedJSON struct {
		OrderID string          `json:"order_id,omitempty"`
		Amount  moneyJSON       `json:"amount,omitzero"`
		Lines   []orderLineJSON `json:"lines,omitempty"`
	}
	productViewedJSON struct {
		SKU      string `json:"sku,omitempty"`
		Category string `json:"category,omitempty"`
		Channel  string `json:"channel,omitempty"`
	}
	cartUpdatedJSON struct {
		Lines   []orderLineJSON `json:"lines,omitempty"`
		Value   moneyJSON       `json:"value,omitzero"`
		Channel string          `json:"channel,omitempty"`
	}
	reviewPostedJSON struct {
		SKU      string `json:"sku,omitempty"`
		Rating   int32  `json:"rating,omitempty"`
		Length   int32  `json:"length,omitempty"`
		HasPhoto bool   `json:"has_photo,omitempty"`
	}
	contentSharedJSON struct {
		ContentID string `json:"content_id,omitempty"`
		Network   string `json:"network,omitempty"`
	}
	checkedInJSON struct {
		LocationID string `json:"location_id,omitempty"`
	}
	serviceContactedJSON struct {
		Channel string `json:"channel,omitempty"`
		Topic   string `json:"topic,omitempty"`
	}
	messageEngagedJSON struct {
		MessageID string `json:"message_id,omitempty"`
		Channel   string `json:"channel,omitempty"`
		Action    string `json:"action,omitempty"`
	}
	orderDeliveredJSON struct {
		OrderID string `json:"order_id,omitempty"`
		Carrier string `json:"carrier,omitempty"`
	}
	customerErasedJSON struct {
		AnonymousID string `json:"anonymous_id,omitempty"`
	}
	customerUpdatedJSON struct {
		Tags     []string `json:"tags,omitempty"`
		Birthday string   `json:"birthday,omitempty"`
		TimeZone string   `json:"time_zone,omitempty"`
	}
	customerDeletedJSON struct{}
)

// encodePayload returns the kind and the stored form of p.
func encodePayload(p profile.Payload) (kind, payload string, err error) {
	var v any
	switch p := p.(type) {
	case nil:
		return "", "", fmt.Errorf("store: encode payload: no payload")
	case profile.OrderPlaced:
		v = orderPlacedJSON{OrderID: p.OrderID, Lines: toLinesJSON(p.Lines), Total: moneyJSON(p.Total),
			OrderDiscount: moneyJSON(p.OrderDiscount), Channel: p.Channel}
	case profile.OrderRefunded:
		v = orderRefundedJSON{OrderID: p.OrderID, Amount: moneyJSON(p.Amount), Lines: toLinesJSON(p.Lines)}
	case profile.ProductViewed:
		v = productViewedJSON(p)
	case profile.CartUpdated:
		v = cartUpdatedJSON{Lines: toLinesJSON(p.Lines), Value: moneyJSON(p.Value), Channel: p.Channel}
	case profile.ReviewPosted:
		v = reviewPostedJSON(p)
	case profile.ContentShared:
		v = contentSharedJSON(p)
	case profile.CheckedIn:
		v = checkedInJSON(p)
	case profile.ServiceContacted:
		v = serviceContactedJSON(p)
	case profile.MessageEngaged:
		v = messageEngagedJSON(p)
	case profile.OrderDelivered:
		v = orderDeliveredJSON(p)
	case profile.CustomerErased:
		v = customerErasedJSON(p)
	case profile.CustomerUpdated:
		v = customerUpdatedJSON(p)
	case profile.CustomerDeleted:
		v = customerDeletedJSON{}
	default:
		return "", "", fmt.Errorf("store: encode payload: unknown payload %T", p)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", "", fmt.Errorf("store: encode %s payload: %w", p.Kind(), err)
	}
	return string(p.Kind()), string(b), nil
}

// decodePayload decodes a payload written by encodePayload.
func decodePayload(kind, data string) (profile.Payload, error) {
	var (
		p   profile.Payload
		err error
	)
	switch profile.EventKind(kind) {
	case profile.KindOrderPlaced:
		var v orderPlacedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.OrderPlaced{OrderID: v.OrderID, Lines: fromLinesJSON(v.Lines), Total: profile.Money(v.Total),
			OrderDiscount: profile.Money(v.OrderDiscount), Channel: v.Channel}
	case profile.KindOrderRefunded:
		var v orderRefundedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.OrderRefunded{OrderID: v.OrderID, Amount: profile.Money(v.Amount), Lines: fromLinesJSON(v.Lines)}
	case profile.KindProductViewed:
		var v productViewedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.ProductViewed(v)
	case profile.KindCartUpdated:
		var v cartUpdatedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.CartUpdated{Lines: fromLinesJSON(v.Lines), Value: profile.Money(v.Value), Channel: v.Channel}
	case profile.KindReviewPosted:
		var v reviewPostedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.ReviewPosted(v)
	case profile.KindContentShared:
		var v contentSharedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.ContentShared(v)
	case profile.KindCheckedIn:
		var v checkedInJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.CheckedIn(v)
	case profile.KindServiceContacted:
		var v serviceContactedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.ServiceContacted(v)
	case profile.KindMessageEngaged:
		var v messageEngagedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.MessageEngaged(v)
	case profile.KindOrderDelivered:
		var v orderDeliveredJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.OrderDelivered(v)
	case profile.KindCustomerErased:
		var v customerErasedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.CustomerErased(v)
	case profile.KindCustomerUpdated:
		var v customerUpdatedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.CustomerUpdated(v)
	case profile.KindCustomerDeleted:
		var v customerDeletedJSON
		err = json.Unmarshal([]byte(data), &v)
		p = profile.CustomerDeleted{}
	default:
		return nil, fmt.Errorf("store: decode payload: unknown kind %q", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("store: decode %s payload: %w", kind, err)
	}
	return p, nil
}

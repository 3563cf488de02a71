package promotion

import (
	"context"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

// Store is everything the domain keeps. The SQL store implements it for
// SQLite and PostgreSQL.
type Store interface {
	CatalogStore
	UsageStore
	CodeStore
	ReportStore
}

// CatalogStore keeps campaigns and promotions. Every change bumps the
// catalogue version in the same transaction.
type CatalogStore interface {
	CreateCampaign(ctx context.Context, c *Campaign) error
	GetCampaign(ctx context.Context, id string) (*Campaign, error)
	ListCampaigns(ctx context.Context, after string, limit int) ([]*Campaign, error)
	// UpdateCampaign runs fn on the campaign in a transaction that holds
	// it and stores the result, with the audience fn returns frozen when
	// it returns one.
	UpdateCampaign(ctx context.Context, id string, fn func(c *Campaign) ([]AudienceMember, error)) (*Campaign, error)
	CreatePromotion(ctx context.Context, p *Promotion) error
	GetPromotion(ctx context.Context, campaignID, promotionID string) (*Promotion, error)
	ListPromotions(ctx context.Context, campaignID, after string, limit int) ([]*Promotion, error)
	UpdatePromotion(ctx context.Context, campaignID, promotionID string, fn func(p *Promotion, c *Campaign) error) (*Promotion, error)
	DeletePromotion(ctx context.Context, campaignID, promotionID string) error
	// CatalogVersion is the counter every change bumps.
	CatalogVersion(ctx context.Context) (int64, error)
	// LoadActive returns the version and the campaigns stored as active
	// with their promotions, as of one snapshot.
	LoadActive(ctx context.Context) (int64, []*Campaign, []*Promotion, error)
}

// AudienceMember is a customer of a frozen holdout audience.
type AudienceMember struct {
	CustomerID string
	Control    bool
}

// Counters are a promotion's usage as seen by one customer.
type Counters struct {
	Uses, BudgetUsed, StockUsed int64
	CustomerUses, CustomerUnits int64
}

// UsageNeeds says which parts of a Snapshot an evaluation uses: those the
// active promotions and campaigns have limits, audiences or conditions
// for. The store reads only those.
type UsageNeeds struct {
	// PromotionCounters: some promotion limits its uses, budget or stock.
	PromotionCounters bool
	// CampaignBudgets: some campaign has a budget.
	CampaignBudgets bool
	// CustomerUses: some promotion limits uses or flash units per customer.
	CustomerUses bool
	// Frozen: some campaign has a frozen audience.
	Frozen bool
	// Orders: some promotion is for first orders only.
	Orders bool
}

// Snapshot is the usage an evaluation reads in one go.
type Snapshot struct {
	// Promotions by resource name. The maps are nil when nothing was read
	// into them.
	Promotions map[string]Counters
	// CampaignBudgetUsed by campaign id.
	CampaignBudgetUsed map[string]int64
	// Codes found among the cart's (normalised).
	Codes []Code
	// Frozen is the customer's group in each frozen audience it is in:
	// true for control.
	Frozen map[string]bool
	// Orders is how many orders profile's log has shown for the customer.
	Orders int64
}

// Charge is what one applied promotion takes at redemption, and the limits
// the guarded writes check.
type Charge struct {
	CampaignID, PromotionID, Code string
	Cost                          int64
	Units                         int64 // flash or gift units from stock
	CustomerUnits                 int64 // flash units counted per customer
	UsesPerCustomer               int64
	CustomerUnitLimit             int64
}

// ReleaseCharge is what a refund or cancellation gives back to one
// promotion.
type ReleaseCharge struct {
	CampaignID, PromotionID, Code string
	Amount                        int64
	ReleaseUse                    bool
	Units, CustomerUnits          int64
}

// UsageStore keeps redemptions and the counters they move.
type UsageStore interface {
	// Snapshot reads the parts of the usage need says, and the cart's
	// codes.
	Snapshot(ctx context.Context, customerID string, codes []string, need UsageNeeds) (Snapshot, error)
	// Redeem stores r and takes every charge by guarded writes in one
	// transaction. An order already redeemed is returned as existing with
	// nothing written; a limit reached returns ErrLimitRaced.
	Redeem(ctx context.Context, r *Redemption, charges []Charge) (existing *Redemption, err error)
	GetRedemption(ctx context.Context, orderID string) (*Redemption, error)
	// UpdateRedemption runs fn on the redemption in a transaction that
	// holds it, stores the result and gives back what fn releases. A
	// non-empty eventID is recorded in the same transaction, and an event
	// already recorded changes nothing (ok false).
	UpdateRedemption(ctx context.Context, orderID, eventID string, fn func(r *Redemption) ([]ReleaseCharge, error)) (r *Redemption, ok bool, err error)
}

// CodeStore keeps coupon codes and generation operations.
type CodeStore interface {
	// InsertCodes adds codes that are not taken yet and returns the ones
	// that were (to be replaced). With a progress operation, the
	// operation's Done grows by the codes inserted and is stored in the
	// same transaction, so it always counts exactly the codes stored.
	InsertCodes(ctx context.Context, codes []Code, progress *Operation) (taken []string, err error)
	ListCodes(ctx context.Context, campaignID, promotionID, after string, limit int) ([]Code, error)
	CreateOperation(ctx context.Context, op *Operation) error
	UpdateOperation(ctx context.Context, op *Operation) error
	GetOperation(ctx context.Context, id string) (*Operation, error)
}

// ReportStore keeps what profile's log says, for attribution and reports.
type ReportStore interface {
	Cursor(ctx context.Context) (int64, error)
	// ApplyOrders applies a page of orders with its last sequence as the
	// cursor, skipping what is at or below the stored cursor: customer
	// order counts, and each order attributed to the campaigns group
	// returns groups for.
	ApplyOrders(ctx context.Context, last int64, orders []Order, group func(o Order, frozen map[string]bool) []Attribution) error
	CampaignFigures(ctx context.Context, campaignID string) (Figures, error)
}

// Order is an order or refund from profile's log.
type Order struct {
	Sequence   int64
	EventID    string
	OrderID    string
	CustomerID string
	Time       time.Time
	Revenue    int64
	Refund     bool
	Lines      []OrderLine
	// ErasedAs is set for a customer_erased event: the anonymous id the
	// customer's data is re-keyed to.
	ErasedAs string
	// Cart marks a cart_updated event: it changes no promotion state and
	// is recorded only for outreach's cart-abandonment journeys.
	Cart bool
	// Profile is set for a customer_updated or customer_deleted event:
	// what outreach's date triggers keep about the customer.
	Profile *ProfileChange
}

// ProfileChange is a customer's birthday and time zone after a profile
// change, or the customer's deletion.
type ProfileChange struct {
	BirthMonth time.Month // 0 when unknown
	BirthDay   int
	TimeZone   string // IANA name; "" when unknown
	Deleted    bool
}

// OrderLine is a line of an order event.
type OrderLine struct {
	SKU      string
	Quantity int64
}

// Attribution attributes an order to a campaign's group.
type Attribution struct {
	CampaignID string
	Group      Group
}

// Group is a holdout group.
type Group int

const (
	GroupNone Group = iota
	GroupTreatment
	GroupControl
)

// Figures are a campaign's stored figures for its report.
type Figures struct {
	Redemptions     int64
	DiscountCost    int64
	RedeemedRevenue int64
	Members         [3]int64 // by Group
	Converters      [3]int64
	Orders          [3]int64
	Revenue         [3]int64
	TreatmentCost   int64
	Promotions      []*Promotion
	Days            []Day
}

// Day is one day's figures.
type Day struct {
	Day                            string
	Redemptions, DiscountCost      int64
	TreatmentOrders, ControlOrders int64
	Revenue                        int64
}

// RedemptionState is where a redemption is.
type RedemptionState int

const (
	Redeemed RedemptionState = iota + 1
	PartiallyRefunded
	Refunded
	Cancelled
)

// Redemption is what an order used.
type Redemption struct {
	OrderID, CustomerID string
	Fingerprint         string
	State               RedemptionState
	Cart                pricing.Cart
	Result              pricing.Result
	Returned            []pricing.ReturnedLine
	// ReleasedBy is the discount released per promotion name; UsesReleased
	// says the uses were given back.
	ReleasedBy   map[string]int64
	UsesReleased bool
	CreateTime   time.Time
	UpdateTime   time.Time
}

// Released is the discount released so far.
func (r *Redemption) Released() int64 {
	var n int64
	for _, v := range r.ReleasedBy {
		n += v
	}
	return n
}

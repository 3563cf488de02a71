package pricing

import (
	"math"
	"time"
)

// Unlimited is the Remaining… value of a limit that is not set.
const Unlimited int64 = math.MaxInt64

// Audience is what the audience check said about the cart's customer and a
// promotion's campaign.
type Audience int

const (
	// AudienceEveryone: the campaign has no audience (the zero value).
	AudienceEveryone Audience = iota
	// AudienceMember: the customer is in the campaign's audience and in
	// its treatment group.
	AudienceMember
	// AudienceNotMember: the customer is not in the audience.
	AudienceNotMember
	// AudienceHoldout: the customer is in the campaign's control group.
	AudienceHoldout
	// AudienceUnavailable: segmentation or loyalty could not answer.
	AudienceUnavailable
)

// FirstOrder is what is known about whether the cart is the customer's
// first order.
type FirstOrder int

const (
	FirstOrderUnknown FirstOrder = iota
	FirstOrderYes
	FirstOrderNo
)

// Facts are what the store knows about one promotion for this cart, read
// in one batch before evaluation. A Remaining… field is what is left of a
// limit (Unlimited when there is none); 0 or less means none is left.
type Facts struct {
	Audience Audience
	// CampaignLive is true when the promotion's campaign is active and
	// now is inside its schedule.
	CampaignLive bool
	// RemainingUses is left of the promotion's total uses.
	RemainingUses int64
	// RemainingCustomerUses is left of the cart customer's uses.
	RemainingCustomerUses int64
	// RemainingBudget is left of the promotion's own budget.
	RemainingBudget int64
	// RemainingCampaignBudget is left of its campaign's budget (the same
	// figure for every promotion of a campaign: the engine subtracts what
	// earlier promotions of the same campaign took in this cart).
	RemainingCampaignBudget int64
	// RemainingStock is left of a flash price's units or a gift's stock.
	RemainingStock int64
	// RemainingCustomerUnits is left of a flash price's per-customer unit
	// limit for the cart's customer.
	RemainingCustomerUnits int64
}

// OpenFacts returns the facts of a promotion with no limit, no audience
// and a live campaign; callers set what they know on top of it.
func OpenFacts() Facts {
	return Facts{
		Audience:                AudienceEveryone,
		CampaignLive:            true,
		RemainingUses:           Unlimited,
		RemainingCustomerUses:   Unlimited,
		RemainingBudget:         Unlimited,
		RemainingCampaignBudget: Unlimited,
		RemainingStock:          Unlimited,
		RemainingCustomerUnits:  Unlimited,
	}
}

// Candidate is a compiled promotion that may apply, with its facts.
type Candidate struct {
	Promotion *Promotion
	Facts     Facts
}

// CodeStatus is what the store found for a code.
type CodeStatus int

const (
	// CodeNotFound: no such code (the zero value).
	CodeNotFound CodeStatus = iota
	// CodeFound: the code exists, has uses left and may be used by the
	// cart's customer.
	CodeFound
	// CodeUsedUp: the code has no use left.
	CodeUsedUp
	// CodeNotYours: the code is assigned to another customer.
	CodeNotYours
)

// CodeLookup is the store's answer for one code of the cart.
type CodeLookup struct {
	// Code as normalised by couponcode.Normalize.
	Code   string
	Status CodeStatus
	// PromotionID is the promotion the code belongs to (when found, used
	// up or not yours).
	PromotionID string
}

// Context is everything Evaluate needs besides the cart and candidates.
type Context struct {
	// Now is the evaluation time (from the injected clock).
	Now        time.Time
	FirstOrder FirstOrder
	// Codes has one lookup per distinct normalised code of the cart; a
	// code with no lookup is not found.
	Codes []CodeLookup
}

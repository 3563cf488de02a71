package feedback

import (
	"slices"
	"time"
)

// Survey asks customers for an NPS or CSAT score.
type Survey struct {
	ID, DisplayName string
	Kind            SurveyKind
	// Trigger is what sends it: "on_demand", "order_delivered",
	// "ticket_solved".
	Trigger        string
	FollowUpQueue  string
	PromoterPoints int64
	CreateTime     time.Time
	// Journey is the id of the outreach journey that delivers its
	// invitations ("" for none); InvitationDelay the wait after the
	// trigger before an invitation goes.
	Journey         string
	InvitationDelay time.Duration
}

// DefaultLinkBase is the base of survey links when none is configured.
const DefaultLinkBase = "https://shop.example.com/surveys"

// DefaultFollowUpQueue is the queue of follow-up tickets when a survey
// names none.
const DefaultFollowUpQueue = "follow-up"

// RewardState is what became of a promoter's thanks.
type RewardState string

// The reward states.
const (
	RewardNone           RewardState = "none"
	RewardGranted        RewardState = "granted"
	RewardAlreadyGranted RewardState = "already_granted"
	RewardUnavailable    RewardState = "unavailable"
	RewardNotMember      RewardState = "not_member"
)

// Response is one customer's answer to a survey.
type Response struct {
	SurveyID, ID, CustomerID string
	Score                    int
	Comment                  string
	Channel                  Channel
	Dismissed                bool
	ValueTier, LoyaltyTier   string
	FollowUpTicket           string
	Reward                   RewardState
	CreateTime               time.Time
}

// PendingReward is a promoter's response whose thanks loyalty could not
// take yet, with the number of retries that failed.
type PendingReward struct {
	Response
	Attempts int
}

// Operation is an escalation sweep.
type Operation struct {
	ID                           string
	Done, Failed                 bool
	AsOf                         time.Time
	TicketsScanned, StepsApplied int64
	CreateTime, EndTime          time.Time
	ErrorMessage                 string
	// Scheduled is true for a sweep the schedule started.
	Scheduled bool
}

// GroupScore is the score of one group of answers.
type GroupScore struct {
	Key   string
	Score Score
}

// Report is a survey's result over its counted answers.
type Report struct {
	SurveyID                               string
	Kind                                   SurveyKind
	Overall                                Score
	Periods, Channels, ValueTiers, Loyalty []GroupScore
	DetractorComments                      []Response
}

// maxDetractorComments bounds the comments a report lists.
const maxDetractorComments = 100

// BuildReport computes the report of a survey from its responses (newest
// first); dismissed responses do not count.
func BuildReport(s *Survey, responses []Response) Report {
	r := Report{SurveyID: s.ID, Kind: s.Kind}
	groups := [4]map[string]*Score{{}, {}, {}, {}}
	var order [4][]string
	for _, resp := range responses {
		if resp.Dismissed {
			continue
		}
		r.Overall.Tally(s.Kind, resp.Score)
		keys := [4]string{resp.CreateTime.UTC().Format("2006-01"), string(resp.Channel), resp.ValueTier, resp.LoyaltyTier}
		for i, k := range keys {
			g := groups[i][k]
			if g == nil {
				g = &Score{}
				groups[i][k] = g
				order[i] = append(order[i], k)
			}
			g.Tally(s.Kind, resp.Score)
		}
		if BandOf(s.Kind, resp.Score) == Detractor && resp.Comment != "" && len(r.DetractorComments) < maxDetractorComments {
			r.DetractorComments = append(r.DetractorComments, resp)
		}
	}
	r.Overall.Finish(s.Kind)
	out := [4]*[]GroupScore{&r.Periods, &r.Channels, &r.ValueTiers, &r.Loyalty}
	for i := range groups {
		slices.Sort(order[i])
		for _, k := range order[i] {
			g := groups[i][k]
			g.Finish(s.Kind)
			*out[i] = append(*out[i], GroupScore{Key: k, Score: *g})
		}
	}
	return r
}

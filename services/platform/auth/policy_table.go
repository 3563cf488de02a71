package auth

// Role sets the table is written in.
var (
	ops       = []Role{Operator}
	reads     = []Role{Operator, Analyst}
	privacy   = []Role{Privacy}
	storeOps  = []Role{Operator, Storefront}
	storeRead = []Role{Operator, Analyst, Storefront}
)

// with returns roles plus more, as a new slice.
func with(roles []Role, more ...Role) []Role {
	return append(append([]Role{}, roles...), more...)
}

// DefaultPolicy is Tenure's policy: one line per RPC. A new service adds a
// line for each of its RPCs; TestEveryRPCHasAPolicy fails until it does.
func DefaultPolicy() Policy {
	const (
		profile      = "/tenure.profile.v1.ProfileService/"
		segmentation = "/tenure.segmentation.v1.SegmentationService/"
		loyalty      = "/tenure.loyalty.v1.LoyaltyService/"
		feedback     = "/tenure.feedback.v1.FeedbackService/"
		recommend    = "/tenure.segmentation.v1.RecommendationService/"
		changes      = "/tenure.segmentation.v1.AudienceChangeService/"
		promotion    = "/tenure.promotion.v1.PromotionService/"
		outreach     = "/tenure.promotion.v1.OutreachService/"
	)
	return Policy{
		profile + "CreateCustomer":     storeOps,
		profile + "GetCustomer":        with(reads, Service),
		profile + "ListCustomers":      reads,
		profile + "UpdateCustomer":     with(storeOps, Service),
		profile + "DeleteCustomer":     privacy,
		profile + "AddCustomerTags":    ops,
		profile + "RemoveCustomerTags": ops,
		profile + "RecordEvent":        with(storeOps, Service),
		profile + "BatchRecordEvents":  with(storeOps, Service),
		profile + "ListCustomerEvents": with(reads, Service),
		profile + "StreamEvents":       {Service},
		profile + "GetEventLogHead":    with(reads, Service),
		profile + "ExportCustomer":     privacy,
		profile + "EraseCustomer":      privacy,
		profile + "ListAuditRecords":   privacy,

		segmentation + "Recompute":            ops,
		segmentation + "GetOperation":         with(reads, Service),
		segmentation + "ListOperations":       reads,
		segmentation + "GetSettings":          reads,
		segmentation + "UpdateSettings":       ops,
		segmentation + "CreateSegment":        ops,
		segmentation + "GetSegment":           reads,
		segmentation + "ListSegments":         reads,
		segmentation + "UpdateSegment":        ops,
		segmentation + "DeleteSegment":        ops,
		segmentation + "AddSegmentMembers":    ops,
		segmentation + "RemoveSegmentMembers": ops,
		segmentation + "ListMembers":          with(reads, Service),
		segmentation + "GetCustomerScores":    with(reads, Service),
		segmentation + "CheckMembership":      with(reads, Service),
		segmentation + "GetReport":            reads,
		segmentation + "ListSizeHistory":      reads,

		changes + "ListAudienceChanges": with(reads, Service),

		recommend + "GetCustomerRecommendations": with(storeRead, Service),
		recommend + "GetRelatedProducts":         storeRead,
		recommend + "EvaluateRecommendations":    reads,

		loyalty + "GetProgramme":           storeRead,
		loyalty + "UpdateProgramme":        ops,
		loyalty + "CreateMember":           storeOps,
		loyalty + "GetMember":              with(storeRead, Service),
		loyalty + "ListExpiringPoints":     with(reads, Service),
		loyalty + "ListLedgerEntries":      with(storeRead, Service),
		loyalty + "RedeemPoints":           storeOps,
		loyalty + "CancelRedemption":       storeOps,
		loyalty + "AdjustPoints":           with(ops, Service),
		loyalty + "CreateReward":           ops,
		loyalty + "GetReward":              storeRead,
		loyalty + "ListRewards":            storeRead,
		loyalty + "RedeemReward":           storeOps,
		loyalty + "FulfilRewardRedemption": ops,
		loyalty + "CancelRewardRedemption": ops,
		loyalty + "ExpirePoints":           ops,
		loyalty + "EvaluateTiers":          ops,
		loyalty + "GiveBirthdayPoints":     ops,
		loyalty + "GetOperation":           reads,
		loyalty + "GetReport":              reads,
		loyalty + "ExportMember":           privacy,

		feedback + "CreateTicket":             storeOps,
		feedback + "GetTicket":                reads,
		feedback + "ListTickets":              reads,
		feedback + "UpdateTicket":             ops,
		feedback + "CreateTicketComment":      ops,
		feedback + "SolveTicket":              ops,
		feedback + "GetTicketReport":          reads,
		feedback + "CreateClassificationRule": ops,
		feedback + "ListClassificationRules":  reads,
		feedback + "TestClassificationRule":   ops,
		feedback + "CreateSlaPolicy":          ops,
		feedback + "ListSlaPolicies":          reads,
		feedback + "Escalate":                 ops,
		feedback + "GetEscalation":            reads,
		feedback + "CreateSurvey":             ops,
		feedback + "GetSurvey":                storeRead,
		feedback + "SubmitSurveyResponse":     storeOps,
		feedback + "DismissSurveyResponse":    ops,
		feedback + "GetSurveyReport":          reads,
		feedback + "SendSurvey":               ops,

		promotion + "CreateCampaign":    ops,
		promotion + "GetCampaign":       reads,
		promotion + "ListCampaigns":     reads,
		promotion + "UpdateCampaign":    ops,
		promotion + "ActivateCampaign":  ops,
		promotion + "PauseCampaign":     ops,
		promotion + "EndCampaign":       ops,
		promotion + "GetCampaignReport": reads,
		promotion + "CreatePromotion":   ops,
		promotion + "GetPromotion":      reads,
		promotion + "ListPromotions":    reads,
		promotion + "UpdatePromotion":   ops,
		promotion + "DeletePromotion":   ops,
		promotion + "GenerateCodes":     ops,
		promotion + "ImportCodes":       ops,
		promotion + "ListCodes":         reads,
		promotion + "GetOperation":      reads,
		promotion + "EvaluateCart":      storeOps,
		promotion + "RedeemCart":        storeOps,
		promotion + "GetRedemption":     storeRead,
		promotion + "CancelRedemption":  storeOps,
		promotion + "RefundRedemption":  storeOps,

		outreach + "CreateJourney":         ops,
		outreach + "GetJourney":            reads,
		outreach + "ListJourneys":          reads,
		outreach + "PreviewJourneyMessage": ops,
		outreach + "GetMessage":            reads,

		outreach + "UpdateJourney":        ops,
		outreach + "PauseJourney":         ops,
		outreach + "ResumeJourney":        ops,
		outreach + "DeleteJourney":        ops,
		outreach + "ListCustomerMessages": reads,
		outreach + "ListInboxMessages":    storeRead,
		outreach + "MarkInboxMessageRead": storeOps,
		// Engagement: the credential is the signed token or callback; the
		// gateway calls it as itself for the people and providers who have
		// no API key.
		outreach + "RecordEngagement":          with(ops, Service),
		outreach + "GetJourneyReport":          reads,
		outreach + "GetCampaignOutreachReport": reads,
		outreach + "SendJourneyMessage":        with(ops, Service),
	}
}

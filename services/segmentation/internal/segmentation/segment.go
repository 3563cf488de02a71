package segmentation

// segmentTable maps (R score, F score) to an RFM segment, indexed
// [r-1][f-1]. It is docs/concepts.md's rule list written out in full:
//
//	champions          R5,   F4–5
//	loyal              R3–4, F4–5
//	potential_loyalist R4–5, F2–3
//	new_customer       R5,   F1
//	promising          R4,   F1
//	need_attention     R3,   F3
//	about_to_sleep     R3,   F1–2
//	at_risk            R1–2, F3–4
//	cant_lose          R1–2, F5
//	hibernating        R2,   F1–2
//	lost               R1,   F1–2
//
// Those eleven rules cover all 25 (R, F) pairs exactly once (R3 F4–5 and
// R4 F4–5 are loyal; R1–2 F3–4 are at_risk), so no pair needs an invented
// segment. TestSegmentTableMatchesRules checks the table against the rules.
var segmentTable = [5][5]Segment{
	//        F1                   F2                        F3                        F4                F5
	/* R1 */ {SegmentLost, SegmentLost, SegmentAtRisk, SegmentAtRisk, SegmentCantLose},
	/* R2 */ {SegmentHibernating, SegmentHibernating, SegmentAtRisk, SegmentAtRisk, SegmentCantLose},
	/* R3 */ {SegmentAboutToSleep, SegmentAboutToSleep, SegmentNeedAttention, SegmentLoyal, SegmentLoyal},
	/* R4 */ {SegmentPromising, SegmentPotentialLoyalist, SegmentPotentialLoyalist, SegmentLoyal, SegmentLoyal},
	/* R5 */ {SegmentNewCustomer, SegmentPotentialLoyalist, SegmentPotentialLoyalist, SegmentChampions, SegmentChampions},
}

// SegmentFor returns the RFM segment for an R score and an F score, each
// 1–5. It returns SegmentNone if either score is out of range.
func SegmentFor(r, f uint8) Segment {
	if r < 1 || r > 5 || f < 1 || f > 5 {
		return SegmentNone
	}
	return segmentTable[r-1][f-1]
}

package feedback

import "math"

// SurveyKind is the scale a survey asks on.
type SurveyKind string

// The survey kinds.
const (
	KindNPS  SurveyKind = "nps"  // 0–10
	KindCSAT SurveyKind = "csat" // 1–5
)

// z95 is the normal quantile of a two-sided 95 % interval.
const z95 = 1.959963984540054

// Band is where one score falls.
type Band int

// The bands: for NPS promoters 9–10, passives 7–8, detractors 0–6; for
// CSAT satisfied (counted as promoters) 4–5, neutral 3, detractors 1–2.
const (
	Detractor Band = iota + 1
	Passive
	Promoter
)

// BandOf returns the band of score on kind's scale.
func BandOf(kind SurveyKind, score int) Band {
	hi, lo := 9, 6
	if kind == KindCSAT {
		hi, lo = 4, 2
	}
	switch {
	case score >= hi:
		return Promoter
	case score <= lo:
		return Detractor
	}
	return Passive
}

// ScoreRange returns the lowest and highest score of kind's scale.
func ScoreRange(kind SurveyKind) (int, int) {
	if kind == KindCSAT {
		return 1, 5
	}
	return 0, 10
}

// Score is a survey's result over a set of counted answers.
type Score struct {
	Responses, Promoters, Passives, Detractors int64
	// Value is NPS (% promoters − % detractors) or CSAT (% satisfied);
	// Low and High bound its 95 % interval.
	Value, Low, High float64
}

// Tally counts one more answer.
func (s *Score) Tally(kind SurveyKind, score int) {
	s.Responses++
	switch BandOf(kind, score) {
	case Promoter:
		s.Promoters++
	case Passive:
		s.Passives++
	default:
		s.Detractors++
	}
}

// Finish computes Value and its interval from the counts. NPS uses the
// variance of the difference of two multinomial shares; CSAT the Wilson
// score interval of the satisfied share. Both are clamped to their scale.
func (s *Score) Finish(kind SurveyKind) {
	if s.Responses == 0 {
		return
	}
	n := float64(s.Responses)
	p, d := float64(s.Promoters)/n, float64(s.Detractors)/n
	if kind == KindCSAT {
		centre := (p + z95*z95/(2*n)) / (1 + z95*z95/n)
		half := z95 / (1 + z95*z95/n) * math.Sqrt(p*(1-p)/n+z95*z95/(4*n*n))
		s.Value, s.Low, s.High = 100*p, 100*(centre-half), 100*(centre+half)
		return
	}
	nps := p - d
	half := z95 * math.Sqrt((p+d-nps*nps)/n)
	s.Value = 100 * float64(s.Promoters-s.Detractors) / n
	s.Low, s.High = 100*math.Max(-1, nps-half), 100*math.Min(1, nps+half)
}

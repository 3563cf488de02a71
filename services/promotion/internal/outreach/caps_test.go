package outreach

import (
	"testing"
	"time"
)

// counters applies charges as the store does: every guarded write of a
// message succeeds or none does.
type counters struct {
	slots map[string][]time.Time
	days  map[string]int
}

func newCounters() *counters {
	return &counters{slots: map[string][]time.Time{}, days: map[string]int{}}
}

func (c *counters) apply(charges []Charge) bool {
	type take struct {
		key  string
		slot int
		at   time.Time
	}
	var takes []take
	var days []string
	for _, ch := range charges {
		if ch.Rolling() {
			s := c.slots[ch.Key]
			if s == nil {
				s = make([]time.Time, ch.Limit)
				c.slots[ch.Key] = s
			}
			i, ok := TakeSlot(s, ch.At, ch.Window)
			if !ok {
				return false
			}
			takes = append(takes, take{ch.Key, i, ch.At})
			continue
		}
		k := ch.Key + "|" + ch.Day
		if c.days[k] >= ch.Limit {
			return false
		}
		days = append(days, k)
	}
	for _, tk := range takes {
		c.slots[tk.key][tk.slot] = tk.at
	}
	for _, k := range days {
		c.days[k]++
	}
	return true
}

func TestCaps(t *testing.T) {
	week := Cap{Channel: ChannelEmail, Limit: 2, Window: 7 * 24 * time.Hour}
	day := Cap{Channel: ChannelSMS, Limit: 1, PerLocalDay: true}
	type send struct {
		at      string // UTC
		channel Channel
		journey string
		want    bool
	}
	tests := []struct {
		name  string
		caps  []Cap
		zone  string
		sends []send
	}{
		{"2 per week: Monday and Wednesday sent, Thursday suppressed", []Cap{week}, "UTC", []send{
			{"2026-06-01T10:00:00Z", ChannelEmail, "a", true},  // Monday
			{"2026-06-03T10:00:00Z", ChannelEmail, "b", true},  // Wednesday
			{"2026-06-04T10:00:00Z", ChannelEmail, "a", false}, // Thursday
			{"2026-06-08T09:59:00Z", ChannelEmail, "a", false}, // Monday's send is still within the week
			{"2026-06-08T10:00:00Z", ChannelEmail, "a", true},  // a week after Monday's
			{"2026-06-10T09:00:00Z", ChannelEmail, "a", false}, // Wednesday's and this Monday's
			{"2026-06-10T10:00:00Z", ChannelEmail, "a", true},
		}},
		{"1 per day: 23:00 sent, 00:05 the next local day sent", []Cap{day}, "America/New_York", []send{
			{"2026-06-11T03:00:00Z", ChannelSMS, "a", true},  // 23:00 EDT on 10 June
			{"2026-06-11T04:05:00Z", ChannelSMS, "a", true},  // 00:05 EDT on 11 June
			{"2026-06-11T20:00:00Z", ChannelSMS, "b", false}, // 16:00 the same local day
			{"2026-06-12T04:00:00Z", ChannelSMS, "b", true},  // 00:00 on 12 June
		}},
		{"1 per day counts local days, not UTC days", []Cap{day}, "Asia/Tokyo", []send{
			{"2026-06-10T14:00:00Z", ChannelSMS, "a", true},  // 23:00 JST on 10 June
			{"2026-06-10T15:05:00Z", ChannelSMS, "a", true},  // 00:05 JST on 11 June, same UTC day
			{"2026-06-10T23:00:00Z", ChannelSMS, "a", false}, // 08:00 JST on 11 June
		}},
		{"1 per day on the 25-hour day the clocks go back", []Cap{day}, "America/New_York", []send{
			{"2026-11-01T04:30:00Z", ChannelSMS, "a", true},  // 00:30 EDT on 1 November
			{"2026-11-02T04:30:00Z", ChannelSMS, "a", false}, // 23:30 EST, still 1 November
			{"2026-11-02T05:00:00Z", ChannelSMS, "a", true},  // 00:00 EST on 2 November
		}},
		{"caps are per channel", []Cap{week, day}, "UTC", []send{
			{"2026-06-01T10:00:00Z", ChannelSMS, "a", true},
			{"2026-06-01T10:01:00Z", ChannelEmail, "a", true},
			{"2026-06-01T10:02:00Z", ChannelPush, "a", true},
			{"2026-06-01T10:03:00Z", ChannelPush, "a", true},
			{"2026-06-01T10:04:00Z", ChannelSMS, "a", false},
		}},
		{"a journey's own cap leaves other journeys alone", []Cap{{Journey: "a", Channel: ChannelEmail, Limit: 1, Window: 24 * time.Hour}}, "UTC", []send{
			{"2026-06-01T10:00:00Z", ChannelEmail, "a", true},
			{"2026-06-01T11:00:00Z", ChannelEmail, "b", true},
			{"2026-06-01T12:00:00Z", ChannelEmail, "a", false},
			{"2026-06-02T10:00:00Z", ChannelEmail, "a", true},
		}},
		{"a suppressed send takes nothing from the other caps", []Cap{{Channel: ChannelEmail, Limit: 1, PerLocalDay: true}, week}, "UTC", []send{
			{"2026-06-01T10:00:00Z", ChannelEmail, "a", true},
			{"2026-06-01T11:00:00Z", ChannelEmail, "a", false}, // the day cap; the week keeps its second slot
			{"2026-06-02T10:00:00Z", ChannelEmail, "a", true},
			{"2026-06-03T10:00:00Z", ChannelEmail, "a", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := zone(t, tt.zone)
			c := newCounters()
			for _, s := range tt.sends {
				got := c.apply(Charges(tt.caps, "c1", s.journey, s.channel, false, utc(s.at), loc))
				if got != s.want {
					t.Errorf("send at %s on %s from %s: got sent %v, want %v", s.at, s.channel, s.journey, got, s.want)
				}
			}
		})
	}
}

func TestTransactionalIsExempt(t *testing.T) {
	caps := []Cap{{Channel: ChannelEmail, Limit: 1, PerLocalDay: true}}
	if got := Charges(caps, "c1", "j", ChannelEmail, true, utc("2026-06-01T10:00:00Z"), time.UTC); len(got) != 0 {
		t.Errorf("transactional: got charges %+v, want none", got)
	}
}

func TestTakeSlot(t *testing.T) {
	at := utc("2026-06-08T10:00:00Z")
	week := 7 * 24 * time.Hour
	tests := []struct {
		name     string
		slots    []time.Time
		wantSlot int
		wantOK   bool
	}{
		{"never used", []time.Time{{}, {}}, 0, true},
		{"one free", []time.Time{utc("2026-06-05T10:00:00Z"), {}}, 1, true},
		{"oldest left the window", []time.Time{utc("2026-06-05T10:00:00Z"), utc("2026-06-01T09:00:00Z")}, 1, true},
		{"oldest exactly a window ago", []time.Time{utc("2026-06-01T10:00:00Z"), utc("2026-06-05T10:00:00Z")}, 0, true},
		{"all within the window", []time.Time{utc("2026-06-01T10:00:01Z"), utc("2026-06-05T10:00:00Z")}, 0, false},
		{"no slots", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slot, ok := TakeSlot(tt.slots, at, week)
			if slot != tt.wantSlot || ok != tt.wantOK {
				t.Errorf("got slot %d ok %v, want slot %d ok %v", slot, ok, tt.wantSlot, tt.wantOK)
			}
		})
	}
}

func TestCapCheck(t *testing.T) {
	tests := []struct {
		name string
		c    Cap
		path string // "" for valid
	}{
		{"rolling", Cap{Channel: ChannelEmail, Limit: 2, Window: 7 * 24 * time.Hour}, ""},
		{"per day", Cap{Channel: ChannelSMS, Limit: 1, PerLocalDay: true}, ""},
		{"no channel", Cap{Limit: 1, PerLocalDay: true}, "caps[0].channel"},
		{"zero limit", Cap{Channel: ChannelSMS, PerLocalDay: true}, "caps[0].limit"},
		{"both", Cap{Channel: ChannelSMS, Limit: 1, PerLocalDay: true, Window: time.Hour}, "caps[0].window"},
		{"neither", Cap{Channel: ChannelSMS, Limit: 1}, "caps[0].window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Check("caps[0]")
			if got := fieldOf(err); got != tt.path {
				t.Errorf("got %v, want an error on %q", err, tt.path)
			}
		})
	}
}

package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBar draws one line, rewritten in place, on a terminal.
type progressBar struct {
	w     io.Writer
	total int
	unit  string // what is counted, e.g. "events"
	start time.Time
	drawn bool
}

const barWidth = 30

func newProgressBar(w io.Writer, total int, unit string, start time.Time) *progressBar {
	p := &progressBar{w: w, total: total, unit: unit, start: start}
	p.update(0, start)
	return p
}

// update redraws the bar. Until the total is known (an operation that has
// just started reports 0) the bar is empty and the total shows as "?".
func (p *progressBar) update(done int, now time.Time) {
	frac := 0.0
	total := "?"
	if p.total > 0 {
		frac = min(max(float64(done)/float64(p.total), 0), 1)
		total = grouped(p.total)
	}
	filled := int(frac * barWidth)
	rate := 0.0
	if d := now.Sub(p.start).Seconds(); d > 0 {
		rate = float64(done) / d
	}
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %s/%s %s  %s/s ",
		strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled),
		frac*100, grouped(done), total, p.unit, grouped(int(rate)))
	p.drawn = true
}

// interrupt ends the bar's line so that a message can be printed; the
// next update draws the bar again below it.
func (p *progressBar) interrupt() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (p *progressBar) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

package ingest

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progressInterval throttles redraws to about ten a second.
const progressInterval = 100 * time.Millisecond

// Progress draws a one-line progress bar — count, rate and, when the total
// is known, a bar, percentage and ETA — on a terminal. On anything else
// (a file, a pipe, CI logs) it prints nothing. Add and Done are safe for
// concurrent use; Add is cheap (an atomic add) between redraws.
type Progress struct {
	count atomic.Int64

	w       io.Writer // nil when disabled
	label   string
	total   int64
	width   int
	now     func() time.Time
	start   time.Time
	lastAt  atomic.Int64 // unix nanos of the last redraw
	drawing sync.Mutex   // serialises redraws
	done    atomic.Bool
}

// NewProgress returns a reporter for label that writes to f when f is a
// terminal. total is the expected count, or <= 0 when unknown.
func NewProgress(f *os.File, label string, total int64) *Progress {
	if f == nil || !term.IsTerminal(int(f.Fd())) {
		return &Progress{}
	}
	width := 80
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
		width = w
	}
	return newProgress(f, label, total, width, time.Now)
}

func newProgress(w io.Writer, label string, total int64, width int, now func() time.Time) *Progress {
	p := &Progress{w: w, label: label, total: total, width: width, now: now}
	p.start = now()
	return p
}

// Add counts n more items done and redraws if the last redraw is older
// than a tenth of a second.
func (p *Progress) Add(n int) {
	c := p.count.Add(int64(n))
	if p.w == nil || p.done.Load() {
		return
	}
	now := p.now()
	last := p.lastAt.Load()
	if now.UnixNano()-last < int64(progressInterval) || !p.lastAt.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	p.drawing.Lock()
	defer p.drawing.Unlock()
	if !p.done.Load() { // Done may have ended the line meanwhile
		p.draw(c, now, false)
	}
}

// Count returns the number of items added so far.
func (p *Progress) Count() int64 { return p.count.Load() }

// Done draws the final state and ends the line. Later calls do nothing.
func (p *Progress) Done() {
	if p.w == nil || p.done.Swap(true) {
		return
	}
	p.drawing.Lock()
	defer p.drawing.Unlock()
	p.draw(p.count.Load(), p.now(), true)
}

func (p *Progress) draw(c int64, now time.Time, final bool) {
	elapsed := now.Sub(p.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(c) / s
	}
	var stats string
	if p.total > 0 {
		pct := 100 * float64(c) / float64(p.total)
		stats = fmt.Sprintf(" %d/%d %5.1f%% %s/s", c, p.total, pct, humanRate(rate))
		switch {
		case final:
			stats += " in " + roundDuration(elapsed).String()
		case rate > 0 && c < p.total:
			eta := time.Duration(float64(p.total-c) / rate * float64(time.Second))
			stats += " ETA " + roundDuration(eta).String()
		}
	} else {
		stats = fmt.Sprintf(" %d %s/s %s", c, humanRate(rate), roundDuration(elapsed))
	}
	line := p.label
	if p.total > 0 {
		if barWidth := p.width - len(line) - len(stats) - 4; barWidth >= 10 {
			filled := int(float64(barWidth) * min(float64(c)/float64(p.total), 1))
			line += " [" + strings.Repeat("=", filled) + strings.Repeat(" ", barWidth-filled) + "]"
		}
	}
	line += stats
	end := ""
	if final {
		end = "\n"
	}
	// \r returns to column 0, \x1b[K clears what a longer previous line left.
	fmt.Fprintf(p.w, "\r%s\x1b[K%s", line, end)
}

func humanRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.1fM", r/1e6)
	case r >= 1e4:
		return fmt.Sprintf("%.1fk", r/1e3)
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

func roundDuration(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

package chunk

import (
	"container/heap"
	"slices"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
)

// region is a stretch of the document text that belongs to one section
// (or to none), the unit chunks may not cross.
type region struct {
	start, end int
	title      string
}

// regions cuts text at every section boundary and gives each piece the
// title of the innermost section covering it: the one that starts last
// (then the deeper level, then the later in the list). Text covered by no
// section, such as text before the first heading, gets "". Sections may
// nest or not; out-of-range offsets are clamped and offsets inside a UTF-8
// sequence are moved back to its start. Time O(s log s) for s sections.
func regions(text string, sections []base.Section) []region {
	n := len(text)
	if len(sections) == 0 {
		return []region{{0, n, ""}}
	}
	secs := make([]sec, 0, len(sections))
	points := []int{0, n}
	for i, s := range sections {
		a, b := runeFloor(text, s.Start), runeFloor(text, s.End)
		if a >= b {
			continue
		}
		secs = append(secs, sec{start: a, end: b, level: s.Level, idx: i, title: s.Title})
		points = append(points, a, b)
	}
	slices.Sort(points)
	points = slices.Compact(points)
	slices.SortFunc(secs, func(x, y sec) int { return x.start - y.start })

	var out []region
	var active secHeap
	next, owner := 0, -2 // owner of the last region: section idx, -1 for none
	for i := 0; i+1 < len(points); i++ {
		p, q := points[i], points[i+1]
		for next < len(secs) && secs[next].start <= p {
			heap.Push(&active, secs[next])
			next++
		}
		for active.Len() > 0 && active[0].end <= p {
			heap.Pop(&active)
		}
		idx, title := -1, ""
		if active.Len() > 0 {
			idx, title = active[0].idx, active[0].title
		}
		if idx == owner && len(out) > 0 {
			out[len(out)-1].end = q
			continue
		}
		out = append(out, region{p, q, title})
		owner = idx
	}
	return out
}

// runeFloor clamps off to [0, len(s)] and moves it back to a rune start.
func runeFloor(s string, off int) int {
	off = min(max(off, 0), len(s))
	for off > 0 && off < len(s) && !utf8.RuneStart(s[off]) {
		off--
	}
	return off
}

type sec struct {
	start, end, level, idx int
	title                  string
}

// secHeap orders the sections that have started innermost first. A
// section that has ended is dropped when it reaches the top; below the
// top it does no harm.
type secHeap []sec

func (h secHeap) Len() int { return len(h) }
func (h secHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.start != b.start {
		return a.start > b.start
	}
	if a.level != b.level {
		return a.level > b.level
	}
	return a.idx > b.idx
}
func (h secHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *secHeap) Push(x any)   { *h = append(*h, x.(sec)) }
func (h *secHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

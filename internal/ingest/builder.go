package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
)

// textBuilder assembles the plain text of a structured document (Markdown,
// HTML) and the sections found in it. Breaks are lazy: a requested line or
// paragraph break is written only when more text follows, so the output
// never starts or ends with one and never holds more than one blank line.
//
// Sections partition the text from the first heading on: each runs from the
// first byte of its heading line to the end of the text before the next
// heading (or the end of the document), so they never overlap.
type textBuilder struct {
	b        strings.Builder
	sections []base.Section

	brk   int  // pending break: 0 none, 1 line, 2 paragraph
	space bool // pending inter-word space (collapsing mode)

	// open section waiting for its first byte of heading text
	pendingTitle string
	pendingLevel int
	pending      bool
}

// grow makes room for n bytes of text, so that a builder whose size is
// known roughly is not grown by doubling (a garbage series twice its size).
func (t *textBuilder) grow(n int) { t.b.Grow(n) }

func (t *textBuilder) lineBreak() {
	if t.brk < 1 {
		t.brk = 1
	}
	t.space = false
}

func (t *textBuilder) paraBreak() {
	t.brk = 2
	t.space = false
}

// flush writes pending breaks and spaces before new text.
func (t *textBuilder) flush() {
	if t.pending {
		t.closeSection() // the previous section ends before the break
	}
	if t.b.Len() == 0 {
		t.brk, t.space = 0, false
	}
	switch t.brk {
	case 1:
		t.b.WriteByte('\n')
	case 2:
		t.b.WriteString("\n\n")
	default:
		if t.space {
			t.b.WriteByte(' ')
		}
	}
	t.brk, t.space = 0, false
	if t.pending {
		t.pending = false
		t.sections = append(t.sections, base.Section{
			Title: t.pendingTitle, Level: t.pendingLevel, Start: t.b.Len(), End: -1,
		})
	}
}

// closeSection ends the open section at the current end of text.
func (t *textBuilder) closeSection() {
	if n := len(t.sections); n > 0 && t.sections[n-1].End < 0 {
		t.sections[n-1].End = t.b.Len()
	}
}

// raw appends s verbatim (code, preformatted text).
func (t *textBuilder) raw(s string) {
	if s == "" {
		return
	}
	t.flush()
	t.b.WriteString(s)
}

// inline appends s collapsing every run of white space to one space; spaces
// at the edges become pending so that adjacent inline runs join correctly.
func (t *textBuilder) inline(s string) {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if unicode.IsSpace(r) {
			if t.b.Len() > 0 || t.pending {
				t.space = true
			}
			s = s[n:]
			continue
		}
		end := strings.IndexFunc(s, unicode.IsSpace)
		if end < 0 {
			end = len(s)
		}
		t.flush()
		t.b.WriteString(s[:end])
		s = s[end:]
	}
}

// heading writes a heading line and opens its section. Empty headings
// produce neither text nor a section.
func (t *textBuilder) heading(title string, level int) {
	title = collapseSpace(title)
	if title == "" {
		return
	}
	t.paraBreak()
	t.pending, t.pendingTitle, t.pendingLevel = true, title, level
	t.raw(title)
	t.paraBreak()
}

// cellSeparator joins the cells of a flattened table row.
const cellSeparator = " | "

// separator writes a literal separator (table cells) unless at line start.
func (t *textBuilder) separator(sep string) {
	if t.b.Len() == 0 || t.brk > 0 {
		return
	}
	t.space = false
	t.b.WriteString(sep)
}

func (t *textBuilder) result() (string, []base.Section) {
	t.closeSection()
	return t.b.String(), t.sections
}

// collapseSpace trims s and collapses inner white space runs to one space:
// strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ") in one pass
// and one allocation, without the list of words.
func collapseSpace(s string) string {
	var b strings.Builder
	start := -1 // of the current word
	for i, r := range s {
		switch space := unicode.IsSpace(r); {
		case space && start >= 0:
			if b.Len() == 0 {
				b.Grow(len(s) - start)
			} else {
				b.WriteByte(' ')
			}
			b.WriteString(s[start:i])
			start = -1
		case !space && start < 0:
			start = i
		}
	}
	if start >= 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[start:])
	}
	return b.String()
}

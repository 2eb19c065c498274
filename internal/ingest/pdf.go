package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"

	"github.com/quarry-rag/quarry/internal/base"
)

// Bounds on the page tree walk, which a malformed file could make cyclic:
// the library exposes no object identity to detect cycles with, so the walk
// is bounded in depth and nodes and stops at the declared page count.
const (
	maxPageTreeDepth = 64
	maxPageTreeNodes = 1 << 17
)

func loadPDF(ctx context.Context, path string, o *Options) (base.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return base.Document{}, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return base.Document{}, fmt.Errorf("ingest: %w", err)
	}
	d, err := pdfDoc(ctx, f, fi.Size(), filepath.Base(o.fileName(path)), o)
	if err != nil {
		return base.Document{}, err
	}
	return wholeFile(path, o, d)
}

// pdfDoc extracts the text layer of a PDF: pages in order, separated by a
// blank line. Glyphs are laid out into lines by position, with a space where
// the gap between glyphs is wide, which works for the simple layouts of most
// generated PDFs but not for multi-column or rotated text.
func pdfDoc(ctx context.Context, r io.ReaderAt, size int64, name string, o *Options) (d base.Document, err error) {
	defer func() {
		if x := recover(); x != nil {
			d, err = base.Document{}, fmt.Errorf("%w: PDF library panic: %v", ErrCorrupt, x)
		}
	}()
	rd, err := pdf.NewReader(r, size)
	if err != nil {
		if isEncryptionError(err, r, size) {
			return base.Document{}, fmt.Errorf("%w: %v", ErrEncrypted, err)
		}
		return base.Document{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	root := rd.Trailer().Key("Root").Key("Pages")
	var pages []pdf.Page
	budget := maxPageTreeNodes
	limit := root.Key("Count").Int64()
	if limit <= 0 || limit > maxPageTreeNodes {
		limit = maxPageTreeNodes
	}
	collectPages(root, 0, int(limit), &pages, &budget)
	if len(pages) == 0 {
		return base.Document{}, fmt.Errorf("%w: no pages", ErrCorrupt)
	}
	var text strings.Builder
	for _, p := range pages {
		if err := ctx.Err(); err != nil {
			return base.Document{}, err
		}
		pt := pageText(p)
		if pt == "" {
			continue
		}
		if text.Len() > 0 {
			text.WriteString("\n\n")
		}
		text.WriteString(pt)
		if int64(text.Len()) > o.MaxDocBytes {
			return base.Document{}, fmt.Errorf("%w: more than %d bytes of text", ErrTooLarge, o.MaxDocBytes)
		}
	}
	if isBlank(text.String()) {
		return base.Document{}, fmt.Errorf("%w: %d page(s) without a text layer", ErrNoText, len(pages))
	}
	d.Text = text.String()
	d.Metadata = base.Metadata{"pages": base.Number(float64(len(pages)))}
	d.Title = cleanPDFString(rd.Trailer().Key("Info").Key("Title").Text())
	if d.Title == "" {
		d.Title = firstLineTitle(d.Text, name)
	}
	return d, nil
}

// isEncryptionError tells an encrypted file we cannot open (a user password
// is needed, or the scheme is unsupported) from a malformed one. The PDF
// library has one sentinel; other encryption failures are recognised by
// the /Encrypt key in the trailer near the end of the file.
func isEncryptionError(err error, r io.ReaderAt, size int64) bool {
	if errors.Is(err, pdf.ErrInvalidPassword) || strings.Contains(err.Error(), "encrypt") {
		return true
	}
	const tail = 4096
	off := max(size-tail, 0)
	buf := make([]byte, size-off)
	n, _ := r.ReadAt(buf, off)
	return bytes.Contains(buf[:n], []byte("/Encrypt"))
}

// collectPages appends the leaves of the page tree under v in order, at
// most limit of them.
func collectPages(v pdf.Value, depth, limit int, out *[]pdf.Page, budget *int) {
	if depth > maxPageTreeDepth || *budget <= 0 || len(*out) >= limit {
		return
	}
	*budget--
	switch v.Key("Type").Name() {
	case "Pages":
		kids := v.Key("Kids")
		for i := 0; i < kids.Len(); i++ {
			collectPages(kids.Index(i), depth+1, limit, out, budget)
		}
	case "Page":
		*out = append(*out, pdf.Page{V: v})
	}
}

// pageText lays a page's glyphs out as lines of text.
func pageText(p pdf.Page) string {
	if p.V.Key("Contents").Kind() == pdf.Null {
		return ""
	}
	var b strings.Builder
	var prev pdf.Text
	have := false
	glyphs := p.Content().Text
	// A page that draws its spaces as glyphs (groff, word processors)
	// spaces its words itself; gaps between text runs there are kerning
	// and justification (up to more than an em in groff output), not
	// missing spaces, unless they are wider than a tab stop.
	gapFactor := 0.2
	if spaces := countSpaces(glyphs); spaces*25 > len(glyphs) {
		gapFactor = 1.5
	}
	for _, g := range glyphs {
		if g.S == "\n" || g.S == "" { // the library marks the end of a TJ array
			continue
		}
		fs := math.Max(math.Abs(g.FontSize), 1)
		if have {
			dy := math.Abs(g.Y - prev.Y)
			switch {
			case dy > 1.9*fs:
				b.WriteString("\n\n")
			case dy > 0.5*fs:
				b.WriteByte('\n')
			default:
				end := prev.X
				if prev.W > 0 {
					end += prev.W
				}
				gap := g.X - end
				if gap > gapFactor*fs || g.X < prev.X-fs { // a word gap, or a jump back
					writeSpace(&b)
				}
			}
		}
		b.WriteString(g.S)
		prev, have = g, true
	}
	return joinHyphenated(tidyLines(ligatures.Replace(cleanPDFString(b.String()))))
}

func countSpaces(glyphs []pdf.Text) int {
	n := 0
	for _, g := range glyphs {
		if g.S == " " {
			n++
		}
	}
	return n
}

// ligatures spells out the Latin ligature code points fonts map their
// ligature glyphs to, so that "ﬁnd" is found by a search for "find".
var ligatures = strings.NewReplacer(
	"\uFB00", "ff", "\uFB01", "fi", "\uFB02", "fl", "\uFB03", "ffi", "\uFB04", "ffl",
	"\uFB05", "st", "\uFB06", "st",
)

// joinHyphenated undoes end-of-line hyphenation: a line ending in a
// letter and "-" followed by a line starting with a lower-case letter is
// joined without the hyphen ("col-\numn" → "column"). A compound broken at
// its hyphen ("well-\nknown") loses its hyphen too; justified text breaks
// inside words far more often.
func joinHyphenated(s string) string {
	if !strings.Contains(s, "-\n") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "-\n")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+2:])
		if unicode.IsLetter(before) && unicode.IsLower(after) {
			b.WriteString(s[:i])
		} else {
			b.WriteString(s[:i+2])
		}
		s = s[i+2:]
	}
}

func writeSpace(b *strings.Builder) {
	s := b.String()
	if s != "" && !unicode.IsSpace(rune(s[len(s)-1])) {
		b.WriteByte(' ')
	}
}

// cleanPDFString makes text from a PDF valid UTF-8 (the library passes
// through undecodable bytes) and drops NUL and other C0 controls but tab
// and newline.
func cleanPDFString(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = normalizeNewlines(s)
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
}

// tidyLines trims each line, drops white space only lines at the edges and
// keeps at most one blank line between lines of text.
func tidyLines(s string) string {
	var b strings.Builder
	blank := 0
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			if blank > 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		blank = 0
		b.WriteString(line)
	}
	return b.String()
}

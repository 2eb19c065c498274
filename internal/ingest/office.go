package ingest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/quarry-rag/quarry/internal/base"
)

// cfbMagic starts an OLE compound file: what an encrypted (or a pre-2007)
// Office document is instead of a ZIP container.
var cfbMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// openOffice opens an Office Open XML or EPUB container, telling an
// encrypted Office file (a compound file holding an encrypted package)
// from a corrupt one.
func openOffice(p string) (*zipArchive, error) {
	z, err := openZip(p, maxUnzipBytes)
	if err == nil || !errors.Is(err, ErrCorrupt) {
		return z, err
	}
	if f, oerr := os.Open(p); oerr == nil {
		head := make([]byte, len(cfbMagic))
		n, _ := io.ReadFull(f, head)
		f.Close()
		if bytes.Equal(head[:n], cfbMagic) {
			return nil, fmt.Errorf("%w: an OLE compound file (a password-protected or pre-2007 Office document)", ErrEncrypted)
		}
	}
	return nil, err
}

// xmlTokens calls fn for every token of an XML part. The decoder is strict
// about structure; undefined entities and unknown character sets fail with
// ErrCorrupt.
func xmlTokens(ctx context.Context, raw []byte, fn func(xml.Token) error) error {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return r, nil
		}
		return nil, fmt.Errorf("unsupported charset %q", label)
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: XML: %v", ErrCorrupt, err)
		}
		if err := fn(tok); err != nil {
			return err
		}
	}
}

func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// coreTitle reads dc:title from docProps/core.xml, if present.
func coreTitle(ctx context.Context, z *zipArchive) string {
	if !z.has("docProps/core.xml") {
		return ""
	}
	raw, err := z.read(ctx, "docProps/core.xml")
	if err != nil {
		return ""
	}
	var title strings.Builder
	in := false
	_ = xmlTokens(ctx, raw, func(tok xml.Token) error {
		switch t := tok.(type) {
		case xml.StartElement:
			in = t.Name.Local == "title"
		case xml.EndElement:
			in = false
		case xml.CharData:
			if in {
				title.Write(t)
			}
		}
		return nil
	})
	return cleanText(collapseSpace(title.String()))
}

// cleanText makes extracted text valid UTF-8 without C0 controls but tab
// and newline.
func cleanText(s string) string { return cleanPDFString(s) }

// docxHeadingLevels maps a DOCX paragraph style id to a heading level
// (1–6) from styles.xml: styles named "heading N" or "Title".
func docxHeadingLevels(ctx context.Context, z *zipArchive) map[string]int {
	levels := map[string]int{}
	if !z.has("word/styles.xml") {
		return levels
	}
	raw, err := z.read(ctx, "word/styles.xml")
	if err != nil {
		return levels
	}
	id := ""
	_ = xmlTokens(ctx, raw, func(tok xml.Token) error {
		t, ok := tok.(xml.StartElement)
		if !ok {
			return nil
		}
		switch t.Name.Local {
		case "style":
			id = attr(t, "styleId")
		case "name":
			if lvl := headingStyleLevel(attr(t, "val")); lvl > 0 && id != "" {
				levels[id] = lvl
			}
		}
		return nil
	})
	return levels
}

// headingStyleLevel reads a heading level from a style name.
func headingStyleLevel(name string) int {
	n := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	if n == "title" {
		return 1
	}
	if rest, ok := strings.CutPrefix(n, "heading"); ok {
		if l, err := strconv.Atoi(rest); err == nil && l >= 1 {
			return min(l, 6)
		}
	}
	return 0
}

func loadDOCX(ctx context.Context, p string, o *Options) (base.Document, error) {
	z, err := openOffice(p)
	if err != nil {
		return base.Document{}, err
	}
	defer z.Close()
	d, err := docxDoc(ctx, z, o)
	if err != nil {
		return base.Document{}, err
	}
	return wholeFile(p, o, d)
}

// docxDoc extracts the body of word/document.xml: paragraphs in order
// (runs' w:t text, tabs and breaks as spaces), headings from the paragraph
// style or outline level, table rows flattened to "a | b" lines. Deleted
// revisions (w:delText) and field codes (w:instrText) are left out.
func docxDoc(ctx context.Context, z *zipArchive, o *Options) (base.Document, error) {
	raw, err := z.read(ctx, "word/document.xml")
	if err != nil {
		return base.Document{}, fmt.Errorf("DOCX: %w", err)
	}
	levels := docxHeadingLevels(ctx, z)
	var (
		t          textBuilder
		para       strings.Builder
		level      int
		inText     bool
		tblDepth   int
		cell       strings.Builder
		cells      []string
		paragraphs int
	)
	endPara := func() {
		s := collapseSpace(para.String())
		para.Reset()
		lvl := level
		level = 0
		if s == "" {
			return
		}
		paragraphs++
		if tblDepth > 0 {
			if cell.Len() > 0 {
				cell.WriteByte(' ')
			}
			cell.WriteString(s)
			return
		}
		if lvl > 0 {
			t.heading(s, lvl)
			return
		}
		t.paraBreak()
		t.inline(s)
		t.paraBreak()
	}
	err = xmlTokens(ctx, raw, func(tok xml.Token) error {
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "p":
				para.Reset()
				level = 0
			case "t":
				inText = true
			case "tab", "br", "cr":
				para.WriteByte(' ')
			case "pStyle":
				if l := levels[attr(e, "val")]; l > 0 {
					level = l
				} else if l := headingStyleLevel(attr(e, "val")); l > 0 {
					level = l
				}
			case "outlineLvl":
				if l, err := strconv.Atoi(attr(e, "val")); err == nil && l >= 0 && l < 9 && level == 0 {
					level = min(l+1, 6)
				}
			case "tbl":
				tblDepth++
			case "tc":
				if tblDepth == 1 {
					cell.Reset()
				}
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "t":
				inText = false
			case "p":
				endPara()
			case "tc":
				if tblDepth == 1 {
					cells = append(cells, cell.String())
					cell.Reset()
				}
			case "tr":
				if tblDepth == 1 {
					writeRow(&t, cells)
					cells = cells[:0]
				}
			case "tbl":
				tblDepth = max(tblDepth-1, 0)
				if tblDepth == 0 {
					t.paraBreak()
				}
			}
		case xml.CharData:
			if inText {
				para.WriteString(cleanText(string(e)))
				if int64(para.Len()+t.b.Len()) > o.MaxDocBytes {
					return fmt.Errorf("%w: more than %d bytes of text", ErrTooLarge, o.MaxDocBytes)
				}
			}
		}
		return nil
	})
	if err != nil {
		return base.Document{}, err
	}
	var d base.Document
	d.Text, d.Sections = t.result()
	d.Title = coreTitle(ctx, z)
	return d, nil
}

// writeRow writes one table row as a line of cells joined by " | ",
// leaving out a row whose cells are all empty.
func writeRow(t *textBuilder, cells []string) {
	empty := true
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			empty = false
		}
	}
	if empty {
		return
	}
	t.lineBreak()
	for i, c := range cells {
		if i > 0 {
			t.flush()
			t.b.WriteString(cellSeparator)
		}
		t.inline(c)
	}
	t.lineBreak()
}

func loadPPTX(ctx context.Context, p string, o *Options) (base.Document, error) {
	z, err := openOffice(p)
	if err != nil {
		return base.Document{}, err
	}
	defer z.Close()
	d, err := pptxDoc(ctx, z, o)
	if err != nil {
		return base.Document{}, err
	}
	return wholeFile(p, o, d)
}

// slideNumber reads N from ppt/slides/slideN.xml.
func slideNumber(name string) int {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "ppt/slides/slide"), ".xml"))
	if err != nil {
		return -1
	}
	return n
}

// pptxDoc extracts the slides in number order. Each slide is a section
// headed by its title placeholder's text (or "Slide N"); every other
// paragraph of text (a:p with a:t runs) follows it. Notes are left out.
func pptxDoc(ctx context.Context, z *zipArchive, o *Options) (base.Document, error) {
	var slides []string
	for _, n := range z.names("ppt/slides/slide", ".xml") {
		if slideNumber(n) >= 0 && !strings.Contains(strings.TrimPrefix(n, "ppt/slides/"), "/") {
			slides = append(slides, n)
		}
	}
	if len(slides) == 0 {
		return base.Document{}, fmt.Errorf("%w: PPTX without slides", ErrCorrupt)
	}
	sort.Slice(slides, func(i, j int) bool { return slideNumber(slides[i]) < slideNumber(slides[j]) })
	var t textBuilder
	for _, name := range slides {
		raw, err := z.read(ctx, name)
		if err != nil {
			return base.Document{}, fmt.Errorf("PPTX: %w", err)
		}
		var (
			title   []string
			body    []string
			para    strings.Builder
			inText  bool
			isTitle bool
		)
		err = xmlTokens(ctx, raw, func(tok xml.Token) error {
			switch e := tok.(type) {
			case xml.StartElement:
				switch e.Name.Local {
				case "sp":
					isTitle = false
				case "ph":
					typ := attr(e, "type")
					isTitle = typ == "title" || typ == "ctrTitle"
				case "t":
					inText = true
				case "br", "tab":
					para.WriteByte(' ')
				}
			case xml.EndElement:
				switch e.Name.Local {
				case "t":
					inText = false
				case "p":
					if s := collapseSpace(para.String()); s != "" {
						if isTitle {
							title = append(title, s)
						} else {
							body = append(body, s)
						}
					}
					para.Reset()
				}
			case xml.CharData:
				if inText {
					para.WriteString(cleanText(string(e)))
				}
			}
			return nil
		})
		if err != nil {
			return base.Document{}, fmt.Errorf("PPTX %s: %w", name, err)
		}
		if len(title) == 0 && len(body) == 0 {
			continue
		}
		heading := strings.Join(title, " ")
		if heading == "" {
			heading = fmt.Sprintf("Slide %d", slideNumber(name))
		}
		t.heading(heading, 1)
		for _, b := range body {
			t.paraBreak()
			t.inline(b)
		}
		t.paraBreak()
		if int64(t.b.Len()) > o.MaxDocBytes {
			return base.Document{}, fmt.Errorf("%w: more than %d bytes of text", ErrTooLarge, o.MaxDocBytes)
		}
	}
	var d base.Document
	d.Text, d.Sections = t.result()
	d.Title = coreTitle(ctx, z)
	d.Metadata = base.Metadata{"slides": base.Number(float64(len(slides)))}
	return d, nil
}

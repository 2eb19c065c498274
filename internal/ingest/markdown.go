package ingest

import (
	"bytes"
	"context"
	"html"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	gtext "github.com/yuin/goldmark/text"

	"github.com/quarry-rag/quarry/internal/base"
)

func loadMarkdown(_ context.Context, path string, o *Options) (base.Document, error) {
	raw, err := readSource(path, o.MaxDocBytes)
	if err != nil {
		return base.Document{}, err
	}
	d, err := markdownDoc(o.fileName(path), raw, o)
	if err != nil {
		return base.Document{}, err
	}
	return wholeFile(path, o, d)
}

// newMarkdown builds a CommonMark parser with the GFM block and inline
// extensions that carry text (tables, strikethrough, task lists). A parser
// is built per document: goldmark does not document its parsers as safe for
// concurrent use, and building one costs microseconds.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.TaskList))
}

// markdownDoc converts Markdown source to a document without id and source.
func markdownDoc(name string, raw []byte, o *Options) (base.Document, error) {
	src, err := decodeText(name, raw, o.Lossy)
	if err != nil {
		return base.Document{}, err
	}
	var d base.Document
	fm, body, ok := splitFrontMatter(src)
	if ok {
		d.Title, d.Metadata = parseFrontMatter(fm)
	}
	source := []byte(body)
	root := newMarkdown().Parser().Parse(gtext.NewReader(source))
	c := mdConv{src: source}
	c.t.grow(len(source)) // the text is at most about the source's size
	c.blocks(root)
	d.Text, d.Sections = c.t.result()
	if d.Title == "" {
		d.Title = c.h1
	}
	return d, nil
}

type mdConv struct {
	src []byte
	t   textBuilder
	h1  string // text of the first level-1 heading
}

func (c *mdConv) blocks(parent ast.Node) {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		c.block(n)
	}
}

func (c *mdConv) block(n ast.Node) {
	switch n := n.(type) {
	case *ast.Heading:
		title := collapseSpace(c.inlineText(n, " "))
		if n.Level == 1 && c.h1 == "" {
			c.h1 = title
		}
		c.t.heading(title, n.Level)
	case *ast.Paragraph:
		c.t.paraBreak()
		c.t.raw(c.inlineText(n, "\n"))
		c.t.paraBreak()
	case *ast.TextBlock: // a tight list item's text
		c.t.lineBreak()
		c.t.raw(c.inlineText(n, "\n"))
		c.t.lineBreak()
	case *ast.ThematicBreak:
		c.t.paraBreak()
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		var b bytes.Buffer
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(c.src))
		}
		c.t.paraBreak()
		c.t.raw(strings.TrimRight(b.String(), "\n"))
		c.t.paraBreak()
	case *ast.HTMLBlock:
		var b bytes.Buffer
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(c.src))
		}
		if n.HasClosure() {
			b.Write(n.ClosureLine.Value(c.src))
		}
		c.t.paraBreak()
		c.t.inline(htmlFragmentText(b.Bytes()))
		c.t.paraBreak()
	case *ast.List:
		brk := c.t.paraBreak
		if _, nested := n.Parent().(*ast.ListItem); nested {
			brk = c.t.lineBreak
		}
		brk()
		c.blocks(n)
		brk()
	case *ast.ListItem:
		c.t.lineBreak()
		c.blocks(n)
	case *east.Table:
		c.t.paraBreak()
		for row := n.FirstChild(); row != nil; row = row.NextSibling() {
			c.t.lineBreak()
			for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
				if cell != row.FirstChild() {
					c.t.separator(cellSeparator)
				}
				c.t.raw(strings.TrimSpace(c.inlineText(cell, " ")))
			}
		}
		c.t.paraBreak()
	default: // Blockquote, Document and anything an extension adds
		c.t.paraBreak()
		c.blocks(n)
		c.t.paraBreak()
	}
}

// inlineText returns the plain text of n's inline children. softBreak
// replaces soft line breaks; hard breaks always become "\n".
func (c *mdConv) inlineText(n ast.Node, softBreak string) string {
	var b strings.Builder
	c.inline(&b, n, softBreak)
	return b.String()
}

func (c *mdConv) inline(b *strings.Builder, parent ast.Node, softBreak string) {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		switch n := n.(type) {
		case *ast.Text:
			v := n.Value(c.src)
			if n.IsRaw() {
				b.Write(v)
			} else {
				b.WriteString(mdUnescape(v))
			}
			switch {
			case n.HardLineBreak():
				b.WriteByte('\n')
			case n.SoftLineBreak():
				b.WriteString(softBreak)
			}
		case *ast.String:
			if n.IsRaw() || n.IsCode() {
				b.Write(n.Value)
			} else {
				b.WriteString(mdUnescape(n.Value))
			}
		case *ast.CodeSpan:
			for t := n.FirstChild(); t != nil; t = t.NextSibling() {
				var v []byte
				switch t := t.(type) {
				case *ast.Text:
					v = t.Value(c.src)
				case *ast.String:
					v = t.Value
				}
				b.WriteString(strings.ReplaceAll(string(v), "\n", " "))
			}
		case *ast.AutoLink:
			b.Write(n.Label(c.src))
		case *ast.RawHTML, *east.TaskCheckBox:
			// markup only
		default: // Emphasis, Link, Image (alt text), Strikethrough, ...
			c.inline(b, n, softBreak)
		}
	}
}

// mdUnescape resolves backslash escapes and entity references in Markdown
// text the way CommonMark renders them, and maps NUL to U+FFFD.
func mdUnescape(v []byte) string {
	if bytes.IndexAny(v, "\\&\x00") < 0 {
		return string(v)
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v) && isASCIIPunct(v[i+1]):
			i++
			b.WriteByte(v[i])
		case c == '&':
			if n, s := entityAt(v[i:]); n > 0 {
				b.WriteString(s)
				i += n - 1
			} else {
				b.WriteByte(c)
			}
		case c == 0:
			b.WriteString("\uFFFD")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

var entityRE = regexp.MustCompile(`^&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});`)

// entityAt decodes the entity reference at the start of v, returning its
// length and value, or 0 when v does not start with a known entity.
func entityAt(v []byte) (int, string) {
	m := entityRE.Find(v)
	if m == nil {
		return 0, ""
	}
	s := html.UnescapeString(string(m))
	if s == string(m) {
		return 0, ""
	}
	return len(m), s
}

// splitFrontMatter splits a leading YAML front matter block ("---" line,
// content, "---" or "..." line) from the Markdown body.
func splitFrontMatter(s string) (fm, body string, ok bool) {
	first, rest, found := strings.Cut(s, "\n")
	if !found || strings.TrimRight(first, " \t") != "---" {
		return "", s, false
	}
	for off := 0; off < len(rest); {
		line := rest[off:]
		next := len(rest)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], off+i+1
		}
		if l := strings.TrimRight(line, " \t"); l == "---" || l == "..." {
			return rest[:off], rest[next:], true
		}
		off = next
	}
	return "", s, false
}

// parseFrontMatter reads the top-level "key: value" scalars of a YAML front
// matter block. Nested mappings, sequences, block scalars, anchors and tags
// are skipped, and so are nulls. "title" becomes the title, not metadata.
func parseFrontMatter(fm string) (title string, md base.Metadata) {
	for line := range strings.Lines(fm) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == '-' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if len(k) >= 2 && (k[0] == '"' || k[0] == '\'') && k[len(k)-1] == k[0] {
			k = k[1 : len(k)-1]
		}
		val, ok := yamlScalar(strings.TrimSpace(v))
		if k == "" || !ok {
			continue
		}
		if k == "title" {
			if val.Kind == base.KindString {
				title = collapseSpace(val.Str)
			} else {
				title = strings.Trim(val.String(), `"`)
			}
			continue
		}
		if md == nil {
			md = base.Metadata{}
		}
		md[k] = val
	}
	return title, md
}

var yamlNumberRE = regexp.MustCompile(`^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$`)

// yamlScalar interprets a plain or quoted YAML 1.2 scalar. ok is false for
// an empty value, null, and anything that is not a single-line scalar.
func yamlScalar(v string) (base.Value, bool) {
	if v == "" {
		return base.Value{}, false
	}
	switch v[0] {
	case '"':
		end := closingDoubleQuote(v)
		if end < 0 {
			return base.Value{}, false
		}
		s, err := strconv.Unquote(v[:end+1])
		if err != nil {
			s = v[1:end]
		}
		return base.String(s), true
	case '\'':
		end := strings.LastIndexByte(v, '\'')
		if end <= 0 {
			return base.Value{}, false
		}
		return base.String(strings.ReplaceAll(v[1:end], "''", "'")), true
	case '[', '{', '|', '>', '&', '*', '!', '%', '@', '`':
		return base.Value{}, false
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	switch v {
	case "~", "null", "Null", "NULL":
		return base.Value{}, false
	case "true", "True", "TRUE":
		return base.Bool(true), true
	case "false", "False", "FALSE":
		return base.Bool(false), true
	}
	if yamlNumberRE.MatchString(v) {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return base.Number(f), true
		}
	}
	return base.String(v), true
}

// closingDoubleQuote returns the index of the quote closing the
// double-quoted scalar at the start of v, or -1.
func closingDoubleQuote(v string) int {
	for i := 1; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

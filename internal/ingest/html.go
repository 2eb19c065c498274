package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"

	"github.com/quarry-rag/quarry/internal/base"
)

func loadHTML(_ context.Context, path string, o *Options) (base.Document, error) {
	raw, err := readSource(path, o.MaxDocBytes)
	if err != nil {
		return base.Document{}, err
	}
	d, err := htmlDoc(o.fileName(path), raw, o)
	if err != nil {
		return base.Document{}, err
	}
	return wholeFile(path, o, d)
}

// droppedTags hold no document text: code, chrome and navigation.
var droppedTags = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Nav: true,
	atom.Header: true, atom.Footer: true, atom.Aside: true, atom.Form: true,
	atom.Svg: true, atom.Template: true, atom.Head: true, atom.Iframe: true,
	atom.Object: true, atom.Button: true, atom.Select: true, atom.Math: true,
}

// blockTags start and end a paragraph.
var blockTags = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Blockquote: true, atom.Body: true,
	atom.Center: true, atom.Details: true, atom.Dialog: true, atom.Dir: true,
	atom.Div: true, atom.Dl: true, atom.Fieldset: true, atom.Figcaption: true,
	atom.Figure: true, atom.Hgroup: true, atom.Hr: true, atom.Html: true,
	atom.Legend: true, atom.Main: true, atom.Menu: true, atom.Ol: true,
	atom.P: true, atom.Pre: true, atom.Section: true, atom.Summary: true,
	atom.Table: true, atom.Caption: true, atom.Ul: true, atom.Video: true,
	atom.Audio: true, atom.Picture: true,
}

// lineTags start and end a line.
var lineTags = map[atom.Atom]bool{
	atom.Li: true, atom.Dt: true, atom.Dd: true, atom.Tr: true, atom.Option: true,
	atom.Thead: true, atom.Tbody: true, atom.Tfoot: true,
}

var headingLevel = map[atom.Atom]int{
	atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6,
}

// decodeHTML returns the source as normalised UTF-8. A UTF-16 BOM or a
// <meta charset> naming another encoding is honoured; otherwise the bytes
// must be UTF-8 (or are repaired when lossy).
func decodeHTML(name string, raw []byte, lossy bool) (string, error) {
	enc, encName, _ := charset.DetermineEncoding(raw, "")
	declared := bytes.Contains(bytes.ToLower(head(raw, 1024)), []byte("charset"))
	utf16 := bytes.HasPrefix(raw, []byte{0xFE, 0xFF}) || bytes.HasPrefix(raw, []byte{0xFF, 0xFE})
	if encName != "utf-8" && enc != nil && (declared || utf16) {
		b, err := io.ReadAll(transform.NewReader(bytes.NewReader(raw), enc.NewDecoder()))
		if err != nil {
			return "", fmt.Errorf("%w: decoding %s: %v", ErrInvalidUTF8, encName, err)
		}
		raw = b
	}
	return decodeText(name, raw, lossy)
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// htmlDoc converts an HTML page to a document without id and source.
func htmlDoc(name string, raw []byte, o *Options) (base.Document, error) {
	src, err := decodeHTML(name, raw, o.Lossy)
	if err != nil {
		return base.Document{}, err
	}
	root, err := html.Parse(strings.NewReader(src))
	if err != nil { // the HTML5 parser only fails on reader errors
		return base.Document{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var d base.Document
	if t := findElement(root, atom.Title, false); t != nil {
		d.Title = collapseSpace(nodeText(t))
	}
	if d.Title == "" {
		if h := findElement(root, atom.H1, true); h != nil {
			d.Title = collapseSpace(nodeText(h))
		}
	}
	content := findElement(root, atom.Main, true)
	if content == nil {
		content = findElement(root, atom.Article, true)
	}
	if content == nil {
		content = findElement(root, atom.Body, true)
	}
	if content == nil {
		content = root
	}
	var c htmlConv
	c.node(content)
	d.Text, d.Sections = c.t.result()
	return d, nil
}

// findElement returns the first HTML (not SVG or MathML) element with tag a
// in document order. With visible, dropped and hidden subtrees are not
// searched.
func findElement(n *html.Node, a atom.Atom, visible bool) *html.Node {
	if n.Type == html.ElementNode {
		if n.DataAtom == a && n.Namespace == "" {
			return n
		}
		if visible && (droppedTags[n.DataAtom] || isHidden(n)) {
			return nil
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findElement(c, a, visible); f != nil {
			return f
		}
	}
	return nil
}

func isHidden(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && (a.Key == "hidden" || a.Key == "aria-hidden" && a.Val == "true") {
			return true
		}
	}
	return false
}

// nodeText concatenates the visible text under n.
func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			if droppedTags[n.DataAtom] && n.DataAtom != atom.Head || isHidden(n) {
				return
			}
			if n.DataAtom == atom.Br {
				b.WriteByte(' ')
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

type htmlConv struct {
	t   textBuilder
	pre int // depth of <pre> elements: white space is kept inside
}

func (c *htmlConv) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		if c.pre > 0 {
			c.t.raw(n.Data)
		} else {
			c.t.inline(n.Data)
		}
		return
	case html.ElementNode:
	case html.DocumentNode:
		c.children(n)
		return
	default: // comments, doctypes
		return
	}
	a := n.DataAtom
	if droppedTags[a] || isHidden(n) {
		return
	}
	if lvl, ok := headingLevel[a]; ok {
		c.t.heading(nodeText(n), lvl)
		return
	}
	switch {
	case a == atom.Br:
		c.t.lineBreak()
	case a == atom.Td || a == atom.Th:
		if n.PrevSibling != nil && hasPrevCell(n) {
			c.t.separator(cellSeparator)
		}
		c.children(n)
	case a == atom.Pre:
		c.t.paraBreak()
		c.pre++
		c.children(n)
		c.pre--
		c.t.paraBreak()
	case blockTags[a]:
		c.t.paraBreak()
		c.children(n)
		c.t.paraBreak()
	case lineTags[a]:
		c.t.lineBreak()
		c.children(n)
		c.t.lineBreak()
	default:
		c.children(n)
	}
}

func (c *htmlConv) children(n *html.Node) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c.node(ch)
	}
}

func hasPrevCell(n *html.Node) bool {
	for p := n.PrevSibling; p != nil; p = p.PrevSibling {
		if p.Type == html.ElementNode && (p.DataAtom == atom.Td || p.DataAtom == atom.Th) {
			return true
		}
	}
	return false
}

// htmlFragmentText returns the visible text of an HTML fragment (used for
// HTML blocks inside Markdown), without structure.
func htmlFragmentText(b []byte) string {
	z := html.NewTokenizer(bytes.NewReader(b))
	var out strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out.String()
		case html.TextToken:
			if skip == 0 {
				out.Write(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if droppedTags[a] {
				skip++
			}
			out.WriteByte(' ')
		case html.EndTagToken:
			name, _ := z.TagName()
			if droppedTags[atom.Lookup(name)] && skip > 0 {
				skip--
			}
			out.WriteByte(' ')
		case html.SelfClosingTagToken:
			out.WriteByte(' ')
		}
	}
}

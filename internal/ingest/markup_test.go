package ingest

import (
	"reflect"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
)

func mdText(t *testing.T, src string) base.Document {
	t.Helper()
	o, _ := resolve(nil)
	d, err := markdownDoc("t.md", []byte(src), o)
	if err != nil {
		t.Fatal(err)
	}
	checkDoc(t, d)
	return d
}

func TestMarkdownText(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"emphasis", "a *b* __c__ ***d***", "a b c d"},
		{"link keeps text", "see [the docs](http://x.y) now", "see the docs now"},
		{"reference link", "[text][r]\n\n[r]: /url", "text"},
		{"image keeps alt", "![a *cat* pic](c.png)", "a cat pic"},
		{"code span", "run `go  test\n./...`", "run go  test ./..."},
		{"fenced code verbatim", "```\n  x := 1 *2*\n\n  y\n```", "  x := 1 *2*\n\n  y"},
		{"indented code", "para\n\n    code *x*\n    more", "para\n\ncode *x*\nmore"},
		{"escapes and entities", `\# not a heading \[x\] &lt;b&gt; &#65;&#x42; &nosuch; a\b`, "# not a heading [x] <b> AB &nosuch; a\\b"},
		{"raw inline html dropped", "a <span class=x>b</span> c", "a b c"},
		{"html block text", "<div>\n<p>in <i>div</i></p>\n</div>", "in div"},
		{"autolink", "<https://a.b/c>", "https://a.b/c"},
		{"table", "| a | b |\n|---|---|\n| `1` | *2* |\n| | 4 |", "a | b\n1 | 2\n4"},
		{"nested lists", "- a\n  - b\n    - c\n- d", "a\nb\nc\nd"},
		{"loose list", "- a\n\n- b", "a\n\nb"},
		{"blockquote", "> q1\n> q2\n\nafter", "q1\nq2\n\nafter"},
		{"thematic break", "a\n\n***\n\nb", "a\n\nb"},
		{"soft and hard breaks", "l1\nl2\\\nl3", "l1\nl2\nl3"},
		{"NUL", "a\x00b", "a\uFFFDb"},
		{"strikethrough", "~~gone~~ kept", "gone kept"},
		{"front matter only body", "---\nk: v\n---\nbody", "body"},
		{"unclosed front matter is text", "---\nk: v\n\nbody", "k: v\n\nbody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mdText(t, tt.src).Text; got != tt.want {
				t.Errorf("text = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMarkdownSections(t *testing.T) {
	d := mdText(t, "intro\n\n# One\n\nbody one\n\nTwo\n===\n\n## Two *a*\n\n#\n\ntail")
	want := []base.Section{
		{Title: "One", Level: 1, Start: 7, End: 20},
		{Title: "Two", Level: 1, Start: 22, End: 25},
		{Title: "Two a", Level: 2, Start: 27, End: 38},
	}
	if !reflect.DeepEqual(d.Sections, want) {
		t.Fatalf("sections = %+v, want %+v\ntext %q", d.Sections, want, d.Text)
	}
	if d.Title != "One" {
		t.Errorf("title %q", d.Title)
	}
}

func TestFrontMatter(t *testing.T) {
	d := mdText(t, "---\n"+
		"title: 'It''s here'\n"+
		"s: plain text # comment\n"+
		"q: \"esc\\tand \\\"quotes\\\"\"\n"+
		"i: 42\n"+
		"neg: -1.5e3\n"+
		"b: True\n"+
		"y: yes\n"+
		"date: 2024-01-02\n"+
		"ver: 1.2.3\n"+
		"n: null\n"+
		"list: [a, b]\n"+
		"block: |\n  text\n"+
		"nested:\n  key: v\n"+
		"- item\n"+
		"\"quoted key\": k\n"+
		"---\nbody")
	want := base.Metadata{
		"s": base.String("plain text"), "q": base.String("esc\tand \"quotes\""), "i": base.Number(42),
		"neg": base.Number(-1500), "b": base.Bool(true), "y": base.String("yes"),
		"date": base.String("2024-01-02"), "ver": base.String("1.2.3"), "quoted key": base.String("k"),
	}
	if !reflect.DeepEqual(d.Metadata, want) {
		t.Errorf("metadata = %v\nwant %v", d.Metadata, want)
	}
	if d.Title != "It's here" {
		t.Errorf("title %q", d.Title)
	}
}

func htmlText(t *testing.T, src string) base.Document {
	t.Helper()
	o, _ := resolve(nil)
	d, err := htmlDoc("t.html", []byte(src), o)
	if err != nil {
		t.Fatal(err)
	}
	checkDoc(t, d)
	return d
}

func TestHTMLText(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"collapse", "<p>  a \n\t b  </p>", "a b"},
		{"inline joins", "<p>a<b>b</b> <i>c</i>d</p>", "ab cd"},
		{"blocks", "<div>a</div><div>b</div>text<p>c</p>", "a\n\nb\n\ntext\n\nc"},
		{"entities", "<p>&lt;tag&gt; &amp; &eacute; &#x263A; &unknown;</p>", "<tag> & é ☺ &unknown;"},
		{"pre keeps space", "<pre>  a\n   b</pre>", "  a\n   b"},
		{"main wins", "<body>chrome<main>core</main><article>not</article></body>", "core"},
		{"article next", "<body>chrome<article>core</article></body>", "core"},
		{"dropped", "<script>s</script><style>x</style><noscript>n</noscript><nav>n</nav><header>h</header>" +
			"<footer>f</footer><aside>a</aside><form>f</form><svg>s</svg><template>t</template>kept", "kept"},
		{"hidden", "<p hidden>h</p><span aria-hidden=\"true\">i</span>kept", "kept"},
		{"list and table", "<ul><li>a</li><li>b</li></ul><table><tr><td>1</td><td>2</td></tr><tr><th>3</th></tr></table>", "a\nb\n\n1 | 2\n3"},
		{"br", "a<br>b<br/><br>c", "a\nb\nc"},
		{"comment", "a<!-- hidden -->b", "ab"},
		{"unclosed tags", "<p>a<p>b<div>c", "a\n\nb\n\nc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlText(t, tt.src).Text; got != tt.want {
				t.Errorf("text = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHTMLSections(t *testing.T) {
	d := htmlText(t, "<p>intro</p><h2> Sub <em>one</em> </h2><p>x</p><h6>deep</h6>y<h1></h1>")
	want := []base.Section{
		{Title: "Sub one", Level: 2, Start: 7, End: 17},
		{Title: "deep", Level: 6, Start: 19, End: 26},
	}
	if !reflect.DeepEqual(d.Sections, want) {
		t.Fatalf("sections = %+v, want %+v\ntext %q", d.Sections, want, d.Text)
	}
}

func TestHTMLCharset(t *testing.T) {
	// Declared windows-1252 is decoded; undeclared non-UTF-8 is rejected.
	d := htmlText(t, "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"><p>\x93quoted\x94 \x80</p>")
	if d.Text != "\u201cquoted\u201d \u20ac" {
		t.Errorf("text = %q", d.Text)
	}
	// UTF-16 with BOM.
	u16 := []byte{0xFF, 0xFE}
	for _, r := range "<p>hé</p>" {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	o, _ := resolve(nil)
	d, err := htmlDoc("u.html", u16, o)
	if err != nil || d.Text != "hé" {
		t.Errorf("utf-16: %q, %v", d.Text, err)
	}
}

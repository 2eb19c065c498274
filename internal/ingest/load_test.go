package ingest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// renderDoc is the golden form of a document: fields, metadata, sections
// with the text they cover, then the text.
func renderDoc(d base.Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\ntitle: %q\nsource: %s\n", d.ID, d.Title, filepath.ToSlash(d.Source))
	for _, k := range d.Metadata.Keys() {
		fmt.Fprintf(&b, "meta %s: %s %s\n", k, d.Metadata[k].Kind, d.Metadata[k])
	}
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "section h%d [%d,%d) %q: %q\n", s.Level, s.Start, s.End, s.Title, d.Text[s.Start:s.End])
	}
	b.WriteString("--- text ---\n")
	b.WriteString(d.Text)
	b.WriteString("\n--- end ---\n")
	return b.String()
}

// checkDoc asserts the invariants every loaded document must satisfy.
func checkDoc(t testing.TB, d base.Document) {
	t.Helper()
	if !utf8.ValidString(d.Text) || !utf8.ValidString(d.Title) {
		t.Errorf("%s: invalid UTF-8 in output", d.ID)
	}
	if strings.ContainsRune(d.Text, '\r') || strings.HasPrefix(d.Text, "\uFEFF") {
		t.Errorf("%s: text has CR or BOM", d.ID)
	}
	checkSections(t, d.Text, d.Sections)
}

func checkSections(t testing.TB, text string, secs []base.Section) {
	t.Helper()
	prevEnd := 0
	for i, s := range secs {
		if s.Start < prevEnd || s.End < s.Start || s.End > len(text) {
			t.Fatalf("section %d %+v out of order or bounds (prev end %d, len %d)", i, s, prevEnd, len(text))
		}
		if s.Level < 1 || s.Level > 6 {
			t.Errorf("section %d level %d", i, s.Level)
		}
		if !strings.HasPrefix(text[s.Start:], s.Title) {
			t.Errorf("section %d: text at %d does not start with its title %q", i, s.Start, s.Title)
		}
		if !utf8.ValidString(text[s.Start:s.End]) {
			t.Errorf("section %d splits a character", i)
		}
		prevEnd = s.End
	}
}

func goldenFiles(t *testing.T) []string {
	files, err := filepath.Glob("testdata/docs/*")
	if err != nil {
		t.Fatal(err)
	}
	return append(files, "testdata/pdf/text.pdf", "testdata/pdf/unicode.pdf")
}

func TestLoadFileGolden(t *testing.T) {
	for _, path := range goldenFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			docs, err := LoadFile(context.Background(), path, &Options{Root: "testdata"})
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 {
				t.Fatalf("got %d documents, want 1", len(docs))
			}
			checkDoc(t, docs[0])
			got := renderDoc(docs[0])
			golden := filepath.Join("testdata/golden", filepath.Base(path)+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (rerun with -update after checking):\n--- got ---\n%s\n--- want ---\n%s", golden, got, want)
			}
		})
	}
}

// writeFile creates a file under t.TempDir and returns its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		file    string
		data    string
		opts    *Options
		want    error
		message string // substring of the error
	}{
		{"unsupported", "report.odt", "PK", nil, ErrUnsupported, `".odt"`},
		{"not a zip docx", "report.docx", "PK", nil, ErrCorrupt, "report.docx"},
		{"no extension", "README", "hello", nil, ErrUnsupported, `extension ""`},
		{"empty txt", "e.txt", " \n\t\n", nil, ErrEmpty, "e.txt"},
		{"zero bytes md", "e.md", "", nil, ErrEmpty, "e.md"},
		{"markup only md", "m.md", "---\ntitle: x\n---\n<!-- c -->\n\n![](img.png)\n", nil, ErrEmpty, ""},
		{"chrome only html", "c.html", "<nav>menu</nav><script>x</script>", nil, ErrEmpty, ""},
		{"too large txt", "big.txt", strings.Repeat("a", 101), &Options{MaxDocBytes: 100}, ErrTooLarge, "limit 100"},
		{"invalid utf8 txt", "bad.txt", "ok\nline two \xff here", nil, ErrInvalidUTF8, "bad.txt:2: ingest: invalid UTF-8 at byte offset 12"},
		{"invalid utf8 after bom", "bom.md", "\uFEFFab\xc3", nil, ErrInvalidUTF8, "byte offset 5"},
		{"invalid utf8 html", "bad.html", "<p>caf\xe9</p>", nil, ErrInvalidUTF8, "bad.html:1"},
		{"garbage pdf", "x.pdf", "%PDF-1.4\nnot really\n%%EOF\n", nil, ErrCorrupt, "x.pdf"},
		{"not a pdf", "y.pdf", "hello", nil, ErrCorrupt, "y.pdf"},
		{"bad options", "a.txt", "a", &Options{MaxDocBytes: -1}, nil, "MaxDocBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file, []byte(tt.data))
			docs, err := LoadFile(ctx, path, tt.opts)
			if err == nil {
				t.Fatalf("got %d docs, no error", len(docs))
			}
			if docs != nil {
				t.Errorf("got documents with error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v does not wrap %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not mention %q", err, tt.message)
			}
			if tt.want != nil && !IsSkippable(err) {
				t.Errorf("content error %v not skippable", err)
			}
		})
	}
}

func TestLoadFileSkip(t *testing.T) {
	path := writeFile(t, "e.txt", []byte("\n\n"))
	var skipped []error
	docs, err := LoadFile(context.Background(), path, &Options{OnError: Skip, OnSkip: func(err error) { skipped = append(skipped, err) }})
	if err != nil || docs != nil {
		t.Fatalf("LoadFile = %v, %v; want nil, nil", docs, err)
	}
	if len(skipped) != 1 || !errors.Is(skipped[0], ErrEmpty) || !strings.Contains(skipped[0].Error(), path) {
		t.Fatalf("skipped = %v", skipped)
	}
	// I/O errors are not content errors and are never skipped.
	_, err = LoadFile(context.Background(), filepath.Join(t.TempDir(), "missing.txt"), &Options{OnError: Skip})
	if !errors.Is(err, os.ErrNotExist) || IsSkippable(err) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestLossy(t *testing.T) {
	path := writeFile(t, "l.txt", []byte("caf\xe9 au lait\r\n"))
	docs, err := LoadFile(context.Background(), path, &Options{Lossy: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := docs[0].Text, "caf\uFFFD au lait\n"; got != want {
		t.Fatalf("text = %q, want %q", got, want)
	}
}

func TestDocID(t *testing.T) {
	tests := []struct{ root, path, want string }{
		{"", "a/b/c.txt", "a/b/c.txt"},
		{"", "./a//b/../c.txt", "a/c.txt"},
		{"a", "a/b/c.txt", "b/c.txt"},
		{"a/", "a/c.txt", "c.txt"},
		{"x", "a/c.txt", "a/c.txt"}, // outside the root
		{"a/c.txt", "a/c.txt", "c.txt"},
	}
	for _, tt := range tests {
		o := &Options{Root: tt.root}
		if got := o.docID(filepath.FromSlash(tt.path)); got != tt.want {
			t.Errorf("docID(root %q, %q) = %q, want %q", tt.root, tt.path, got, tt.want)
		}
	}
}

func TestTitleFallbacks(t *testing.T) {
	long := strings.Repeat("word ", 30)
	tests := []struct{ file, data, want string }{
		{"a.txt", "\n\n  Short title  \nbody", "Short title"},
		{"b.txt", long + "\nbody", "b.txt"},
		{"c.md", "## Only h2\n\ntext", "c.md"},
		{"d.md", "text\n\n# Late H1\n\n# Second H1", "Late H1"},
		{"e.md", "---\ntitle: Front\n---\n# H1\n", "Front"},
		{"f.html", "<h1>Heading <b>one</b></h1><p>x</p>", "Heading one"},
		{"g.html", "<title></title><p>x</p>", "g.html"},
		{"h.html", "<body><svg><title>icon</title></svg><h1>Real</h1></body>", "Real"},
	}
	for _, tt := range tests {
		docs, err := LoadFile(context.Background(), writeFile(t, tt.file, []byte(tt.data)), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if docs[0].Title != tt.want {
			t.Errorf("%s: title %q, want %q", tt.file, docs[0].Title, tt.want)
		}
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoadFile(ctx, "testdata/docs/plain.txt", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (&Options{OnError: 7}).Validate(); err == nil {
		t.Error("unknown policy accepted")
	}
	if err := (*Options)(nil).Validate(); err != nil {
		t.Error(err)
	}
	o := &Options{}
	if o.EnsureDefaults().MaxDocBytes != DefaultMaxDocBytes {
		t.Error("default MaxDocBytes not applied")
	}
	// resolve must not modify the caller's struct.
	in := &Options{}
	if _, err := resolve(in); err != nil || in.MaxDocBytes != 0 {
		t.Errorf("resolve changed caller options: %+v", in)
	}
}

func TestSupported(t *testing.T) {
	for p, want := range map[string]bool{"a.TXT": true, "b.md": true, "c.Markdown": true, "d.htm": true,
		"e.pdf": true, "f.jsonl": true, "g.json": false, "h": false, "i.docx": true, "j.odt": false, "k.CSV": true} {
		if Supported(p) != want {
			t.Errorf("Supported(%q) = %v", p, !want)
		}
	}
}

package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
)

// addSeeds adds the files matching pattern as fuzz seeds.
func addSeeds(f *testing.F, patterns ...string) {
	for _, pat := range patterns {
		files, _ := filepath.Glob(pat)
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

func checkFuzzDoc(t *testing.T, d base.Document) {
	t.Helper()
	for _, s := range []string{d.ID, d.Title, d.Text, d.Tenant, d.Source, d.Language} {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 in %q", s)
		}
	}
	for k, v := range d.Metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v.Str) || v.Kind == base.KindNull {
			t.Fatalf("bad metadata %q: %v", k, v)
		}
	}
	checkDoc(t, d)
}

func FuzzJSONL(f *testing.F) {
	addSeeds(f, "testdata/jsonl/*.jsonl", "testdata/beir/*.jsonl")
	f.Add([]byte(`{"id":"a","text":"t","acl":["x"],"metadata":{"n":1e308,"s":"\ud800"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var docs, skips int
		opts := &Options{MaxDocBytes: 4096, OnError: Skip, OnSkip: func(err error) {
			skips++
			if !IsSkippable(err) {
				t.Fatalf("unskippable error skipped: %v", err)
			}
		}}
		err := StreamJSONL(context.Background(), bytes.NewReader(data), "f.jsonl", opts, func(d base.Document) error {
			docs++
			if d.ID == "" || isBlank(d.Text) {
				t.Fatalf("document without id or text: %+v", d)
			}
			checkFuzzDoc(t, d)
			return nil
		})
		if err != nil {
			t.Fatalf("Skip mode returned %v", err)
		}
		// Abort mode sees the same documents up to the first bad line.
		var abortDocs int
		err = StreamJSONL(context.Background(), bytes.NewReader(data), "f.jsonl", &Options{MaxDocBytes: 4096},
			func(base.Document) error { abortDocs++; return nil })
		if (err == nil) != (skips == 0) || abortDocs > docs || err == nil && abortDocs != docs {
			t.Fatalf("abort: %d docs, err %v; skip: %d docs, %d skipped", abortDocs, err, docs, skips)
		}
		// The BEIR flavour never panics either.
		o, _ := resolve(nil)
		_ = streamJSONL(context.Background(), bytes.NewReader(data), "f.jsonl", o, jsonlBEIR, func(d base.Document) error {
			checkFuzzDoc(t, d)
			return nil
		})
	})
}

func FuzzMarkdown(f *testing.F) {
	addSeeds(f, "testdata/docs/*.md")
	f.Add([]byte("---\ntitle: \"x\\\"\ny: 'a''b\n---\n# h\n\n| a |\n|---|\n| `b` |\n"))
	f.Add([]byte("Setext\n===\n\n- a\n  1. b\n\n> <div>x</div>\n\n&#0; &#x110000; \\&amp;"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lossy := range []bool{false, true} {
			o, _ := resolve(&Options{Lossy: lossy})
			d, err := markdownDoc("f.md", data, o)
			if err != nil {
				if lossy || !IsSkippable(err) {
					t.Fatalf("lossy=%v: %v", lossy, err)
				}
				continue
			}
			checkFuzzDoc(t, d)
		}
	})
}

func FuzzHTML(f *testing.F) {
	addSeeds(f, "testdata/docs/*.html")
	f.Add([]byte("<main><h1>a<h2>b</h1></h2><pre>x\r\n y</pre><table><td>1<td>2</table></main>"))
	f.Add([]byte("<meta charset=shift_jis><p>\x82\xa0</p>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lossy := range []bool{false, true} {
			o, _ := resolve(&Options{Lossy: lossy})
			d, err := htmlDoc("f.html", data, o)
			if err != nil {
				if !IsSkippable(err) {
					t.Fatalf("lossy=%v: %v", lossy, err)
				}
				continue
			}
			checkFuzzDoc(t, d)
			if strings.Contains(d.Text, "<script") && !strings.Contains(string(data), "&lt;script") && !bytes.Contains(data, []byte("<script")) {
				t.Fatalf("markup in text: %q", d.Text)
			}
		}
	})
}

func FuzzPDF(f *testing.F) {
	addSeeds(f, "testdata/pdf/*.pdf")
	f.Add(buildPDF(kids(1), "BT /F1 12 Tf 20 250 Td [(a)-300(b)] TJ T* (c) ' ET"))
	f.Add(buildPDF("<< /Type /Pages /Kids [2 0 R 5 0 R] /Count 99 >>", "BT /F1 12 Tf (x) Tj ET"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, _ := resolve(&Options{MaxDocBytes: 1 << 20})
		d, err := pdfDoc(context.Background(), bytes.NewReader(data), int64(len(data)), "f.pdf", o)
		if err != nil {
			if !IsSkippable(err) {
				t.Fatalf("non-content error: %v", err)
			}
			return
		}
		checkFuzzDoc(t, d)
		if d.Metadata["pages"].Num < 1 {
			t.Fatalf("pages %v", d.Metadata["pages"])
		}
	})
}

// FuzzCollapseSpace checks collapseSpace against its definition: the words
// of s (split on Unicode white space) joined by one space.
func FuzzCollapseSpace(f *testing.F) {
	for _, s := range []string{"", " ", "a", "  a  b\t\nc ", "x\u00a0y\u2003z", "\xff \xfe\u3000末", "a\u0085b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
		if got := collapseSpace(s); got != want {
			t.Fatalf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
	})
}

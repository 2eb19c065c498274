package ingest

import (
	"bytes"
	"context"
	"github.com/quarry-rag/quarry/internal/base"
	"strings"
	"testing"
)

// FuzzOffice feeds arbitrary containers to the DOCX, PPTX and EPUB readers
// (and the XLSX library behind its recover): they must not panic, must
// stay within their budgets and must return valid documents or errors.
func FuzzOffice(f *testing.F) {
	f.Add(zipBytes(f, docxParts()...))
	f.Add(zipBytes(f, epubParts()...))
	f.Add(zipBytes(f, "ppt/slides/slide1.xml", slideXML("T", "a", "b")))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		o, _ := resolve(&Options{MaxDocBytes: 1 << 16})
		for _, conv := range []func(*zipArchive) error{
			func(z *zipArchive) error { d, err := docxDoc(ctx, z, o); check(t, d.Text, d.Sections, err); return err },
			func(z *zipArchive) error { d, err := pptxDoc(ctx, z, o); check(t, d.Text, d.Sections, err); return err },
			func(z *zipArchive) error { d, err := epubDoc(ctx, z, o); check(t, d.Text, d.Sections, err); return err },
		} {
			z, err := newZipArchive(bytes.NewReader(data), int64(len(data)), 1<<20)
			if err != nil {
				if !IsSkippable(err) {
					t.Fatalf("open: unskippable %v", err)
				}
				return
			}
			_ = conv(z)
			if z.budget < 0 {
				t.Fatalf("budget overrun: %d", z.budget)
			}
		}
		d, err := xlsxDoc(ctx, bytes.NewReader(data), o)
		check(t, d.Text, d.Sections, err)
	})
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"))
	f.Add([]byte("\uFEFF\"q\"\"x\",\"multi\nline\"\r\n,,,\n"))
	f.Add([]byte("a\tb\n\"unterminated"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, _ := resolve(&Options{MaxDocBytes: 1 << 16})
		for _, comma := range []rune{',', '\t'} {
			d, err := csvDoc(context.Background(), bytes.NewReader(data), "f.csv", comma, o)
			check(t, d.Text, nil, err)
			if err == nil && strings.Count(d.Text, "\n") > strings.Count(string(data), "\n")+strings.Count(string(data), "\r") {
				t.Fatalf("more lines out than in")
			}
		}
	})
}

func check(t *testing.T, text string, secs []base.Section, err error) {
	t.Helper()
	if err != nil {
		if !IsSkippable(err) {
			t.Fatalf("unskippable error %v", err)
		}
		return
	}
	checkDoc(t, base.Document{Text: text, Sections: secs})
	if len(text) > 1<<16+maxRecordBytes {
		t.Fatalf("text of %d bytes past the bound", len(text))
	}
}

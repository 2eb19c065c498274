package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
)

// buildPDF writes a one-font PDF whose page tree is pagesDict (object 2)
// with the given page content streams as objects 4, 5, ... and their page
// objects after them. It is the smallest file the PDF library accepts and
// lets tests inject malformed content.
func buildPDF(pagesDict string, contents ...string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		pagesDict,
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	for _, c := range contents {
		objs = append(objs, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(c), c))
	}
	for i := range contents {
		objs = append(objs, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] "+
			"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 4+i))
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// kids lists page objects for a pages dictionary of buildPDF with n pages.
func kids(n int) string {
	var refs []string
	for i := 0; i < n; i++ {
		refs = append(refs, fmt.Sprintf("%d 0 R", 4+n+i))
	}
	return fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(refs, " "), n)
}

func pdfBytesDoc(data []byte) (base.Document, error) {
	o, _ := resolve(nil)
	return pdfDoc(context.Background(), bytes.NewReader(data), int64(len(data)), "t.pdf", o)
}

func TestPDFLayout(t *testing.T) {
	page1 := "BT /F1 12 Tf 20 250 Td (Hello) Tj 40 0 Td (world) Tj ET " + // Td gap → space
		"BT /F1 12 Tf 20 235 Td (next line) Tj ET " + // one line down
		"BT /F1 12 Tf 20 180 Td [(para)-20(graph)] TJ ET" // far down: paragraph; small kern: no space
	page2 := "BT /F1 12 Tf 20 250 Td (Second page) Tj ET"
	d, err := pdfBytesDoc(buildPDF(kids(2), page1, page2))
	if err != nil {
		t.Fatal(err)
	}
	want := "Hello world\nnext line\n\nparagraph\n\nSecond page"
	if d.Text != want {
		t.Errorf("text = %q, want %q", d.Text, want)
	}
	if d.Metadata["pages"] != base.Number(2) || d.Title != "Hello world" {
		t.Errorf("metadata %v title %q", d.Metadata, d.Title)
	}
}

func TestPDFErrors(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/pdf/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	text := read("text.pdf")
	tests := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"encrypted with user password", read("encrypted.pdf"), ErrEncrypted, "password"},
		{"image only", read("image_only.pdf"), ErrNoText, "1 page(s)"},
		{"truncated", text[:len(text)/2], ErrCorrupt, ""},
		{"no EOF marker", bytes.TrimSuffix(bytes.TrimSpace(text), []byte("%%EOF")), ErrCorrupt, ""},
		{"library panic in content", buildPDF(kids(1), "BT /F1 Tf (x) Tj ET"), ErrCorrupt, "panic: bad TL"},
		{"no pages", buildPDF("<< /Type /Pages /Kids [] /Count 0 >>"), ErrCorrupt, ""},
		{"empty content", buildPDF(kids(1), "q Q"), ErrNoText, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pdfBytesDoc(tt.data)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
		})
	}
}

// A page tree that contains itself must terminate quickly.
func TestPDFCyclicPageTree(t *testing.T) {
	data := buildPDF("<< /Type /Pages /Kids [2 0 R 5 0 R 2 0 R] /Count 3 >>", "BT /F1 12 Tf 20 250 Td (loop) Tj ET")
	start := time.Now()
	d, err := pdfBytesDoc(data)
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	if err == nil && d.Metadata["pages"].Num > 3 {
		t.Fatalf("pages = %v, more than the declared count", d.Metadata["pages"])
	}
}

func TestPDFTooLarge(t *testing.T) {
	o, _ := resolve(&Options{MaxDocBytes: 5})
	data := buildPDF(kids(1), "BT /F1 12 Tf 20 250 Td (more than five bytes) Tj ET")
	if _, err := pdfDoc(context.Background(), bytes.NewReader(data), int64(len(data)), "t.pdf", o); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

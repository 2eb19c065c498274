package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/quarry-rag/quarry/internal/base"
)

// zipBytes builds a ZIP container from name → content, in the given order.
func zipBytes(t testing.TB, parts ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i := 0; i+1 < len(parts); i += 2 {
		f, err := w.Create(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(parts[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const wNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

// docxParts is a Word document as Word writes it: styles with localised
// ids ("berschrift1" is German Word's id for "heading 1"), runs split
// mid-word, a table, a tracked deletion and a field code.
func docxParts() []string {
	return []string{
		"[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"docProps/core.xml", `<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Quarterly  Report</dc:title></cp:coreProperties>`,
		"word/styles.xml", `<?xml version="1.0"?><w:styles ` + wNS + `><w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style><w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style></w:styles>`,
		"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + wNS + `><w:body>
<w:p><w:pPr><w:pStyle w:val="berschrift1"/></w:pPr><w:r><w:t>Intro</w:t></w:r><w:r><w:t>duction</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Revenue grew </w:t></w:r><w:del><w:r><w:delText>shrank</w:delText></w:r></w:del><w:r><w:fldChar/><w:instrText>PAGE</w:instrText><w:t>by 12%</w:t><w:tab/><w:t>&amp; more.</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Region</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Sales</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>North</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>40</w:t></w:r></w:p><w:p><w:r><w:t>units</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>Outlook</w:t></w:r></w:p>
<w:p><w:r><w:t>Stable.</w:t></w:r></w:p>
</w:body></w:document>`,
	}
}

func TestDOCX(t *testing.T) {
	p := writeFile(t, "report.docx", zipBytes(t, docxParts()...))
	docs, err := LoadFile(context.Background(), p, &Options{Root: filepath.Dir(p)})
	if err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	checkDoc(t, d)
	want := "Introduction\n\nRevenue grew by 12% & more.\n\nRegion | Sales\nNorth | 40 units\n\nOutlook\n\nStable."
	if d.Text != want {
		t.Errorf("text\n%q\nwant\n%q", d.Text, want)
	}
	if d.ID != "report.docx" || d.Title != "Quarterly Report" {
		t.Errorf("id %q title %q", d.ID, d.Title)
	}
	if len(d.Sections) != 2 || d.Sections[0].Title != "Introduction" || d.Sections[0].Level != 1 ||
		d.Sections[1].Title != "Outlook" || d.Sections[1].Level != 2 {
		t.Errorf("sections %+v", d.Sections)
	}
}

const pNS = `xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"`

func slideXML(title string, body ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><p:sld ` + pNS + `><p:cSld><p:spTree>`)
	if title != "" {
		b.WriteString(`<p:sp><p:nvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>` + title + `</a:t></a:r></a:p></p:txBody></p:sp>`)
	}
	b.WriteString(`<p:sp><p:nvSpPr><p:nvPr><p:ph idx="1"/></p:nvPr></p:nvSpPr><p:txBody>`)
	for _, s := range body {
		b.WriteString(`<a:p><a:r><a:t>` + s + `</a:t></a:r></a:p>`)
	}
	b.WriteString(`</p:txBody></p:sp></p:spTree></p:cSld></p:sld>`)
	return b.String()
}

func TestPPTX(t *testing.T) {
	data := zipBytes(t,
		"ppt/slides/slide10.xml", slideXML("Ten", "last point"),
		"ppt/slides/slide2.xml", slideXML("", "untitled body"),
		"ppt/slides/slide1.xml", slideXML("Welcome", "first point", "second point"),
		"ppt/slides/_rels/slide1.xml.rels", `<Relationships/>`,
	)
	p := writeFile(t, "deck.pptx", data)
	docs, err := LoadFile(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	checkDoc(t, d)
	want := "Welcome\n\nfirst point\n\nsecond point\n\nSlide 2\n\nuntitled body\n\nTen\n\nlast point"
	if d.Text != want {
		t.Errorf("text\n%q\nwant\n%q", d.Text, want)
	}
	if len(d.Sections) != 3 || d.Sections[2].Title != "Ten" {
		t.Errorf("sections %+v", d.Sections)
	}
	if d.Metadata["slides"].Num != 3 {
		t.Errorf("metadata %v", d.Metadata)
	}
}

func epubParts() []string {
	return []string{
		"mimetype", "application/epub+zip",
		"META-INF/container.xml", `<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`,
		"OEBPS/content.opf", `<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>A Small Book</dc:title></metadata>
<manifest><item id="c2" href="text/ch%202.xhtml" media-type="application/xhtml+xml"/><item id="c1" href="text/ch1.xhtml" media-type="application/xhtml+xml"/><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="c1"/><itemref idref="nav" linear="no"/><itemref idref="c2"/></spine></package>`,
		"OEBPS/nav.xhtml", `<html><body><p>table of contents</p></body></html>`,
		"OEBPS/text/ch1.xhtml", `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c1</title></head><body><h1>Chapter One</h1><p>It was a dark night.</p></body></html>`,
		"OEBPS/text/ch 2.xhtml", `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Chapter Two</h1><p>Morning came.</p></body></html>`,
	}
}

func TestEPUB(t *testing.T) {
	p := writeFile(t, "book.epub", zipBytes(t, epubParts()...))
	docs, err := LoadFile(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	checkDoc(t, d)
	want := "Chapter One\n\nIt was a dark night.\n\nChapter Two\n\nMorning came."
	if d.Text != want || d.Title != "A Small Book" {
		t.Errorf("text %q title %q", d.Text, d.Title)
	}
	if len(d.Sections) != 2 || d.Text[d.Sections[1].Start:d.Sections[1].End] != "Chapter Two\n\nMorning came." {
		t.Errorf("sections %+v", d.Sections)
	}
	// DRM: encryption.xml naming a content document.
	drm := append(epubParts(), "META-INF/encryption.xml",
		`<encryption><EncryptedData><CipherData><CipherReference URI="OEBPS/text/ch1.xhtml"/></CipherData></EncryptedData></encryption>`)
	_, err = LoadFile(context.Background(), writeFile(t, "drm.epub", zipBytes(t, drm...)), nil)
	if !errors.Is(err, ErrEncrypted) {
		t.Errorf("DRM epub: %v", err)
	}
}

func TestXLSX(t *testing.T) {
	f := excelize.NewFile()
	f.SetCellValue("Sheet1", "A1", "Product")
	f.SetCellValue("Sheet1", "B1", "Price")
	f.SetCellValue("Sheet1", "A2", "Widget")
	f.SetCellValue("Sheet1", "B2", 9.5)
	f.SetCellFormula("Sheet1", "B3", "B2*2")
	f.SetCellValue("Sheet1", "A3", "Two widgets")
	f.NewSheet("Notes")
	f.SetCellValue("Notes", "A1", "Prices exclude tax.")
	f.SetDocProps(&excelize.DocProperties{Title: "Price list"})
	p := filepath.Join(t.TempDir(), "prices.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	docs, err := LoadFile(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	checkDoc(t, d)
	if !strings.HasPrefix(d.Text, "Sheet1\n\nProduct | Price\nWidget | 9.5\nTwo widgets") ||
		!strings.HasSuffix(d.Text, "Notes\n\nPrices exclude tax.") {
		t.Errorf("text %q", d.Text)
	}
	if d.Title != "Price list" || len(d.Sections) != 2 || d.Sections[1].Title != "Notes" {
		t.Errorf("title %q sections %+v", d.Title, d.Sections)
	}
}

func TestCSV(t *testing.T) {
	ctx := context.Background()
	p := writeFile(t, "people.csv", []byte("\uFEFFname,city,note\r\nAda,London,\"wrote, first\"\r\nAlan,\"Wilmslow\",\n\n"))
	docs, err := LoadFile(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "name | city | note\nAda | London | wrote, first\nAlan | Wilmslow"; docs[0].Text != want {
		t.Errorf("text %q want %q", docs[0].Text, want)
	}
	docs, err = LoadFile(ctx, writeFile(t, "t.tsv", []byte("a\tb\n1\t2\n")), nil)
	if err != nil || docs[0].Text != "a | b\n1 | 2" {
		t.Errorf("tsv: %v %+v", err, docs)
	}
	// A huge row fails naming its line, without reading past the bound.
	huge := "h\nok\n" + strings.Repeat("x", maxRecordBytes+10) + "\nafter\n"
	_, err = LoadFile(ctx, writeFile(t, "huge.csv", []byte(huge)), nil)
	var le *LineError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &le) || le.Line != 3 {
		t.Errorf("huge row: %v", err)
	}
	_, err = LoadFile(ctx, writeFile(t, "bad.csv", []byte("a,b\nc,\xff\n")), nil)
	if !errors.Is(err, ErrInvalidUTF8) || !errors.As(err, &le) || le.Line != 2 {
		t.Errorf("invalid utf8: %v", err)
	}
	docs, err = LoadFile(ctx, writeFile(t, "lossy.csv", []byte("a,b\nc,\xff\n")), &Options{Lossy: true})
	if err != nil || !strings.Contains(docs[0].Text, "\uFFFD") {
		t.Errorf("lossy: %v %v", err, docs)
	}
}

func TestOfficeBadInput(t *testing.T) {
	ctx := context.Background()
	cfb := append(append([]byte{}, cfbMagic...), make([]byte, 600)...)
	tests := []struct {
		name string
		file string
		data []byte
		want error
	}{
		{"encrypted docx", "secret.docx", cfb, ErrEncrypted},
		{"encrypted xlsx", "secret.xlsx", cfb, ErrEncrypted},
		{"garbage pptx", "g.pptx", []byte("not a zip at all"), ErrCorrupt},
		{"docx without body", "nobody.docx", zipBytes(t, "word/styles.xml", "<x/>"), ErrCorrupt},
		{"docx bad xml", "badxml.docx", zipBytes(t, "word/document.xml", "<w:document><w:p>"), ErrCorrupt},
		{"docx empty", "empty.docx", zipBytes(t, "word/document.xml", "<w:document "+wNS+"><w:body/></w:document>"), ErrEmpty},
		{"pptx no slides", "none.pptx", zipBytes(t, "ppt/presentation.xml", "<p/>"), ErrCorrupt},
		{"epub no container", "x.epub", zipBytes(t, "mimetype", "application/epub+zip"), ErrCorrupt},
		{"truncated xlsx", "cut.xlsx", zipBytes(t, docxParts()...)[:300], ErrCorrupt},
		{"xlsx that is a docx", "wrong.xlsx", zipBytes(t, docxParts()...), ErrCorrupt},
		{"csv bad quote", "q.csv", []byte("a,b\n\"x\"y,\"z\n"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFile(ctx, writeFile(t, tt.file, tt.data), nil)
			if tt.want == nil {
				return // must not panic; lazy quotes may accept it
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.file) || !IsSkippable(err) {
				t.Errorf("got %v, want %v naming %s", err, tt.want, tt.file)
			}
		})
	}
}

// TestZipBomb: an entry that inflates past the budget fails with
// ErrTooLarge, both when its header declares the size and when the budget
// runs out across entries, and a small container with a huge entry is
// rejected before it is inflated.
func TestZipBomb(t *testing.T) {
	ctx := context.Background()
	big := strings.Repeat("<w:p/>", 200_000) // 1.2 MB, compresses to a few KB
	data := zipBytes(t, "word/document.xml", big, "word/other.xml", big)
	z, err := newZipArchive(bytes.NewReader(data), int64(len(data)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := z.read(ctx, "word/document.xml"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("declared size over budget: %v", err)
	}
	z, _ = newZipArchive(bytes.NewReader(data), int64(len(data)), 2_000_000)
	if _, err := z.read(ctx, "word/document.xml"); err != nil {
		t.Fatal(err)
	}
	if _, err := z.read(ctx, "word/other.xml"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("budget across entries: %v", err)
	}
	if len(data) > 64<<10 {
		t.Errorf("test container is %d bytes; it should compress well", len(data))
	}
}

func TestStreamReader(t *testing.T) {
	ctx := context.Background()
	var got []base.Document
	collect := func(d base.Document) error { got = append(got, d); return nil }
	err := StreamReader(ctx, bytes.NewReader(zipBytes(t, docxParts()...)), Source{Name: "uploads/../report.docx"}, t.TempDir(), nil, collect)
	if err != nil || len(got) != 1 || got[0].ID != "report.docx" || got[0].Source != "uploads/../report.docx" ||
		!strings.HasPrefix(got[0].Text, "Introduction") {
		t.Fatalf("docx stream: %v %+v", err, got)
	}
	got = nil
	err = StreamReader(ctx, strings.NewReader("# Hi\n\nthere"), Source{Name: "-", Ext: ".md"}, "", nil, collect)
	if err != nil || len(got) != 1 || got[0].Title != "Hi" || got[0].ID != "-" {
		t.Fatalf("stdin markdown: %v %+v", err, got)
	}
	got = nil
	err = StreamReader(ctx, strings.NewReader(`{"id":"a","text":"x"}`+"\n"+`{"id":"b","text":"y"}`), Source{Name: "d.jsonl"}, "", nil, collect)
	if err != nil || len(got) != 2 {
		t.Fatalf("jsonl: %v %+v", err, got)
	}
	err = StreamReader(ctx, strings.NewReader("x"), Source{Name: "photo.png"}, "", nil, collect)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "photo.png") {
		t.Errorf("png: %v", err)
	}
	err = StreamReader(ctx, strings.NewReader(strings.Repeat("a", 200)), Source{Name: "big.txt"}, "", &Options{MaxDocBytes: 100}, collect)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "big.txt") || strings.Contains(err.Error(), "quarry-ingest-") {
		t.Errorf("too large: %v", err)
	}
	// The temporary copy is gone.
	dir := t.TempDir()
	_ = StreamReader(ctx, strings.NewReader("hello"), Source{Name: "a.txt"}, dir, nil, collect)
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left %d entries in the spool dir", len(ents))
	}
}

func TestStreamURL(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<title>Served</title><main><p>From the web.</p></main>"))
		case "/notes.md":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte("# Notes\n\nbody"))
		case "/img":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG"))
		case "/big":
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", "1000")
			w.Write(make([]byte, 1000))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	var got []base.Document
	collect := func(d base.Document) error { got = append(got, d); return nil }
	if err := StreamURL(ctx, srv.URL+"/page", nil, nil, collect); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != srv.URL+"/page" || got[0].Title != "Served" || got[0].Text != "From the web." {
		t.Errorf("page: %+v", got)
	}
	got = nil
	if err := StreamURL(ctx, srv.URL+"/notes.md", nil, nil, collect); err != nil || got[0].Title != "Notes" {
		t.Errorf("by extension: %v %+v", err, got)
	}
	if err := StreamURL(ctx, srv.URL+"/img", nil, nil, collect); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "image/png") {
		t.Errorf("png: %v", err)
	}
	if err := StreamURL(ctx, srv.URL+"/big", nil, &Options{MaxDocBytes: 100}, collect); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big: %v", err)
	}
	if err := StreamURL(ctx, srv.URL+"/missing", nil, nil, collect); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	if err := StreamURL(ctx, "file:///etc/passwd", nil, nil, collect); err == nil {
		t.Errorf("file URL accepted")
	}
}

// TestStreamFileMatchesStreamReader: a stream already on disk under a name
// of its own (an upload's spooled part) loads into exactly the documents
// StreamReader gives for the same bytes and name, for every format; the
// name, not the path, picks the loader (a TSV is split at tabs).
func TestStreamFileMatchesStreamReader(t *testing.T) {
	ctx := context.Background()
	md, err := os.ReadFile("testdata/docs/notes.md")
	if err != nil {
		t.Skip(err)
	}
	long := strings.Repeat("a long first line that is no title ", 20) + "\n\nmore"
	cases := []struct {
		name string
		data []byte
	}{
		// titles that fall back to the file's name
		{"dir/untitled.txt", []byte(long)},
		{"bare.html", []byte("<p>" + long + "</p>")},
		{"plain.md", []byte(long)},
		{"rows.csv", []byte("a,b\n" + strings.Repeat("x,", 200) + "y\n")},
		{"report.docx", zipBytes(t, docxParts()...)},
		{"notes/guide.md", md},
		{"page.html", []byte("<html><head><title>T</title></head><body><p>one</p><p>two</p></body></html>")},
		{"plain.txt", []byte("just text\n\nand more")},
		{"table.csv", []byte("a,b\n1,\"x, y\"\n")},
		{"table.tsv", []byte("a\tb\n1\tx, y\n")},
		{"d.jsonl", []byte(`{"id":"a","text":"x"}` + "\n" + `{"id":"b","text":"y"}` + "\n")},
	}
	for _, c := range cases {
		var fromReader, fromFile []base.Document
		if err := StreamReader(ctx, bytes.NewReader(c.data), Source{Name: c.name}, t.TempDir(), nil, func(d base.Document) error {
			if strings.Contains(d.Title, "part-") || strings.Contains(d.Title, "quarry-ingest") {
				t.Errorf("%s: StreamReader's title names its spool: %q", c.name, d.Title)
			}
			fromReader = append(fromReader, d)
			return nil
		}); err != nil {
			t.Fatalf("%s: StreamReader: %v", c.name, err)
		}
		p := filepath.Join(t.TempDir(), "part-123") // no extension, as an upload's spool
		if err := os.WriteFile(p, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := StreamFile(ctx, p, Source{Name: c.name}, nil, func(d base.Document) error {
			if strings.Contains(d.Title, "part-") {
				t.Errorf("%s: StreamFile's title names the caller's spool: %q", c.name, d.Title)
			}
			fromFile = append(fromFile, d)
			return nil
		}); err != nil {
			t.Fatalf("%s: StreamFile: %v", c.name, err)
		}
		if len(fromFile) == 0 || !reflect.DeepEqual(fromReader, fromFile) {
			t.Errorf("%s: StreamFile gave\n%+v\nStreamReader gave\n%+v", c.name, fromFile, fromReader)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: StreamFile removed or moved the caller's file: %v", c.name, err)
		}
	}
	var tsv []base.Document
	p := filepath.Join(t.TempDir(), "x.csv") // the path's extension does not pick the loader
	os.WriteFile(p, []byte("a\tb\n1\t2\n"), 0o600)
	if err := StreamFile(ctx, p, Source{Name: "t.tsv"}, nil, func(d base.Document) error { tsv = append(tsv, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(tsv) != 1 || strings.Contains(tsv[0].Text, "\t") {
		t.Errorf("a .tsv name should split at tabs: %+v", tsv)
	}

	big := filepath.Join(t.TempDir(), "part-big")
	os.WriteFile(big, []byte(strings.Repeat("a", 200)), 0o600)
	err = StreamFile(ctx, big, Source{Name: "big.txt"}, &Options{MaxDocBytes: 100}, func(base.Document) error { return nil })
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "big.txt") || strings.Contains(err.Error(), "part-big") {
		t.Errorf("too large: %v", err)
	}
	err = StreamFile(ctx, big, Source{Name: "photo.png"}, nil, func(base.Document) error { return nil })
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "photo.png") {
		t.Errorf("png: %v", err)
	}
	var skipped []error
	err = StreamFile(ctx, big, Source{Name: "big.txt"}, &Options{MaxDocBytes: 100, OnError: Skip, OnSkip: func(e error) { skipped = append(skipped, e) }}, func(base.Document) error { return nil })
	if err != nil || len(skipped) != 1 {
		t.Errorf("skip policy: %v, skipped %v", err, skipped)
	}
}

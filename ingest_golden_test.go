package quarry_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// ingestDigestGolden is the digest of goldenCorpus ingested and searched,
// recorded with the code before the upload memory passes (main 573e410,
// issue 15): they change how a batch is held in memory, never what is
// stored or found.
const ingestDigestGolden = "185fe78bf618f068e7ad2cefa03bd9f1c995d858ba8f8cae0735ad814ec9e121"

// goldenCorpus returns deterministic files in the upload formats and in
// several languages: English, German (decompounded), French, Spanish,
// Russian, Chinese, Arabic; one text mixes English and German paragraphs so
// that chunks get their own languages, and one spans many batches.
func goldenCorpus() map[string][]byte {
	rng := rand.New(rand.NewPCG(15, 5))
	langs := map[string][]string{
		"en": strings.Fields("granite basalt quartz feldspar magma lava crystal mineral sediment erosion river valley glacier the of and is"),
		"de": strings.Fields("Donaudampfschifffahrtsgesellschaft Bundesverfassungsgericht Gletscher Flusstal Gestein Vulkanausbruch der die und ist nicht Erdkruste"),
		"fr": strings.Fields("montagne rivière glacier volcan roche cristal la le et est une les des"),
		"es": strings.Fields("montaña río glaciar volcán roca cristal el la y es una los las"),
		"ru": strings.Fields("гора река ледник вулкан камень кристалл и в на это не что"),
		"zh": strings.Fields("北京 山脉 河流 冰川 火山 岩石 晶体 的 是 在 和"),
		"ar": strings.Fields("جبل نهر جليد بركان صخرة بلورة في من على هذا هو"),
	}
	para := func(lang string, n int) string {
		w := langs[lang]
		out := make([]string, n)
		for i := range out {
			out[i] = w[rng.IntN(len(w))]
		}
		sep := " "
		if lang == "zh" {
			sep = ""
		}
		return strings.Join(out, sep) + "."
	}
	files := map[string][]byte{}
	var md strings.Builder
	for i := range 12 {
		fmt.Fprintf(&md, "## Section %d\n\n%s\n\n%s\n\n", i, para("en", 60), para("en", 90))
	}
	files["geology.md"] = []byte("# Rocks\n\n" + md.String())
	var mixed strings.Builder
	for i := range 40 {
		lang := []string{"en", "de"}[i%2]
		mixed.WriteString(para(lang, 120) + "\n\n")
	}
	files["mixed.txt"] = []byte(mixed.String())
	var big strings.Builder
	for range 400 {
		big.WriteString(para("en", 100) + "\n\n")
	}
	files["big.txt"] = []byte(big.String())
	var html strings.Builder
	html.WriteString("<html><head><title>Montagnes</title></head><body><h1>Les Alpes</h1>")
	for range 30 {
		fmt.Fprintf(&html, "<p>%s</p>", para("fr", 70))
	}
	html.WriteString("</body></html>")
	files["alpes.html"] = []byte(html.String())
	var csv strings.Builder
	csv.WriteString("name,description\n")
	for i := range 80 {
		fmt.Fprintf(&csv, "row%d,%s\n", i, para("es", 20))
	}
	files["rows.csv"] = []byte(csv.String())
	var jl strings.Builder
	for i := range 90 {
		lang := []string{"ru", "zh", "ar", "es", "de"}[i%5]
		rec, _ := json.Marshal(map[string]any{
			"id": fmt.Sprintf("rec-%02d", i), "title": para(lang, 3), "text": para(lang, 150),
			"metadata": map[string]any{"n": i, "lang": lang},
		})
		jl.Write(rec)
		jl.WriteByte('\n')
	}
	files["records.jsonl"] = []byte(jl.String())
	var docx bytes.Buffer
	z := zip.NewWriter(&docx)
	w, _ := z.Create("word/document.xml")
	fmt.Fprint(w, `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	fmt.Fprintf(w, `<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Vulkane</w:t></w:r></w:p>`)
	for range 25 {
		fmt.Fprintf(w, "<w:p><w:r><w:t>%s</w:t></w:r></w:p>", para("de", 80))
	}
	fmt.Fprint(w, "</w:body></w:document>")
	z.Close()
	files["vulkane.docx"] = docx.Bytes()
	return files
}

// collectionDigest hashes what a collection stores and finds: every
// document (without its timestamps) and its chunks, and the BM25 results,
// with scores to the last bit, of a set of queries.
func collectionDigest(t *testing.T, col *quarry.Collection, ids []string) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	for _, id := range ids {
		d, err := col.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		d.Created, d.Updated = time.Time{}, time.Time{}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
		chunks, err := col.Chunks(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		b, err = json.Marshal(chunks)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	for _, q := range []string{"granite", "glacier river", "Gletscher", "Gesellschaft", "Schifffahrt", "montagne", "volcán roca", "ледник", "北京", "冰川", "بركان", "section", "vulkane", "Rocks"} {
		res, err := col.Search(ctx, quarry.SearchRequest{Query: q, K: 25, Mode: "bm25"})
		if err != nil {
			t.Fatal(err)
		}
		for _, hit := range res.Results {
			fmt.Fprintf(h, "%s|%s|%d|%s|%s\n", q, hit.ChunkID, hit.Start, strconv.FormatFloat(hit.Score, 'g', -1, 64), hit.Text)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestIngestDigestUnchanged ingests goldenCorpus through an Ingester in
// small batches (many commits, both analysing goroutines busy) and
// compares what is stored and found with the digest recorded before the
// memory passes, then again after a reopen (the index rebuilt from the
// snapshot and the store's log).
func TestIngestDigestUnchanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	col, err := eng.EnsureCollection(ctx, "golden")
	if err != nil {
		t.Fatal(err)
	}
	files := goldenCorpus()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	g := col.NewIngester(&quarry.StreamOptions{BatchBytes: 16 << 10})
	for _, n := range names {
		if err := g.Add(ctx, bytes.NewReader(files[n]), n); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	g.Flush(ctx)
	_, errs := g.Results()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
	}
	page, err := col.ListDocuments(ctx, quarry.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range page.Documents {
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	if len(ids) < 96 {
		t.Fatalf("only %d documents stored", len(ids))
	}
	got := collectionDigest(t, col, ids)
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if got != ingestDigestGolden {
		t.Errorf("digest of %d documents = %s, want %s", len(ids), got, ingestDigestGolden)
	}
	eng, err = quarry.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, err = eng.Collection(ctx, "golden")
	if err != nil {
		t.Fatal(err)
	}
	if again := collectionDigest(t, col, ids); again != got {
		t.Errorf("after a reopen the digest is %s, was %s", again, got)
	}
}

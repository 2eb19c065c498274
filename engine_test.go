package quarry_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/base"
)

// openTest opens an engine in a temporary directory and checks, when the
// test ends, that every collection is consistent.
func openTest(t *testing.T, dir string) *quarry.Engine {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, name := range eng.Collections() {
			if c, err := eng.Collection(context.Background(), name); err == nil {
				if err := c.Verify(context.Background()); err != nil {
					t.Errorf("collection %s inconsistent at end of test: %v", name, err)
				}
			}
		}
		eng.Close()
	})
	return eng
}

func mustCol(t *testing.T, eng *quarry.Engine, name string) *quarry.Collection {
	t.Helper()
	c, err := eng.EnsureCollection(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func upsert(t *testing.T, c *quarry.Collection, docs ...quarry.Document) []quarry.UpsertResult {
	t.Helper()
	res, err := c.Upsert(context.Background(), docs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func searchIDs(t *testing.T, c *quarry.Collection, req quarry.SearchRequest) []string {
	t.Helper()
	res, err := c.Search(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range res.Results {
		ids = append(ids, h.DocID)
	}
	return ids
}

func TestUpsertSemantics(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, "")
	c := mustCol(t, eng, "docs")
	d := quarry.Document{ID: "a", Title: "Granite", Text: "Granite is an igneous rock rich in quartz and feldspar."}
	if r := upsert(t, c, d); r[0].Status != quarry.StatusCreated || r[0].Version != 1 || r[0].Chunks != 1 {
		t.Fatalf("first upsert: %+v", r[0])
	}
	gen := c.Generation()
	if r := upsert(t, c, d); r[0].Status != quarry.StatusUnchanged || r[0].Version != 1 {
		t.Fatalf("same content: %+v", r[0])
	}
	if c.Generation() != gen {
		t.Fatal("an unchanged upsert must not write")
	}
	d.Text = "Basalt is a fine-grained volcanic rock."
	if r := upsert(t, c, d); r[0].Status != quarry.StatusUpdated || r[0].Version != 2 {
		t.Fatalf("changed content: %+v", r[0])
	}
	if ids := searchIDs(t, c, quarry.SearchRequest{Query: "quartz feldspar"}); len(ids) != 0 {
		t.Fatalf("old content still found: %v", ids)
	}
	if ids := searchIDs(t, c, quarry.SearchRequest{Query: "volcanic basalt"}); len(ids) != 1 || ids[0] != "a" {
		t.Fatalf("new content not found: %v", ids)
	}
	got, err := c.Get(ctx, "a")
	if err != nil || got.Version != 2 || got.Language != "en" || got.Hash == "" || got.Created.IsZero() || got.Updated.Before(got.Created) {
		t.Fatalf("get: %+v, %v", got, err)
	}
	if err := c.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ids := searchIDs(t, c, quarry.SearchRequest{Query: "volcanic basalt"}); len(ids) != 0 {
		t.Fatalf("deleted document found: %v", ids)
	}
	if _, err := c.Get(ctx, "a"); !errors.Is(err, quarry.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if err := c.Delete(ctx, "a"); !errors.Is(err, quarry.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestPersistenceAndDeletesSurviveReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := mustCol(t, eng, "docs")
	upsert(t, c,
		quarry.Document{ID: "keep", Text: "Marble is metamorphosed limestone."},
		quarry.Document{ID: "gone", Text: "Slate is a fine-grained metamorphic rock from shale."},
	)
	if err := c.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng = openTest(t, dir)
	c, err = eng.Collection(context.Background(), "docs")
	if err != nil {
		t.Fatal(err)
	}
	if ids := searchIDs(t, c, quarry.SearchRequest{Query: "marble limestone"}); len(ids) != 1 || ids[0] != "keep" {
		t.Fatalf("after reopen: %v", ids)
	}
	if ids := searchIDs(t, c, quarry.SearchRequest{Query: "shale slate"}); len(ids) != 0 {
		t.Fatalf("deleted document came back after reopen: %v", ids)
	}
}

func TestTenantsAndACLAreEnforcedInsideRetrieval(t *testing.T) {
	eng := openTest(t, "")
	c := mustCol(t, eng, "docs")
	// Many strong public matches and one weak private one: trimming a
	// top-k afterwards would lose the private document; filtering inside
	// retrieval must find it.
	var docs []quarry.Document
	for i := 0; i < 50; i++ {
		docs = append(docs, quarry.Document{ID: "pub" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Text: "quarry quarry quarry stone report"})
	}
	docs = append(docs,
		quarry.Document{ID: "acme-secret", Tenant: "acme", Text: "quarry expansion plan for the acme site"},
		quarry.Document{ID: "acme-hr", Tenant: "acme", ACL: []string{"group:hr"}, Text: "quarry salaries for the acme staff"},
		quarry.Document{ID: "globex", Tenant: "globex", Text: "quarry lease for globex"},
	)
	upsert(t, c, docs...)
	cases := []struct {
		name       string
		tenant     string
		principals []string
		want       []string // exactly these among restricted ids
	}{
		{"no tenant sees only untenanted", "", nil, nil},
		{"acme without principals", "acme", nil, []string{"acme-secret"}},
		{"acme hr", "acme", []string{"user:bob", "group:hr"}, []string{"acme-hr", "acme-secret"}},
		{"globex", "globex", []string{"group:hr"}, []string{"globex"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ids := searchIDs(t, c, quarry.SearchRequest{Query: "quarry", K: 3, Tenant: tc.tenant, Principals: tc.principals})
			var restricted []string
			for _, id := range ids {
				if !strings.HasPrefix(id, "pub") {
					restricted = append(restricted, id)
				}
			}
			if strings.Join(sorted(restricted), ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %v, want restricted %v", ids, tc.want)
			}
			if tc.tenant != "" && len(ids) != len(tc.want) {
				t.Fatalf("tenant %s saw untenanted documents: %v", tc.tenant, ids)
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestMetadataFiltersInsideRetrieval(t *testing.T) {
	eng := openTest(t, "")
	c := mustCol(t, eng, "docs")
	for i := 0; i < 40; i++ {
		upsert(t, c, quarry.Document{
			ID: "d" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Text: strings.Repeat("enzyme kinetics ", 1+i%5),
			Metadata: base.Metadata{"year": base.Number(float64(1990 + i)), "kind": base.String([]string{"paper", "note"}[i%2])},
		})
	}
	f := base.Filter{Op: base.OpAnd, Children: []base.Filter{
		{Op: base.OpGte, Field: "year", Value: base.Number(2025)},
		{Op: base.OpEq, Field: "kind", Value: base.String("note")},
	}}
	res, err := c.Search(context.Background(), quarry.SearchRequest{Query: "enzyme", K: 100, Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	// years 2025..2029 are i = 35..39; odd i are notes: 35, 37, 39.
	if len(res.Results) != 3 {
		t.Fatalf("want 3 filtered results, got %d", len(res.Results))
	}
	bad := base.Filter{Op: base.OpGt, Field: "year"}
	if _, err := c.Search(context.Background(), quarry.SearchRequest{Query: "enzyme", Filter: bad}); !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("invalid filter: %v", err)
	}
}

func TestAskCitationsPointAtRealText(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, "")
	c := mustCol(t, eng, "docs")
	upsert(t, c,
		quarry.Document{ID: "rocks", Title: "Rocks", Text: "Über Gesteine: ein Vorwort.\n\nGranite forms from slowly cooling magma deep underground. It is rich in quartz. Basalt forms from lava that cools quickly at the surface."},
		quarry.Document{ID: "rivers", Title: "Rivers", Text: "Rivers carve valleys over millions of years. Sediment is deposited at the river mouth."},
	)
	ans, err := c.Ask(ctx, quarry.AskRequest{Question: "How does granite form?"})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Method != "extractive" || len(ans.Citations) == 0 {
		t.Fatalf("no extractive answer: %+v", ans)
	}
	if !strings.Contains(ans.Answer, "Granite forms from slowly cooling magma") || !strings.Contains(ans.Answer, "[1]") {
		t.Fatalf("answer does not quote the best sentence: %q", ans.Answer)
	}
	for _, cit := range ans.Citations {
		d, err := c.Get(ctx, cit.DocID)
		if err != nil {
			t.Fatal(err)
		}
		runes := []rune(d.Text)
		if cit.Start < 0 || cit.End > len(runes) || string(runes[cit.Start:cit.End]) != cit.Text {
			t.Fatalf("citation %+v does not point at its text in %q", cit, d.Text)
		}
		if !strings.Contains(ans.Answer, cit.Text) {
			t.Fatalf("cited text %q not in answer", cit.Text)
		}
	}
	none, err := c.Ask(ctx, quarry.AskRequest{Question: "photosynthesis chlorophyll"})
	if err != nil || none.Method != "none" || none.Answer != quarry.NoAnswer || len(none.Citations) != 0 {
		t.Fatalf("unanswerable question: %+v, %v", none, err)
	}
}

func TestBadInputIsRejectedAndNothingIsWritten(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, "")
	c := mustCol(t, eng, "docs")
	good := quarry.Document{ID: "good", Text: "fine text"}
	cases := []struct {
		name  string
		doc   quarry.Document
		field string
		want  error
	}{
		{"missing id", quarry.Document{Text: "x"}, "documents[1].id", quarry.ErrInvalid},
		{"empty text", quarry.Document{ID: "e", Text: " \n\t "}, "documents[1].text", quarry.ErrInvalid},
		{"invalid utf8", quarry.Document{ID: "u", Text: "ok \xff\xfe bad"}, "documents[1].text", quarry.ErrInvalid},
		{"bad language", quarry.Document{ID: "l", Text: "x", Language: "English"}, "documents[1].language", quarry.ErrInvalid},
		{"empty acl entry", quarry.Document{ID: "a", Text: "x", ACL: []string{""}}, "documents[1].acl[0]", quarry.ErrInvalid},
		{"too large", quarry.Document{ID: "big", Text: strings.Repeat("a", 64<<20+1)}, "documents[1].text", quarry.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Upsert(ctx, []quarry.Document{good, tc.doc}, nil)
			var fe *quarry.FieldError
			if !errors.Is(err, tc.want) || !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want %v on field %s", err, tc.want, tc.field)
			}
			if _, err := c.Get(ctx, "good"); !errors.Is(err, quarry.ErrNotFound) {
				t.Fatal("a batch with an invalid document was partly written")
			}
		})
	}
	if _, err := c.Search(ctx, quarry.SearchRequest{Query: ""}); !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("empty query: %v", err)
	}
	if _, err := c.Search(ctx, quarry.SearchRequest{Query: "x", K: quarry.MaxK + 1}); !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("k too large: %v", err)
	}
	if _, err := eng.Collection(context.Background(), "nope"); !errors.Is(err, quarry.ErrNotFound) {
		t.Fatalf("unknown collection: %v", err)
	}
	if _, err := eng.EnsureCollection(ctx, "../escape"); !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("bad collection name: %v", err)
	}
	if _, _, err := eng.CreateCollection(ctx, "docs", &quarry.CollectionConfig{Chunking: quarry.ChunkingConfig{Size: 99}}); !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("reconfiguring an existing collection: %v", err)
	}
}

func TestMultilingualSearch(t *testing.T) {
	eng := openTest(t, "")
	c := mustCol(t, eng, "docs")
	upsert(t, c,
		quarry.Document{ID: "de", Text: "Die Steinbrüche der Region lieferten Granit für viele Kathedralen."},
		quarry.Document{ID: "zh", Text: "采石场为许多大教堂提供了花岗岩。"},
		quarry.Document{ID: "en", Text: "The quarries of the region supplied granite for many cathedrals."},
	)
	for q, want := range map[string]string{"Die Steinbrüche lieferten Granit für Kathedralen": "de", "花岗岩": "zh", "The quarries supplied granite for cathedrals": "en"} {
		ids := searchIDs(t, c, quarry.SearchRequest{Query: q})
		if len(ids) == 0 || ids[0] != want {
			t.Errorf("query %q: got %v, want %s first", q, ids, want)
		}
	}
	d, _ := c.Get(context.Background(), "zh")
	if d.Language != "zh" || !utf8.ValidString(d.Text) {
		t.Errorf("detected language %q for Chinese text", d.Language)
	}
}

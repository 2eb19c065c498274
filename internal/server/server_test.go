package server

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestHealthAndReady(t *testing.T) {
	h := newHarness(t, Options{})
	if r := h.do("GET", "/healthz", nil).mustStatus(t, http.StatusOK); r.str("status") != "ok" {
		t.Errorf("healthz: %s", r.body)
	}
	if r := h.do("GET", "/readyz", nil).mustStatus(t, http.StatusOK); r.str("status") != "ready" {
		t.Errorf("readyz: %s", r.body)
	}
	h.srv.draining.Store(true)
	wantError(t, h.do("GET", "/readyz", nil), http.StatusServiceUnavailable, codeUnavailable, "")
	if r := h.do("GET", "/healthz", nil); r.status != http.StatusOK {
		t.Errorf("healthz while draining: %d, want 200 (the process is alive)", r.status)
	}
}

func TestWebUI(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("GET", "/", nil).mustStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	// Every local file the page references is served with its type, and no
	// resource comes from another origin.
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(r.body), -1)
	if len(refs) < 2 {
		t.Fatalf("index.html references %d files, want the script and the style sheet", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if strings.Contains(ref, "//") {
			t.Errorf("index.html references another origin: %s", ref)
			continue
		}
		if !strings.HasPrefix(ref, "/static/") {
			continue
		}
		fr := h.do("GET", ref, nil).mustStatus(t, http.StatusOK)
		want := map[bool]string{true: "text/javascript; charset=utf-8", false: "text/css; charset=utf-8"}[strings.HasSuffix(ref, ".js")]
		if ct := fr.header.Get("Content-Type"); ct != want {
			t.Errorf("%s: Content-Type %q, want %q", ref, ct, want)
		}
	}
	for _, p := range []string{"/static/nope.js", "/static/index.html", "/static/doc.go"} {
		wantError(t, h.do("GET", p, nil), http.StatusNotFound, codeNotFound, "")
	}
	if r := h.do("HEAD", "/", nil); r.status != http.StatusOK || len(r.body) != 0 {
		t.Errorf("HEAD /: %d, %d body bytes", r.status, len(r.body))
	}
}

func TestCollections(t *testing.T) {
	h := newHarness(t, Options{})
	if r := h.do("GET", "/v1/collections", nil).mustStatus(t, http.StatusOK); len(r.list("collections")) != 0 {
		t.Errorf("a new engine lists collections: %s", r.body)
	}
	cfg := map[string]any{"chunking": map[string]any{"size": 64, "overlap": 8}, "bm25": map[string]any{"k1": 1.2}}
	r := h.do("PUT", "/v1/collections/docs", cfg).mustStatus(t, http.StatusCreated)
	if r.get("created") != true || r.str("name") != "docs" {
		t.Errorf("create: %s", r.body)
	}
	if got := r.get("config.chunking.size"); got != float64(64) {
		t.Errorf("chunking.size = %v, want 64", got)
	}
	if got := r.str("config.chunking.strategy"); got != "recursive" {
		t.Errorf("defaults not filled: strategy %q", got)
	}
	if got := r.get("config.bm25.b"); got != 0.4 {
		t.Errorf("bm25.b = %v, want the default 0.4", got)
	}
	if r := h.do("PUT", "/v1/collections/docs", cfg).mustStatus(t, http.StatusOK); r.get("created") != false {
		t.Errorf("second PUT: %s", r.body)
	}
	// A different configuration (an empty body means defaults) is refused.
	wantError(t, h.doRaw("PUT", "/v1/collections/docs", "", nil), http.StatusBadRequest, codeInvalid, "config")
	wantError(t, h.do("PUT", "/v1/collections/docs", map[string]any{"chunking": map[string]any{"size": 65, "overlap": 8}}), http.StatusBadRequest, codeInvalid, "config")
	wantError(t, h.do("PUT", "/v1/collections/bad", map[string]any{"chunking": map[string]any{"strategy": "magic"}}), http.StatusBadRequest, codeInvalid, "chunking.strategy")
	wantError(t, h.do("PUT", "/v1/collections/bad", map[string]any{"bm25": map[string]any{"b": 2}}), http.StatusBadRequest, codeInvalid, "bm25.b")
	wantError(t, h.do("PUT", "/v1/collections/bad%20name!", map[string]any{}), http.StatusBadRequest, codeInvalid, "collection")

	if r := h.doRaw("PUT", "/v1/collections/plain", "", nil).mustStatus(t, http.StatusCreated); r.get("config.chunking.size") != float64(256) {
		t.Errorf("empty body should create with defaults: %s", r.body)
	}
	h.upsert("docs", map[string]any{"id": "a", "text": "Granite is an igneous rock."})
	r = h.do("GET", "/v1/collections/docs", nil).mustStatus(t, http.StatusOK)
	if r.get("stats.documents") != float64(1) || r.get("stats.chunks") != float64(1) || r.get("config.chunking.size") != float64(64) {
		t.Errorf("collection info: %s", r.body)
	}
	r = h.do("GET", "/v1/collections", nil).mustStatus(t, http.StatusOK)
	if got := r.list("collections"); len(got) != 2 || got[0] != "docs" || got[1] != "plain" {
		t.Errorf("collections = %v, want [docs plain]", got)
	}
	wantError(t, h.do("GET", "/v1/collections/missing", nil), http.StatusNotFound, codeNotFound, "")
}

func TestDocuments(t *testing.T) {
	h := newHarness(t, Options{})
	const base = "/v1/collections/notes/documents"
	// The first write creates the collection.
	r := h.do("POST", base, map[string]any{"id": "doc1", "title": "Quartz", "text": "Quartz is a hard mineral made of silica.", "metadata": map[string]any{"year": 2021, "kind": "mineral", "hard": true}}).mustStatus(t, http.StatusOK)
	res := r.list("results")
	if len(res) != 1 || res[0].(map[string]any)["status"] != "created" || res[0].(map[string]any)["version"] != float64(1) {
		t.Fatalf("first write: %s", r.body)
	}
	if !slices.Contains(h.eng.Collections(), "notes") {
		t.Fatal("the first write did not create the collection")
	}
	if r := h.do("POST", base, map[string]any{"id": "doc1", "title": "Quartz", "text": "Quartz is a hard mineral made of silica.", "metadata": map[string]any{"year": 2021, "kind": "mineral", "hard": true}}).mustStatus(t, http.StatusOK); r.list("results")[0].(map[string]any)["status"] != "unchanged" {
		t.Errorf("re-write: %s", r.body)
	}
	res = h.upsert("notes",
		map[string]any{"id": "doc1", "title": "Quartz", "text": "Quartz is a hard mineral made of silicon dioxide."},
		map[string]any{"id": "dir/sub/file.md", "text": "A file in a directory."},
	)
	if got := []any{res[0].(map[string]any)["status"], res[0].(map[string]any)["version"], res[1].(map[string]any)["status"]}; got[0] != "updated" || got[1] != float64(2) || got[2] != "created" {
		t.Errorf("batch results: %v", res)
	}

	r = h.do("GET", base+"/doc1", nil).mustStatus(t, http.StatusOK)
	if r.str("text") != "Quartz is a hard mineral made of silicon dioxide." || r.get("version") != float64(2) || r.str("hash") == "" || r.str("created") == "" || r.str("language") != "en" {
		t.Errorf("GET: %s", r.body)
	}
	if r.get("chunks") != nil {
		t.Error("chunks returned without ?chunks=true")
	}
	r = h.do("GET", base+"/doc1?chunks=true", nil).mustStatus(t, http.StatusOK)
	chunks := r.list("chunks")
	if len(chunks) == 0 {
		t.Fatalf("no chunks: %s", r.body)
	}
	text := []rune(r.str("text"))
	for _, c := range chunks {
		c := c.(map[string]any)
		start, end := int(c["start"].(float64)), int(c["end"].(float64))
		if string(text[start:end]) != c["text"] {
			t.Errorf("chunk %v: text[%d:%d] = %q, want its text %q", c["id"], start, end, string(text[start:end]), c["text"])
		}
	}
	wantError(t, h.do("GET", base+"/doc1?chunks=maybe", nil), http.StatusBadRequest, codeInvalid, "chunks")

	// Ids with '/', literally or percent-encoded.
	for _, p := range []string{"/dir/sub/file.md", "/dir%2Fsub%2Ffile.md"} {
		if r := h.do("GET", base+p, nil).mustStatus(t, http.StatusOK); r.str("id") != "dir/sub/file.md" {
			t.Errorf("GET %s: id %q", p, r.str("id"))
		}
	}
	if r := h.do("PUT", base+"/a%2F%2Fb", map[string]any{"text": "Double slash ids must be encoded."}).mustStatus(t, http.StatusOK); r.str("id") != "a//b" || r.str("status") != "created" {
		t.Errorf("PUT a//b: %s", r.body)
	}
	h.do("GET", base+"/a%2F%2Fb", nil).mustStatus(t, http.StatusOK)
	if r := h.do("PUT", base+"/dir/", map[string]any{"text": "A trailing slash is part of the id."}).mustStatus(t, http.StatusOK); r.str("id") != "dir/" {
		t.Errorf("PUT dir/: %s", r.body)
	}

	// PUT: the id comes from the path; a different body id is an error.
	if r := h.do("PUT", base+"/doc3", map[string]any{"text": "Feldspar is common."}).mustStatus(t, http.StatusOK); r.str("id") != "doc3" || r.str("status") != "created" || r.get("chunks") != float64(1) {
		t.Errorf("PUT doc3: %s", r.body)
	}
	wantError(t, h.do("PUT", base+"/doc3", map[string]any{"id": "other", "text": "x"}), http.StatusBadRequest, codeInvalid, "id")
	if r := h.do("PUT", base+"/doc3", map[string]any{"id": "doc3", "text": "Feldspar is very common."}).mustStatus(t, http.StatusOK); r.str("status") != "updated" {
		t.Errorf("PUT doc3 again: %s", r.body)
	}
	wantError(t, h.do("PUT", base+"/doc3", map[string]any{"text": ""}), http.StatusBadRequest, codeInvalid, "text")

	// DELETE.
	if r := h.do("DELETE", base+"/doc1", nil).mustStatus(t, http.StatusOK); r.str("deleted") != "doc1" {
		t.Errorf("DELETE: %s", r.body)
	}
	wantError(t, h.do("GET", base+"/doc1", nil), http.StatusNotFound, codeNotFound, "")
	wantError(t, h.do("DELETE", base+"/doc1", nil), http.StatusNotFound, codeNotFound, "")
	wantError(t, h.do("DELETE", "/v1/collections/nothing/documents/doc1", nil), http.StatusNotFound, codeNotFound, "")
	wantError(t, h.do("GET", "/v1/collections/nothing/documents/doc1", nil), http.StatusNotFound, codeNotFound, "")
	wantError(t, h.do("GET", base+"/", nil), http.StatusBadRequest, codeInvalid, "id")
}

func TestSearchAndAsk(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("geo",
		map[string]any{"id": "lh", "title": "Lighthouses", "text": "Café owners in Zürich love stories. The lighthouse keeper lit the lamp every evening at dusk. Ships relied on the lighthouse beam to avoid the rocks.", "metadata": map[string]any{"year": 2022}},
		map[string]any{"id": "vol", "title": "Volcanoes", "text": "A volcano erupts when magma rises through the crust. Lava cools into basalt.", "metadata": map[string]any{"year": 2019}},
		map[string]any{"id": "riv", "title": "Rivers", "text": "Rivers carve valleys over millions of years. A lighthouse stands where the river meets the sea.", "metadata": map[string]any{"year": 2021}},
	)
	r := h.do("POST", "/v1/collections/geo/search", map[string]any{"query": "lighthouse keeper"}).mustStatus(t, http.StatusOK)
	hits := r.list("results")
	if len(hits) == 0 || hitIDs(hits)[0] != "lh" {
		t.Fatalf("search: %s", r.body)
	}
	if r.str("mode") != "bm25" {
		t.Errorf("mode %q", r.str("mode"))
	}
	docText := map[string][]rune{}
	for _, id := range []string{"lh", "vol", "riv"} {
		docText[id] = []rune(h.do("GET", "/v1/collections/geo/documents/"+id, nil).mustStatus(t, http.StatusOK).str("text"))
	}
	for _, x := range hits {
		hit := x.(map[string]any)
		text := docText[hit["doc_id"].(string)]
		start, end := int(hit["start"].(float64)), int(hit["end"].(float64))
		if string(text[start:end]) != hit["text"] {
			t.Errorf("hit %v: document text[%d:%d] is not the hit's text", hit["chunk_id"], start, end)
		}
	}
	if r := h.do("POST", "/v1/collections/geo/search", map[string]any{"query": "lighthouse", "k": 1}).mustStatus(t, http.StatusOK); len(r.list("results")) != 1 {
		t.Errorf("k=1: %s", r.body)
	}
	r = h.do("POST", "/v1/collections/geo/search", map[string]any{"query": "lighthouse", "filter": map[string]any{"field": "year", "op": "gte", "value": 2022}}).mustStatus(t, http.StatusOK)
	if got := hitIDs(r.list("results")); !slices.Equal(got, []string{"lh"}) {
		t.Errorf("filter year>=2022: %v, want [lh]", got)
	}
	r = h.do("POST", "/v1/collections/geo/search", map[string]any{"query": "lighthouse", "filter": map[string]any{"not": map[string]any{"field": "doc_id", "value": "lh"}}}).mustStatus(t, http.StatusOK)
	if got := hitIDs(r.list("results")); !slices.Equal(got, []string{"riv"}) {
		t.Errorf("filter not doc_id=lh: %v, want [riv]", got)
	}

	r = h.do("POST", "/v1/collections/geo/ask", map[string]any{"question": "What did the lighthouse keeper do every evening?"}).mustStatus(t, http.StatusOK)
	if r.str("method") != "extractive" || !strings.Contains(r.str("answer"), "[1]") {
		t.Fatalf("ask: %s", r.body)
	}
	cits := r.list("citations")
	if len(cits) == 0 {
		t.Fatalf("no citations: %s", r.body)
	}
	sourceChunks := map[string]bool{}
	for _, s := range r.list("sources") {
		sourceChunks[s.(map[string]any)["chunk_id"].(string)] = true
	}
	for _, x := range cits {
		c := x.(map[string]any)
		text := docText[c["doc_id"].(string)]
		start, end := int(c["start"].(float64)), int(c["end"].(float64))
		if string(text[start:end]) != c["text"] {
			t.Errorf("citation [%v]: document text[%d:%d] = %q, want the cited text %q", c["marker"], start, end, string(text[start:end]), c["text"])
		}
		if !strings.Contains(r.str("answer"), fmt.Sprintf("[%d]", int(c["marker"].(float64)))) {
			t.Errorf("marker %v not in the answer", c["marker"])
		}
		if !sourceChunks[c["chunk_id"].(string)] {
			t.Errorf("citation [%v] cites chunk %v, which is not among the sources", c["marker"], c["chunk_id"])
		}
	}
	r = h.do("POST", "/v1/collections/geo/ask", map[string]any{"question": "zebra quantum xylophone"}).mustStatus(t, http.StatusOK)
	if r.str("method") != "none" || len(r.list("citations")) != 0 {
		t.Errorf("unanswerable: %s", r.body)
	}
}

// TestTenantIsolation checks through the HTTP API that a document is never
// shown outside its tenant or, with an ACL, to a request whose principals do
// not intersect it: by search, by ask, or by id.
func TestTenantIsolation(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("sec",
		map[string]any{"id": "shared", "text": "The aurora borealis glows green over the tundra."},
		map[string]any{"id": "a1", "tenant": "acme", "text": "The aurora borealis glows over the acme headquarters."},
		map[string]any{"id": "a2", "tenant": "acme", "acl": []string{"team-x", "alice"}, "text": "Secret aurora borealis research at acme."},
		map[string]any{"id": "b1", "tenant": "globex", "text": "The aurora borealis seen from the globex towers."},
	)
	tests := []struct {
		tenant     string
		principals []string
		want       []string
	}{
		{"", nil, []string{"shared"}},
		{"", []string{"team-x"}, []string{"shared"}},
		{"acme", nil, []string{"a1"}},
		{"acme", []string{"team-y"}, []string{"a1"}},
		{"acme", []string{"team-y", "team-x"}, []string{"a1", "a2"}},
		{"acme", []string{"alice"}, []string{"a1", "a2"}},
		{"globex", nil, []string{"b1"}},
		{"globex", []string{"team-x"}, []string{"b1"}},
		{"nobody", []string{"team-x"}, nil},
	}
	for _, tt := range tests {
		req := map[string]any{"query": "aurora borealis", "k": 100, "tenant": tt.tenant}
		if tt.principals != nil {
			req["principals"] = tt.principals
		}
		r := h.do("POST", "/v1/collections/sec/search", req).mustStatus(t, http.StatusOK)
		got := hitIDs(r.list("results"))
		slices.Sort(got)
		if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("search tenant=%q principals=%v: %v, want %v", tt.tenant, tt.principals, got, tt.want)
		}
		delete(req, "query")
		req["question"] = "Where does the aurora borealis glow?"
		delete(req, "k")
		r = h.do("POST", "/v1/collections/sec/ask", req).mustStatus(t, http.StatusOK)
		for _, list := range []string{"sources", "citations"} {
			for _, id := range hitIDs(r.list(list)) {
				if !slices.Contains(tt.want, id) {
					t.Errorf("ask tenant=%q principals=%v: %s cites %s", tt.tenant, tt.principals, list, id)
				}
			}
		}
		// By id: each document is visible exactly when search may return it.
		for _, id := range []string{"shared", "a1", "a2", "b1"} {
			q := "?tenant=" + tt.tenant
			for _, p := range tt.principals {
				q += "&principal=" + p
			}
			r := h.do("GET", "/v1/collections/sec/documents/"+id+q, nil)
			want := http.StatusNotFound
			if slices.Contains(tt.want, id) {
				want = http.StatusOK
			}
			if r.status != want {
				t.Errorf("GET %s%s: %d, want %d", id, q, r.status, want)
			}
		}
	}
}

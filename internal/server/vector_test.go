package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/store/weaviate"
	"github.com/quarry-rag/quarry/internal/testutil"
)

// embeddingModel is the real model the vector tests embed with.
const embeddingModel = "all-MiniLM-L6-v2"

// requireEmbeddingModel skips the test when the model is not cached, and
// fails it instead under CI=true.
func requireEmbeddingModel(t *testing.T) {
	t.Helper()
	home := os.Getenv("QUARRY_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "quarry")
	}
	if _, err := os.Stat(filepath.Join(home, "models", embeddingModel, "model.safetensors")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("model %s is not cached; `make models` fetches it", embeddingModel)
		}
		t.Skipf("model %s is not cached (run `make models`)", embeddingModel)
	}
}

// TestVectorConfigRoundTrip: a collection created over HTTP with a vector
// index configuration gets it (not the default HNSW), GET shows it with the
// defaults filled in, and re-putting either the request or the returned
// configuration is accepted as the same collection.
func TestVectorConfigRoundTrip(t *testing.T) {
	requireEmbeddingModel(t)
	h := newHarness(t, Options{})
	cases := []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{"q8", map[string]any{"quantization": "int8"},
			map[string]any{"index": "hnsw", "m": 16.0, "ef_construction": 200.0, "ef_search": 64.0, "quantization": "int8"}},
		{"sq8", map[string]any{"quantization": "sq8"},
			map[string]any{"index": "hnsw", "m": 16.0, "ef_construction": 200.0, "ef_search": 64.0, "quantization": "sq8"}},
		{"flat", map[string]any{"index": "flat"}, map[string]any{"index": "flat"}},
		{"bin", map[string]any{"index": "flat", "quantization": "binary"}, map[string]any{"index": "flat", "quantization": "binary"}},
		{"ivf", map[string]any{"index": "ivf", "nlist": 4, "nprobe": 2},
			map[string]any{"index": "ivf", "nlist": 4.0, "nprobe": 2.0}},
		{"hnsw", map[string]any{"m": 8, "ef_construction": 50, "ef_search": 20},
			map[string]any{"index": "hnsw", "m": 8.0, "ef_construction": 50.0, "ef_search": 20.0}},
	}
	for _, c := range cases {
		path := "/v1/collections/" + c.name
		body := map[string]any{"embedding": embeddingModel, "vector": c.in}
		r := h.do("PUT", path, body).mustStatus(t, http.StatusCreated)
		if got := r.get("config.vector"); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: PUT config.vector = %v, want %v", c.name, got, c.want)
		}
		g := h.do("GET", path, nil).mustStatus(t, http.StatusOK)
		if !reflect.DeepEqual(g.get("config"), r.get("config")) {
			t.Errorf("%s: GET config %v differs from PUT's %v", c.name, g.get("config"), r.get("config"))
		}
		// The same request again, and the configuration GET returned, are
		// the same collection.
		if r := h.do("PUT", path, body).mustStatus(t, http.StatusOK); r.get("created") != false {
			t.Errorf("%s: re-PUT: %s", c.name, r.body)
		}
		if r := h.do("PUT", path, g.get("config")).mustStatus(t, http.StatusOK); r.get("created") != false {
			t.Errorf("%s: PUT of GET's config: %s", c.name, r.body)
		}
	}
	// A different vector configuration is refused, naming the difference.
	r := h.do("PUT", "/v1/collections/q8", map[string]any{"embedding": embeddingModel})
	wantError(t, r, http.StatusBadRequest, codeInvalid, "config")
	if !strings.Contains(r.str("error.message"), "vector differs") {
		t.Errorf("message %q does not say the vector index differs", r.str("error.message"))
	}
	// The configuration is kept across a reopen of the engine's data: the
	// engine stored what the server passed.
	col, err := h.eng.Collection(context.Background(), "q8")
	if err != nil {
		t.Fatal(err)
	}
	if q := col.Config().Vector.Quantization; q != "int8" {
		t.Errorf("engine's collection q8 has quantization %q, want int8", q)
	}
}

// TestVectorStats: GET collection reports the vector index's size, and an
// int8 index holds fewer bytes per vector than a float32 one.
func TestVectorStats(t *testing.T) {
	requireEmbeddingModel(t)
	h := newHarness(t, Options{})
	h.do("PUT", "/v1/collections/f32", map[string]any{"embedding": embeddingModel}).mustStatus(t, http.StatusCreated)
	h.do("PUT", "/v1/collections/q8", map[string]any{"embedding": embeddingModel, "vector": map[string]any{"quantization": "int8"}}).mustStatus(t, http.StatusCreated)
	h.do("PUT", "/v1/collections/lex", nil).mustStatus(t, http.StatusCreated)
	docs := corpus(12)
	perVector := map[string]float64{}
	for _, name := range []string{"f32", "q8", "lex"} {
		h.upsert(name, docs...)
		r := h.do("GET", "/v1/collections/"+name, nil).mustStatus(t, http.StatusOK)
		chunks, vectors := r.get("stats.chunks"), r.get("stats.vectors")
		if name == "lex" {
			if vectors != 0.0 || r.get("stats.dimension") != 0.0 || r.get("stats.vector_bytes") != 0.0 {
				t.Errorf("lex: a collection without embeddings reports vectors: %s", r.body)
			}
			continue
		}
		if vectors != chunks || vectors == 0.0 {
			t.Errorf("%s: stats.vectors = %v, want the %v chunks", name, vectors, chunks)
		}
		if d := r.get("stats.dimension"); d != 384.0 {
			t.Errorf("%s: stats.dimension = %v, want 384", name, d)
		}
		vb, _ := r.get("stats.vector_bytes").(float64)
		bpv, _ := r.get("stats.bytes_per_vector").(float64)
		if vb <= 0 || bpv <= 0 {
			t.Errorf("%s: vector_bytes %v, bytes_per_vector %v, want > 0", name, vb, bpv)
		}
		perVector[name] = bpv
	}
	t.Logf("bytes_per_vector: %v", perVector)
	if perVector["q8"] >= perVector["f32"] {
		t.Errorf("bytes_per_vector: int8 %v, float32 %v; want int8 smaller", perVector["q8"], perVector["f32"])
	}
}

// corpus returns n (at most 256) distinct short documents.
func corpus(n int) []map[string]any {
	subjects := []string{"The cat", "A volcano", "The violinist", "An old ship", "The bakery", "A glacier", "The programmer", "A hummingbird",
		"The senator", "A comet", "The gardener", "A submarine", "The chess player", "A desert fox", "The surgeon", "A lighthouse"}
	actions := []string{"sleeps beside", "erupts near", "rehearses in", "sinks under", "bakes bread for", "melts into", "debugs code at", "hovers over",
		"argues about", "streaks across", "plants tulips in", "dives beneath", "studies openings with", "hunts mice around", "operates on", "shines over"}
	places := []string{"the warm fireplace", "a sleepy village", "the concert hall", "the stormy harbour", "the morning market", "the cold sea",
		"a noisy startup", "the flower garden", "the new tax law", "the night sky", "the spring greenhouse", "the arctic ice", "a grandmaster",
		"the sand dunes", "the injured patient", "the rocky coast"}
	docs := make([]map[string]any, n)
	for i := range n {
		docs[i] = map[string]any{
			"id":   fmt.Sprintf("d%03d", i),
			"text": fmt.Sprintf("%s %s %s.", subjects[i%16], actions[(i/16+i)%16], places[(i*3+i/16*5)%16]),
		}
	}
	return docs
}

// TestSearchVectorOptions: ef and exact reach the vector index. On an HNSW
// graph built poorly (m 4, ef_construction 4, ef_search 1), a
// top-1 dense search misses the true nearest neighbour (a flat index's)
// for many queries; ef 4096 misses far fewer and exact none.
func TestSearchVectorOptions(t *testing.T) {
	requireEmbeddingModel(t)
	h := newHarness(t, Options{})
	h.do("PUT", "/v1/collections/bad", map[string]any{"embedding": embeddingModel,
		"vector": map[string]any{"m": 4, "ef_construction": 4, "ef_search": 1}}).mustStatus(t, http.StatusCreated)
	h.do("PUT", "/v1/collections/flat", map[string]any{"embedding": embeddingModel,
		"vector": map[string]any{"index": "flat"}}).mustStatus(t, http.StatusCreated)
	docs := corpus(160)
	h.upsert("bad", docs...)
	h.upsert("flat", docs...)
	queries := []string{"animals", "music", "boats and the ocean", "food", "ice and snow", "software", "birds", "politics", "space",
		"plants", "underwater", "games", "wildlife in the desert", "medicine", "the coast at night", "fire", "villages", "weather", "markets", "science"}
	top := func(col string, extra map[string]any, q string) string {
		body := map[string]any{"query": q, "k": 1, "mode": "dense"}
		for k, v := range extra {
			body[k] = v
		}
		r := h.do("POST", "/v1/collections/"+col+"/search", body).mustStatus(t, http.StatusOK)
		ids := hitIDs(r.list("results"))
		if len(ids) != 1 {
			t.Fatalf("%s %v: %d results, want 1", col, extra, len(ids))
		}
		return ids[0]
	}
	misses := map[string]int{}
	for _, q := range queries {
		truth := top("flat", nil, q)
		for name, extra := range map[string]map[string]any{
			"default": nil, "ef": {"ef": 4096}, "exact": {"exact": true},
		} {
			if top("bad", extra, q) != truth {
				misses[name]++
			}
		}
	}
	t.Logf("top-1 misses of %d queries: %v", len(queries), misses)
	if misses["default"] == 0 {
		t.Fatalf("the degraded HNSW found every nearest neighbour with ef_search 1; the test cannot tell ef or exact apart (misses %v)", misses)
	}
	if misses["exact"] != 0 {
		t.Errorf("exact missed %d of %d nearest neighbours; want none", misses["exact"], len(queries))
	}
	// The graph may be disconnected, so ef 4096 is not exact, but far
	// better than ef 1.
	if 2*misses["ef"] >= misses["default"] {
		t.Errorf("ef 4096 missed %d, ef_search 1 %d; want ef 4096 to miss fewer than half as many", misses["ef"], misses["default"])
	}
}

// TestSearchMMR: with two copies of the best document, a plain search ranks
// them first and second; mmr diversifies, so the copy drops out of the top 2.
func TestSearchMMR(t *testing.T) {
	requireEmbeddingModel(t)
	h := newHarness(t, Options{})
	h.do("PUT", "/v1/collections/m", map[string]any{"embedding": embeddingModel}).mustStatus(t, http.StatusCreated)
	h.upsert("m",
		map[string]any{"id": "a", "text": "The cat sleeps on the warm mat by the fireplace."},
		map[string]any{"id": "a-copy", "text": "The cat sleeps on the warm mat by the fireplace."},
		map[string]any{"id": "b", "text": "A kitten naps on a rug in the living room."},
		map[string]any{"id": "c", "text": "Stock markets fell sharply on Tuesday."},
	)
	search := func(extra map[string]any) []string {
		body := map[string]any{"query": "cat sleeping on a mat", "k": 2, "mode": "dense"}
		for k, v := range extra {
			body[k] = v
		}
		r := h.do("POST", "/v1/collections/m/search", body).mustStatus(t, http.StatusOK)
		return hitIDs(r.list("results"))
	}
	plain := search(nil)
	if !sameSet(plain, []string{"a", "a-copy"}) {
		t.Fatalf("plain top 2 = %v, want the two copies", plain)
	}
	for _, extra := range []map[string]any{{"mmr": 0.5}, {"mmr": 0.5, "mmr_depth": 4}} {
		got := search(extra)
		if len(got) != 2 || sameSet(got, []string{"a", "a-copy"}) || !strings.HasPrefix(got[0], "a") {
			t.Errorf("%v: top 2 = %v, want one copy then another document", extra, got)
		}
	}
	if got := search(map[string]any{"mmr": 1.0}); !sameSet(got, []string{"a", "a-copy"}) {
		t.Errorf("mmr 1 (relevance only): top 2 = %v, want the two copies", got)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestSearchFusionBackend: "backend" fusion is accepted; the embedded
// backend cannot fuse itself and falls back to RRF, so the results equal
// an rrf search's.
func TestSearchFusionBackend(t *testing.T) {
	requireEmbeddingModel(t)
	h := newHarness(t, Options{})
	h.do("PUT", "/v1/collections/f", map[string]any{"embedding": embeddingModel}).mustStatus(t, http.StatusCreated)
	h.upsert("f", corpus(16)...)
	results := func(fusion string) []any {
		r := h.do("POST", "/v1/collections/f/search", map[string]any{"query": "the cat by the fire", "k": 5, "mode": "hybrid", "fusion": fusion})
		r.mustStatus(t, http.StatusOK)
		if r.str("mode") != "hybrid" {
			t.Errorf("fusion %s: mode %q", fusion, r.str("mode"))
		}
		return r.list("results")
	}
	be, rrf := results("backend"), results("rrf")
	if len(be) == 0 || !reflect.DeepEqual(hitIDs(be), hitIDs(rrf)) {
		t.Errorf("backend fusion %v, rrf %v; want the same on the embedded backend", hitIDs(be), hitIDs(rrf))
	}
	wantError(t, h.do("POST", "/v1/collections/f/search", map[string]any{"query": "x", "fusion": "magic"}), http.StatusBadRequest, codeInvalid, "fusion")
}

// TestVectorValidation: bad vector configurations and search options are
// 400s naming the field.
func TestVectorValidation(t *testing.T) {
	h := newHarness(t, Options{})
	for _, c := range []struct {
		body, field string
	}{
		{`{"vector":{"sise":4}}`, "vector.sise"},
		{`{"vector":{"m":"many"}}`, "vector.m"},
		{`{"vector":[]}`, "vector"},
		{`{"vector":{"index":"lsh"}}`, "vector.index"},
		{`{"vector":{"m":1}}`, "vector.m"},
		{`{"vector":{"m":8,"ef_construction":4}}`, "vector.ef_construction"},
		{`{"vector":{"ef_search":5000}}`, "vector.ef_search"},
		{`{"vector":{"quantization":"pq"}}`, "vector.quantization"},
		{`{"vector":{"index":"flat","m":4}}`, "vector"},
		{`{"vector":{"index":"flat","quantization":"int8"}}`, "vector.quantization"},
		{`{"vector":{"quantization":"binary"}}`, "vector.quantization"},
		{`{"vector":{"index":"ivf","quantization":"binary"}}`, "vector.quantization"},
		{`{"vector":{"index":"ivf","quantization":"sq8"}}`, "vector.quantization"},
		{`{"vector":{"index":"flat","quantization":"sq8"}}`, "vector.quantization"},
		{`{"vector":{"index":"ivf","nlist":70000}}`, "vector.nlist"},
		{`{"vector":{"index":"ivf","nlist":4,"nprobe":5}}`, "vector.nprobe"},
		{`{"vector":{"nprobe":2}}`, "vector.nlist"},
	} {
		r := h.do("PUT", "/v1/collections/v", c.body)
		wantError(t, r, http.StatusBadRequest, codeInvalid, c.field)
	}
	if r := h.do("GET", "/v1/collections", nil); len(r.list("collections")) != 0 {
		t.Errorf("a refused configuration created a collection: %s", r.body)
	}
	h.upsert("lex", map[string]any{"id": "1", "text": "granite quarry"})
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"mmr": 1.5}, "mmr"},
		{map[string]any{"mmr": -0.1}, "mmr"},
		{map[string]any{"mmr": "high"}, "mmr"},
		{map[string]any{"mmr": 0.5}, "mmr"}, // lex has no embedding model
		{map[string]any{"mmr_depth": 10}, "mmr_depth"},
		{map[string]any{"mmr": 0.5, "mmr_depth": 2000}, "mmr_depth"},
		{map[string]any{"mmr_depth": 1.5}, "mmr_depth"},
		{map[string]any{"ef": 5000}, "ef"},
		{map[string]any{"ef": -1}, "ef"},
		{map[string]any{"ef": "fast"}, "ef"},
		{map[string]any{"exact": "yes"}, "exact"},
	} {
		c.body["query"] = "granite"
		wantError(t, h.do("POST", "/v1/collections/lex/search", c.body), http.StatusBadRequest, codeInvalid, c.field)
	}
	// Valid options on a BM25 collection are accepted.
	h.do("POST", "/v1/collections/lex/search", map[string]any{"query": "granite", "ef": 10, "exact": false}).mustStatus(t, http.StatusOK)
}

// weaviateURL returns the Weaviate the test may use (testutil.Weaviate).
func weaviateURL(t *testing.T) string {
	t.Helper()
	return testutil.Weaviate(t)
}

// TestSearchFusionBackendWeaviate: on the Weaviate backend, "backend"
// fusion reaches Weaviate's own hybrid search. Its rank fusion weighs the
// two lists by alpha and 1−alpha with 1/(60+rank), rank from 0, so a
// top score is at most 1/60; Quarry's RRF adds 1/(60+rank), rank from 1,
// so a document first in both lists scores 2/61.
func TestSearchFusionBackendWeaviate(t *testing.T) {
	requireEmbeddingModel(t)
	wurl := weaviateURL(t)
	col := fmt.Sprintf("srvfusion%d", time.Now().UnixNano())
	t.Cleanup(func() { // after the engine closes (cleanups run last first)
		if wb, err := weaviate.Open(context.Background(), col, weaviate.Config{URL: wurl}); err == nil {
			if err := wb.Drop(context.Background()); err != nil {
				t.Logf("dropping the Weaviate class of %s: %v", col, err)
			}
			wb.Close()
		}
	})
	h := newHarnessEngine(t, Options{}, &quarry.Options{Backend: quarry.BackendWeaviate, WeaviateURL: wurl})
	h.do("PUT", "/v1/collections/"+col, map[string]any{"embedding": embeddingModel}).mustStatus(t, http.StatusCreated)
	h.upsert(col, corpus(16)...)
	topScore := func(fusion string) float64 {
		r := h.do("POST", "/v1/collections/"+col+"/search", map[string]any{"query": "the cat by the fire", "k": 5, "mode": "hybrid", "fusion": fusion})
		r.mustStatus(t, http.StatusOK)
		res := r.list("results")
		if len(res) == 0 {
			t.Fatalf("fusion %s: no results: %s", fusion, r.body)
		}
		if ids := hitIDs(res); ids[0] != "d000" {
			t.Errorf("fusion %s: top %v, want d000 (the cat by the fireplace)", fusion, ids)
		}
		return res[0].(map[string]any)["score"].(float64)
	}
	rrf, be := topScore("rrf"), topScore("backend")
	t.Logf("top scores: rrf %v, backend %v", rrf, be)
	if math.Abs(rrf-2.0/61) > 1e-9 {
		t.Errorf("rrf top score %v, want 2/61 (first in both lists)", rrf)
	}
	if be > 1.0/60+1e-6 || be <= 0 {
		t.Errorf("backend top score %v, want in (0, 1/60]: the fusion did not reach Weaviate", be)
	}
}

// TestVectorConfigOnWeaviate: on the Weaviate backend the collection's
// vector settings are honoured or refused, never ignored: ivf and HNSW
// parameters Weaviate's index does not take are 400s naming the field;
// flat + binary becomes Weaviate's flat index with its binary quantizer,
// and dense search over it finds a document by its own text.
func TestVectorConfigOnWeaviate(t *testing.T) {
	requireEmbeddingModel(t)
	wurl := weaviateURL(t)
	col := fmt.Sprintf("srvbq%d", time.Now().UnixNano())
	t.Cleanup(func() {
		if wb, err := weaviate.Open(context.Background(), col, weaviate.Config{URL: wurl, Flat: true, Quantization: "binary"}); err == nil {
			wb.Drop(context.Background())
			wb.Close()
		}
	})
	h := newHarnessEngine(t, Options{}, &quarry.Options{Backend: quarry.BackendWeaviate, WeaviateURL: wurl})
	for _, c := range []struct{ vector, field string }{
		{`{"index":"ivf"}`, "vector.index"},
		{`{"m":8}`, "vector.m"},
		{`{"ef_search":100}`, "vector.ef_search"},
	} {
		r := h.do("PUT", "/v1/collections/"+col+"x", `{"embedding":"`+embeddingModel+`","vector":`+c.vector+`}`)
		wantError(t, r, http.StatusBadRequest, codeInvalid, c.field)
	}
	h.do("PUT", "/v1/collections/"+col, map[string]any{"embedding": embeddingModel,
		"vector": map[string]any{"index": "flat", "quantization": "binary"}}).mustStatus(t, http.StatusCreated)
	h.upsert(col, corpus(16)...)
	r := h.do("POST", "/v1/collections/"+col+"/search", map[string]any{"query": "the cat by the fire", "k": 3, "mode": "dense"})
	r.mustStatus(t, http.StatusOK)
	if ids := hitIDs(r.list("results")); len(ids) == 0 || ids[0] != "d000" {
		t.Errorf("dense search on a bq class: %v, want d000 first", ids)
	}
	wb, err := weaviate.Open(context.Background(), col, weaviate.Config{URL: wurl})
	if err == nil || !strings.Contains(err.Error(), "vector index is \"flat\"") {
		t.Errorf("the class was not created flat with bq: opening it as hnsw gave %v", err)
	}
	if wb != nil {
		wb.Close()
	}
}

package weaviate

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/store"
)

// TestQuantizedClasses: the collection's quantization becomes Weaviate's own
// quantizer (int8 → sq on HNSW, binary → bq on the flat index), searches
// still find each document's own vector first with its exact score, and a
// class created with another quantizer is a drift error.
func TestQuantizedClasses(t *testing.T) {
	url := needWeaviate(t)
	ctx := context.Background()
	for _, c := range []struct {
		cfg       Config
		indexType string
		quantizer string
	}{
		{Config{Quantization: "int8"}, "hnsw", "sq"},
		{Config{Flat: true, Quantization: "binary"}, "flat", "bq"},
		{Config{Flat: true}, "flat", ""},
	} {
		b := openTest(t, url, c.cfg)
		r := rand.New(rand.NewPCG(3, 3))
		docs := benchDocs(r, 0, 300, 64)
		if err := b.Upsert(ctx, docs); err != nil {
			t.Fatal(err)
		}
		var have class
		if err := b.c.do(ctx, http.MethodGet, "/v1/schema/"+b.chunks, nil, &have); err != nil {
			t.Fatal(err)
		}
		if have.VectorIndexType != c.indexType {
			t.Errorf("%+v: vector index %q, want %q", c.cfg, have.VectorIndexType, c.indexType)
		}
		for _, q := range []string{"sq", "bq"} {
			if on := quantizerOn(have.VectorIndexConfig, q); on != (q == c.quantizer) {
				t.Errorf("%+v: quantizer %s enabled = %v", c.cfg, q, on)
			}
		}
		for _, i := range []int{0, 77, 299} {
			hits, err := b.Dense(ctx, store.DenseQuery{Vector: docs[i].Vectors[0], K: 3, NoText: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 || hits[0].DocID != docs[i].Doc.ID || hits[0].Score < 0.999 {
				t.Errorf("%+v: query with %s's vector: %+v", c.cfg, docs[i].Doc.ID, hits)
			}
		}
		// The same collection opened with another quantization: drift.
		other := Config{URL: url, Flat: c.cfg.Flat}
		if c.cfg.Quantization == "" {
			other.Quantization = "binary"
		}
		if _, err := Open(ctx, b.name, other); err == nil || !strings.Contains(err.Error(), "quantizer") {
			t.Errorf("%+v reopened as %+v: %v, want a quantizer drift error", c.cfg, other, err)
		}
	}
	for _, cfg := range []Config{{Quantization: "binary"}, {Flat: true, Quantization: "int8"}, {Quantization: "pq"}, {Quantization: "sq8"}} {
		cfg.URL = url
		if _, err := Open(ctx, uniqueName("q"), cfg); err == nil || !strings.Contains(err.Error(), "quantization") {
			t.Errorf("Open(%+v) = %v, want a quantization error", cfg, err)
		}
	}
}

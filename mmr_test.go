package quarry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
)

func TestSearchMMRDiversifiesWithRealModel(t *testing.T) {
	requireModel(t, "all-MiniLM-L6-v2")
	ctx := context.Background()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, _, err := eng.CreateCollection(ctx, "mmr", &quarry.CollectionConfig{Embedding: "all-MiniLM-L6-v2"})
	if err != nil {
		t.Fatal(err)
	}
	// Three near-copies about one aspect of volcanoes and one document
	// about another aspect: relevance alone returns the copies first.
	docs := []quarry.Document{
		{ID: "lava1", Text: "Volcano eruptions send lava flowing down the mountain slopes."},
		{ID: "lava2", Text: "Volcanic eruptions send lava flowing down the slopes of the mountain."},
		{ID: "lava3", Text: "During a volcano eruption, lava flows down the mountain slopes."},
		{ID: "ash", Text: "Volcano ash clouds ground airline flights across the region."},
		{ID: "bank", Text: "The central bank raised interest rates again this quarter."},
	}
	if _, err := col.Upsert(ctx, docs, nil); err != nil {
		t.Fatal(err)
	}
	q := "volcano eruption lava mountain"
	plain, err := col.Search(ctx, quarry.SearchRequest{Query: q, K: 2, Mode: quarry.ModeDense})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain.Results[0].DocID, "lava") || !strings.HasPrefix(plain.Results[1].DocID, "lava") {
		t.Fatalf("without MMR the top 2 should be lava copies: %v %v", plain.Results[0].DocID, plain.Results[1].DocID)
	}
	for _, mode := range []string{quarry.ModeDense, quarry.ModeHybrid, quarry.ModeBM25} {
		div, err := col.Search(ctx, quarry.SearchRequest{Query: q, K: 2, Mode: mode, MMR: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		// BM25 ranks "ash" last of its four matches, so min-max relevance
		// gives it 0: MMR 0.5 still prefers a lava copy there; 0.2 does not.
		if mode == quarry.ModeBM25 {
			if div, err = col.Search(ctx, quarry.SearchRequest{Query: q, K: 2, Mode: mode, MMR: 0.2}); err != nil {
				t.Fatal(err)
			}
		}
		if len(div.Results) != 2 || !strings.HasPrefix(div.Results[0].DocID, "lava") || div.Results[1].DocID != "ash" {
			t.Fatalf("%s with MMR 0.5: %v", mode, hitDocIDs(div.Results))
		}
		if div.Results[0].Vector != nil || div.Results[0].Text == "" {
			t.Fatalf("%s: MMR results should carry text and no vectors", mode)
		}
	}
	// Exact and a given ef agree with the index on this tiny collection.
	for _, req := range []quarry.SearchRequest{{Query: q, K: 2, Mode: quarry.ModeDense, Exact: true}, {Query: q, K: 2, Mode: quarry.ModeDense, Ef: 200}} {
		res, err := col.Search(ctx, req)
		if err != nil || res.Results[0].DocID != plain.Results[0].DocID {
			t.Fatalf("%+v: %v %v", req, res, err)
		}
	}
	for _, bad := range []quarry.SearchRequest{
		{Query: q, MMR: 1.5}, {Query: q, MMR: -0.1}, {Query: q, MMR: 0.5, MMRDepth: -1},
		{Query: q, MMRDepth: 20}, {Query: q, Ef: -1}, {Query: q, Ef: 5000},
	} {
		if _, err := col.Search(ctx, bad); !errors.Is(err, quarry.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
	plainCol, _, err := eng.CreateCollection(ctx, "lexical", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plainCol.Search(ctx, quarry.SearchRequest{Query: q, MMR: 0.5}); !errors.Is(err, quarry.ErrInvalid) || !strings.Contains(err.Error(), "mmr") {
		t.Fatalf("MMR without vectors: %v", err)
	}
}

func hitDocIDs(hits []quarry.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.DocID
	}
	return out
}

func TestVectorConfigIsValidatedAndStored(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []quarry.VectorConfig{{Index: "annoy"}, {Index: "ivf", M: 8}, {Index: "ivf", NList: 4, NProbe: 5}, {M: 1}, {EfSearch: 5000}, {Quantization: "pq"}, {Index: "flat", M: 8}} {
		_, _, err := eng.CreateCollection(ctx, "bad", &quarry.CollectionConfig{Vector: v})
		if !errors.Is(err, quarry.ErrInvalid) || !strings.Contains(err.Error(), "vector") {
			t.Errorf("%+v: %v", v, err)
		}
	}
	col, _, err := eng.CreateCollection(ctx, "flat", &quarry.CollectionConfig{Vector: quarry.VectorConfig{Index: "flat"}})
	if err != nil {
		t.Fatal(err)
	}
	if col.Config().Vector.Index != "flat" {
		t.Fatalf("config %+v", col.Config().Vector)
	}
	def, _, err := eng.CreateCollection(ctx, "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := def.Config().Vector; v.Index != "hnsw" || v.M != 16 || v.EfSearch != 64 {
		t.Fatalf("defaults %+v", v)
	}
	if _, _, err := eng.CreateCollection(ctx, "flat", &quarry.CollectionConfig{}); err == nil || !strings.Contains(err.Error(), "vector differs") {
		t.Fatalf("recreating with another vector config: %v", err)
	}
	eng.Close()
	eng, err = quarry.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, err = eng.Collection(ctx, "flat")
	if err != nil || col.Config().Vector.Index != "flat" {
		t.Fatalf("after reopening: %v %+v", err, col.Config().Vector)
	}
}

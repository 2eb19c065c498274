package quarry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
)

// TestCreateCollectionNamesDifferingField: recreating a collection with
// other settings fails naming the field, the llm and vector groups
// included (an llm difference used to be reported as max_document_bytes).
func TestCreateCollectionNamesDifferingField(t *testing.T) {
	eng, _ := openLLMEngine(t, quarry.LLMConfig{})
	ctx := context.Background()
	base := quarry.CollectionConfig{LLM: quarry.CollectionLLM{Model: "a"}}
	if _, _, err := eng.CreateCollection(ctx, "c", &base); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*quarry.CollectionConfig)
		want string
	}{
		{func(c *quarry.CollectionConfig) { c.LLM.Model = "b" }, `llm differs (llm.model: "a" here, "b" asked)`},
		{func(c *quarry.CollectionConfig) { c.LLM.MinScore = 0.5 }, "llm differs (llm.min_score: 0 here, 0.5 asked)"},
		{func(c *quarry.CollectionConfig) { c.Vector.Index = "flat" }, "vector differs (vector.index:"},
		{func(c *quarry.CollectionConfig) { c.MaxDocumentBytes = 1 << 20 }, "max_document_bytes differs"},
		{func(c *quarry.CollectionConfig) { c.Chunking.Size = 64 }, "chunking differs (chunking.size:"},
		{func(c *quarry.CollectionConfig) { c.Language = "fr" }, `language differs ("" here, "fr" asked)`},
	} {
		cfg := base
		tc.edit(&cfg)
		_, _, err := eng.CreateCollection(ctx, "c", &cfg)
		if !errors.Is(err, quarry.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an ErrInvalid containing %q", err, tc.want)
		}
	}
	if _, created, err := eng.CreateCollection(ctx, "c", &base); err != nil || created {
		t.Fatalf("same config: created=%v err=%v", created, err)
	}
}

// TestCloseReleasesAnswerCaches: the answer caches live in the collection
// and Close drops them; LLM clients live in the engine, one per model.
func TestCloseReleasesAnswerCaches(t *testing.T) {
	eng, _ := openLLMEngine(t, quarry.LLMConfig{})
	col := loadDocs(t, eng, solarDocs)
	if !quarry.AnswerCacheLive(col) {
		t.Fatal("no answer cache on an open collection")
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if quarry.AnswerCacheLive(col) {
		t.Fatal("Close kept the collection's answer caches")
	}
	off, _ := openLLMEngine(t, quarry.LLMConfig{Cache: quarry.AnswerCacheConfig{Size: -1}})
	if quarry.AnswerCacheLive(loadDocs(t, off, solarDocs)) {
		t.Fatal("cache created with Size -1")
	}
}

// TestLLMClientsPerModel: the engine keeps one client per server and
// model, so a model the server lacks (its own breaker failing) does not
// share state with the configured one; Close releases them.
func TestLLMClientsPerModel(t *testing.T) {
	url, model := requireLLM(t)
	eng, _ := openLLMEngine(t, greedyBase(url, model))
	col := loadDocs(t, eng, solarDocs)
	ctx := context.Background()
	req := quarry.AskRequest{Question: "How many moons does Mars have?", NoCache: true, Params: quarry.LLMParams{MaxTokens: 2}}
	if _, err := col.Ask(ctx, req); err != nil {
		t.Fatal(err)
	}
	if _, err := col.Ask(ctx, req); err != nil {
		t.Fatal(err)
	}
	if n := quarry.LLMClients(eng); n != 1 {
		t.Fatalf("%d clients after two answers by one model, want 1", n)
	}
	req.Model = "quarry-no-such-model"
	var le *quarry.LLMError
	if _, err := col.Ask(ctx, req); !errorsAs(err, &le) || le.Model != req.Model {
		t.Fatalf("missing model: %v", err)
	}
	if n := quarry.LLMClients(eng); n != 2 {
		t.Fatalf("%d clients for two models, want 2", n)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if n := quarry.LLMClients(eng); n != 0 {
		t.Fatalf("%d clients after Close", n)
	}
}

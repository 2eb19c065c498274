package query

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/obs"
	"github.com/quarry-rag/quarry/internal/retrieve"
	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/embedded"
	"github.com/quarry-rag/quarry/internal/store/storetest"
)

// openStore opens a real embedded store in a temporary folder with a few
// documents whose chunks carry storetest's 4-dimensional vectors.
func openStore(t *testing.T) *embedded.Backend {
	t.Helper()
	ctx := context.Background()
	b, err := embedded.Open(ctx, t.TempDir(), embedded.Config{Vector: embedded.VectorConfig{Index: "flat"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	docs := []store.DocChunks{
		storetest.Doc("granite", storetest.E(0, 0.1), "Granite is quarried in large blocks.", "The quarry closed in 1950."),
		storetest.Doc("marble", storetest.E(1, 0.2), "Marble is a metamorphic rock quarried for sculpture."),
		storetest.Doc("slate", storetest.E(2, 0.3), "Slate splits into thin sheets for roofs."),
		storetest.Doc("basalt", storetest.E(3, 0.4), "Basalt is a volcanic rock; some quarries crush it for roads."),
	}
	if err := b.Upsert(ctx, docs); err != nil {
		t.Fatal(err)
	}
	return b
}

func newPipeline(b store.Backend) *Pipeline {
	return &Pipeline{Store: b, Name: "test", Generation: b.Generation, Chat: llm.NewPool(),
		Metrics: obs.New(nil), LLMMetrics: obs.NewLLM(nil)}
}

func ids(hits []base.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ChunkID
	}
	return out
}

func TestPlanValidation(t *testing.T) {
	caps := Caps{Collection: "c"}
	for _, tc := range []struct {
		req   SearchRequest
		field string
	}{
		{SearchRequest{}, "query"},
		{SearchRequest{Query: "x", K: MaxK + 1}, "k"},
		{SearchRequest{Query: "x", Mode: "dense"}, "mode"},
		{SearchRequest{Query: "x", Mode: "fuzzy"}, "mode"},
		{SearchRequest{Query: "x", Fusion: "max"}, "fusion"},
		{SearchRequest{Query: "x", Alpha: 2}, "alpha"},
		{SearchRequest{Query: "x", Ef: 5000}, "ef"},
		{SearchRequest{Query: "x", MMR: 0.5}, "mmr"},
		{SearchRequest{Query: "x", MMRDepth: 5}, "mmr_depth"},
		{SearchRequest{Query: string(make([]byte, MaxQueryBytes+1))}, "query"},
	} {
		_, err := NewSearchPlan(&tc.req, caps)
		var fe *base.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, base.ErrInvalid) && !errors.Is(err, base.ErrTooLarge) {
			t.Errorf("%+v: %v, want a field error on %s", tc.req, err, tc.field)
		}
	}
	// Depths: hybrid reads 100 per retriever; a reranker reads 50 with
	// their text; MMR chooses among max(50, K).
	p, err := NewSearchPlan(&SearchRequest{Query: "x", K: 7, NoText: true, MMR: 0.5}, Caps{Embedding: true, Reranker: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != ModeHybrid || p.Depth != HybridDepth || p.FuseK != RerankDepth || p.MMRDepth != DefaultMMRDepth || p.NoText || !p.Rerank {
		t.Fatalf("plan %+v", p)
	}
	ap, err := NewAskPlan(&AskRequest{Question: "x", Rewrite: "multi"}, caps, llm.Settings{})
	if err == nil || ap != nil {
		t.Fatalf("multi-query without a model: %v", err)
	}
	ap, err = NewAskPlan(&AskRequest{Question: "x"}, caps, llm.Settings{})
	if err != nil || ap.Method != MethodExtractive || ap.K != DefaultAskK || ap.Mode != ModeBM25 {
		t.Fatalf("ask plan %+v, %v", ap, err)
	}
}

// TestHybridIsOneFusion: a hybrid query's result is retrieve.Fuse of the
// store's own lexical and dense lists, RRF and weighted alike.
func TestHybridIsOneFusion(t *testing.T) {
	b := openStore(t)
	p := newPipeline(b)
	ctx := context.Background()
	vec := storetest.E(1, 0.5)
	for _, fusion := range []string{"rrf", "weighted"} {
		plan, err := NewSearchPlan(&SearchRequest{Query: "quarried rock", K: 3, Fusion: fusion, Alpha: 0.3}, Caps{Embedding: true})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := p.Retrieve(ctx, plan, []Query{{Text: plan.Query, Vector: vec}}, plan.Query)
		if err != nil {
			t.Fatal(err)
		}
		lex, _ := b.Lexical(ctx, store.LexicalQuery{Text: plan.Query, K: HybridDepth})
		den, _ := b.Dense(ctx, store.DenseQuery{Vector: vec, K: HybridDepth})
		lists := retrieve.Equal(lex, den)
		opts := retrieve.FuseOptions{K: 3}
		if fusion == "weighted" {
			lists[0].Weight, lists[1].Weight, opts.Method = 0.7, 0.3, retrieve.Weighted
		}
		want := retrieve.Fuse(lists, opts)
		if !slices.Equal(ids(got), ids(want)) || math.Abs(got[0].Score-want[0].Score) > 1e-12 {
			t.Fatalf("%s: got %v, want %v", fusion, ids(got), ids(want))
		}
	}
}

// recordingReranker reverses its input and records each call: a stage
// double that shows where and how often the pipeline reranks.
type recordingReranker struct {
	mu    sync.Mutex
	calls []rerankCall
}

type rerankCall struct {
	query string
	n, k  int
}

func (r *recordingReranker) Rerank(_ context.Context, q string, hits []base.Hit, k int) ([]base.Hit, error) {
	r.mu.Lock()
	r.calls = append(r.calls, rerankCall{q, len(hits), k})
	r.mu.Unlock()
	out := slices.Clone(hits)
	slices.Reverse(out)
	if k > 0 && len(out) > k {
		out = out[:k]
	}
	return out, nil
}

// TestMultiQueryFusesThenReranksOnce: two queries are retrieved, fused by
// RRF, and the reranker runs once, on the fused list, against the
// question, with the text of every candidate.
func TestMultiQueryFusesThenReranksOnce(t *testing.T) {
	b := openStore(t)
	p := newPipeline(b)
	rr := &recordingReranker{}
	p.Reranker = func() (Reranker, error) { return rr, nil }
	ctx := context.Background()
	plan, err := NewSearchPlan(&SearchRequest{Query: "quarry", K: 2, NoText: true}, Caps{Reranker: true})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := p.Retrieve(ctx, plan, []Query{{Text: "quarry"}, {Text: "rock"}}, "the question")
	if err != nil {
		t.Fatal(err)
	}
	l1, _ := b.Lexical(ctx, store.LexicalQuery{Text: "quarry", K: RerankDepth})
	l2, _ := b.Lexical(ctx, store.LexicalQuery{Text: "rock", K: RerankDepth})
	fused := retrieve.Fuse(retrieve.Equal(l1, l2), retrieve.FuseOptions{K: RerankDepth})
	slices.Reverse(fused)
	if want := ids(fused[:2]); !slices.Equal(ids(got), want) {
		t.Fatalf("got %v, want %v", ids(got), want)
	}
	if len(rr.calls) != 1 || rr.calls[0] != (rerankCall{"the question", len(fused), 2}) {
		t.Fatalf("rerank calls %+v", rr.calls)
	}
	if got[0].Text == "" {
		t.Fatal("reranked candidates without text")
	}
}

// TestAskExtractiveWithoutEngine answers from a store alone.
func TestAskExtractiveWithoutEngine(t *testing.T) {
	b := openStore(t)
	p := newPipeline(b)
	p.Cache = func() *AnswerCache { return NewAnswerCache(CacheConfig{}, false) }
	plan, err := NewAskPlan(&AskRequest{Question: "When did the quarry close?"}, Caps{}, llm.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	ans, err := p.Ask(context.Background(), plan, func(ev AskEvent) error {
		events = append(events, ev.Type)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Method != string(MethodExtractive) || len(ans.Citations) == 0 || ans.Citations[0].DocID != "granite" {
		t.Fatalf("answer %+v", ans)
	}
	if !slices.Equal(events, []string{EventRetrieval, EventToken, EventCitations, EventDone}) {
		t.Fatalf("events %v", events)
	}
}

type refuse struct{}

func (refuse) CheckQuestion(context.Context, *Plan) error { return errors.New("refused") }

type stages struct {
	mu  sync.Mutex
	got []Stage
}

func (s *stages) Trace(_ context.Context, ev StageEvent) {
	s.mu.Lock()
	s.got = append(s.got, ev.Stage)
	s.mu.Unlock()
}

type dropAll struct{}

func (dropAll) FilterContext(context.Context, string, []base.Hit) ([]base.Hit, error) {
	return nil, nil
}

// TestHooks: the guard stops a question before retrieval; the tracer sees
// each stage once, in order; the context filter sees an LLM prompt's
// chunks (dropping them all means "I don't know" without a model call).
func TestHooks(t *testing.T) {
	b := openStore(t)
	p := newPipeline(b)
	ctx := context.Background()
	plan, _ := NewSearchPlan(&SearchRequest{Query: "quarry"}, Caps{})
	p.Hooks.Guard = refuse{}
	if _, _, err := p.Search(ctx, plan); err == nil || err.Error() != "refused" {
		t.Fatalf("guard: %v", err)
	}
	p.Hooks.Guard = nil
	tr := &stages{}
	p.Hooks.Tracer = tr
	if _, _, err := p.Search(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.got, []Stage{StageLexical, StageRetrieve}) {
		t.Fatalf("stages %v", tr.got)
	}
	tr.got = nil
	p.Hooks.Context = dropAll{}
	// A model that is never called: the filter leaves nothing to ask about.
	ap, err := NewAskPlan(&AskRequest{Question: "quarry", Method: "llm"}, Caps{}, llm.Settings{URL: "http://127.0.0.1:1", Model: "none"})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := p.Ask(ctx, ap, nil)
	if err != nil || !ans.Abstained || len(ans.Sources) != 0 {
		t.Fatalf("filtered ask: %+v, %v", ans, err)
	}
	if !slices.Equal(tr.got, []Stage{StageLexical, StageRetrieve, StageGenerate}) {
		t.Fatalf("stages %v", tr.got)
	}
}

func TestMeanDirection(t *testing.T) {
	v := meanDirection([]float32{1, 0}, []float32{0, 1})
	if math.Abs(float64(v[0])-math.Sqrt(0.5)) > 1e-6 || math.Abs(float64(v[1])-math.Sqrt(0.5)) > 1e-6 {
		t.Fatal(v)
	}
	if v := meanDirection([]float32{1, 0}, []float32{-1, 0}); v[0] != 1 {
		t.Fatal("opposite vectors must return the first", v)
	}
}

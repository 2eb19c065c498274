package quarry_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
)

// TestAskSemanticMissEmbedsOnce counts the embedding model's calls: a
// semantic-cache miss embeds the question once, for the cache probe, and
// the search reuses that vector (it used to embed the question again).
func TestAskSemanticMissEmbedsOnce(t *testing.T) {
	col, _ := semanticEngine(t)
	ctx := context.Background()
	calls := quarry.CountEmbeds(t, col)
	queryCalls := func(want int, what string) {
		t.Helper()
		var got []quarry.EmbedCall
		for _, c := range calls() {
			if answerSentences(c) {
				continue // the extractive answerer's candidate sentences
			}
			if c.Passage {
				t.Fatalf("%s: a passage embedding: %+v", what, c)
			}
			got = append(got, c)
		}
		if len(got) != want {
			t.Fatalf("%s: %d embedding calls %+v, want %d", what, len(got), got, want)
		}
	}
	q := "How many moons does Mars have?"
	ans, err := col.Ask(ctx, quarry.AskRequest{Question: q})
	if err != nil || ans.Cached != "" {
		t.Fatal(err, ans.Cached)
	}
	queryCalls(1, "hybrid miss")
	// The reused vector retrieves exactly what Search finds on its own.
	res, err := col.Search(ctx, quarry.SearchRequest{Query: q, K: 5})
	if err != nil {
		t.Fatal(err)
	}
	queryCalls(1, "plain search")
	if len(res.Results) != len(ans.Sources) || res.Mode != quarry.ModeHybrid {
		t.Fatalf("%d sources, search found %d (mode %s)", len(ans.Sources), len(res.Results), res.Mode)
	}
	for i := range res.Results {
		if a, b := ans.Sources[i], res.Results[i]; a.ChunkID != b.ChunkID || a.Score != b.Score {
			t.Fatalf("source %d: %s %v, search: %s %v", i, a.ChunkID, a.Score, b.ChunkID, b.Score)
		}
	}
	if ans.Sources[0].DocID != "mars" {
		t.Fatalf("top source %s, want mars", ans.Sources[0].DocID)
	}

	if a, _ := col.Ask(ctx, quarry.AskRequest{Question: q}); a.Cached != "exact" {
		t.Fatalf("repeat: cached=%q", a.Cached)
	}
	queryCalls(0, "exact hit")
	if a, _ := col.Ask(ctx, quarry.AskRequest{Question: "How many moons has Mars got?"}); a.Cached != "semantic" {
		t.Fatalf("paraphrase: cached=%q", a.Cached)
	}
	queryCalls(1, "semantic hit")
	if a, _ := col.Ask(ctx, quarry.AskRequest{Question: "When was the Eiffel Tower completed?", Mode: quarry.ModeDense}); a.Cached != "" || a.Sources[0].DocID != "eiffel" {
		t.Fatalf("dense miss: cached=%q top %s", a.Cached, a.Sources[0].DocID)
	}
	queryCalls(1, "dense miss")
	if a, _ := col.Ask(ctx, quarry.AskRequest{Question: q, NoCache: true}); a.Cached != "" || a.Sources[0].DocID != "mars" {
		t.Fatalf("no cache: cached=%q", a.Cached)
	}
	queryCalls(1, "no cache (the search embeds)")
	if a, _ := col.Ask(ctx, quarry.AskRequest{Question: "Where is the Great Wall?", Mode: quarry.ModeBM25}); a.Cached != "" {
		t.Fatalf("bm25 miss: cached=%q", a.Cached)
	}
	queryCalls(1, "bm25 miss (the cache probe only)")
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// TestHyDEVectorEmbedsPassageAsPassage checks HyDE's dense query with
// e5, whose query and passage roles differ ("query: " / "passage: "
// prefixes): the hypothetical passage is embedded with the passage role
// and averaged with the question embedded as a query.
func TestHyDEVectorEmbedsPassageAsPassage(t *testing.T) {
	requireModelTB(t, "multilingual-e5-small")
	eng, _ := openLLMEngine(t, quarry.LLMConfig{})
	ctx := context.Background()
	col, _, err := eng.CreateCollection(ctx, "e5", &quarry.CollectionConfig{Embedding: "multilingual-e5-small"})
	if err != nil {
		t.Fatal(err)
	}
	calls := quarry.CountEmbeds(t, col)
	question := "How many moons does Mars have?"
	passage := "Mars has two small moons, Phobos and Deimos, which may be captured asteroids."
	v, err := quarry.HyDEVector(ctx, col, "", question, nil, passage)
	if err != nil {
		t.Fatal(err)
	}
	got := calls()
	if len(got) != 2 || !got[0].Passage || got[0].Texts[0] != passage || got[1].Passage || got[1].Texts[0] != question {
		t.Fatalf("embedding calls %+v, want the passage as a passage, then the question as a query", got)
	}
	pv, _ := quarry.EmbedText(col, passage, true)
	pq, _ := quarry.EmbedText(col, passage, false)
	qv, _ := quarry.EmbedText(col, question, false)
	if c := cosine(pv, pq); c > 0.999 {
		t.Fatalf("e5 embeds the passage alike in both roles (cosine %v): the test cannot tell them apart", c)
	}
	var norm float64
	for i := range v {
		norm += float64(v[i]) * float64(v[i])
	}
	if math.Abs(norm-1) > 1e-4 {
		t.Fatalf("HyDE vector norm² %v, want 1", norm)
	}
	sum := make([]float32, len(pv))
	for i := range pv {
		sum[i] = pv[i] + qv[i]
	}
	if c := cosine(v, sum); c < 0.9999 {
		t.Fatalf("HyDE vector is not along passage(passage role) + question(query role): cosine %v", c)
	}
	if c := cosine(v, pq); c > cosine(v, pv) {
		t.Fatalf("HyDE vector nearer the passage's query-role embedding (%v) than its passage-role one (%v)", c, cosine(v, pv))
	}
	calls()

	// A known question vector is reused; a lexical search embeds nothing.
	if _, err := quarry.HyDEVector(ctx, col, "", question, qv, passage); err != nil {
		t.Fatal(err)
	}
	if got := calls(); len(got) != 1 || !got[0].Passage {
		t.Fatalf("with the question's vector: calls %+v, want the passage only", got)
	}
	if v, err := quarry.HyDEVector(ctx, col, quarry.ModeBM25, question, nil, passage); v != nil || err != nil || len(calls()) != 0 {
		t.Fatalf("bm25: vector %v err %v, want none and no embedding", v != nil, err)
	}
}

// TestAskHyDEWithRealLLM runs HyDE through Ask with the real model and an
// e5 collection: the model's passage is embedded once with the passage
// role, the question once with the query role (for the semantic cache,
// then reused), and nothing is embedded as question + passage text.
func TestAskHyDEWithRealLLM(t *testing.T) {
	url, model := requireLLM(t)
	requireModelTB(t, "multilingual-e5-small")
	eng, _ := openLLMEngine(t, greedyBase(url, model))
	ctx := context.Background()
	col, _, err := eng.CreateCollection(ctx, "e5", &quarry.CollectionConfig{Embedding: "multilingual-e5-small"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(ctx, solarDocs, nil); err != nil {
		t.Fatal(err)
	}
	calls := quarry.CountEmbeds(t, col)
	q := "How many moons does Mars have?"
	ans, err := col.Ask(ctx, quarry.AskRequest{Question: q, K: 2, Rewrite: quarry.RewriteHyDE, Method: quarry.MethodExtractive})
	if err != nil {
		t.Fatal(err)
	}
	got := calls()
	t.Logf("HyDE query %q; top source %s; calls %+v", ans.Query, ans.Sources[0].DocID, got)
	passage, ok := strings.CutPrefix(ans.Query, q+"\n")
	if !ok || passage == "" {
		t.Fatalf("Answer.Query %q is not the question and the passage", ans.Query)
	}
	var passages, queries int
	for _, c := range got {
		if answerSentences(c) && c.Texts[0] != passage {
			continue // the extractive answerer's candidate sentences
		}
		if len(c.Texts) != 1 {
			t.Fatalf("call %+v", c)
		}
		switch {
		case c.Passage && c.Texts[0] == passage:
			passages++
		case !c.Passage && c.Texts[0] == q:
			queries++
		default:
			t.Fatalf("unexpected embedding call %+v", c)
		}
	}
	if passages != 1 || queries != 1 {
		t.Fatalf("embedded the passage %d times and the question %d times, want 1 and 1: %+v", passages, queries, got)
	}
}

// answerSentences reports whether c embeds sentences of solarDocs as
// passages: the extractive answerer scoring its candidate sentences
// against the question (cached, so each sentence once).
func answerSentences(c quarry.EmbedCall) bool {
	if !c.Passage || len(c.Texts) == 0 {
		return false
	}
	for _, text := range c.Texts {
		found := false
		for _, d := range solarDocs {
			if strings.Contains(d.Text, text) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

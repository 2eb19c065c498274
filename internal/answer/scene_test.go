package answer

import (
	"context"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/embed"
)

// realEmbedder adapts a local embedding model to Embedder.
type realEmbedder struct{ e embed.Embedder }

func (r realEmbedder) Embed(ctx context.Context, texts []string, query bool) ([][]float32, error) {
	k := embed.Passage
	if query {
		k = embed.Query
	}
	return r.e.Embed(ctx, texts, k)
}

// sceneHits: a sentence repeating the question's words, then the sentence
// that sets the question's scene, then the one that answers it through a
// pronoun ("They beat …").
var sceneHits = []base.Hit{{DocID: "d", Text: "Fans still remember the snowstorm semi-final, the coldest game the Broncos played in Denver. " +
	"The Broncos played the semi-final in a snowstorm in Denver. " +
	"They beat the Steelers by three points after a late field goal."}}

const sceneAnswer = "They beat the Steelers by three points after a late field goal."

// handScoreOnly turns the learned ranker off for the test: the hand
// score's own weights are what it checks.
func handScoreOnly(t *testing.T) {
	l, e := lexModel, embModel
	lexModel, embModel = nil, nil
	t.Cleanup(func() { lexModel, embModel = l, e })
}

// TestExtractAnswerAfterScene (no embedder): a question term found only in
// the sentence after counts 0.1 of its weight (0.4 before the third pass),
// one in the sentence before still 0.4, so the sentence that answers after
// its scene wins over the scene itself.
func TestExtractAnswerAfterScene(t *testing.T) {
	handScoreOnly(t)
	q := "Which team did the Broncos beat in the semi-final in Denver?"
	opts := Options{MaxSentences: 1, Language: "en"}
	r := Extract(q, sceneHits, opts)
	if len(r.Sentences) != 1 || r.Sentences[0].Text != sceneAnswer {
		t.Fatalf("got %+v, want %q first", r.Sentences, sceneAnswer)
	}
	defer func() { ws = defaultWeights }()
	ws.next = ws.prev // the second pass's symmetric neighbours
	if old := Extract(q, sceneHits, opts); len(old.Sentences) == 1 && old.Sentences[0].Text == sceneAnswer {
		t.Errorf("symmetric neighbour weights already answer: the test does not exercise the next sentence's weight")
	}
}

// TestExtractSceneWithEmbedder (multilingual-e5-small): with the
// collection's embedder a question term in the sentence before counts 0.4
// of its weight and one in the sentence after nothing (0.2 each in the
// second pass), which lifts the answering sentence (its cosine to the
// question is low) closer to the scene's score.
func TestExtractSceneWithEmbedder(t *testing.T) {
	e, err := embed.ParseWith("multilingual-e5-small", nil)
	if err != nil {
		t.Skipf("multilingual-e5-small is not available (run make models): %v", err)
	}
	handScoreOnly(t)
	ctx := context.Background()
	q := "Who did the Broncos beat in the semi-final?"
	opts := Options{MaxSentences: 3, Language: "en", Embedder: realEmbedder{e}}
	ratio := func() (float64, []Sentence) {
		r, err := ExtractContext(ctx, q, sceneHits, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Sentences) != 3 {
			t.Fatalf("got %+v", r.Sentences)
		}
		for _, s := range r.Sentences {
			if s.Text == sceneAnswer {
				return s.Score / r.Sentences[0].Score, r.Sentences
			}
		}
		t.Fatalf("the answer is not among %+v", r.Sentences)
		return 0, nil
	}
	now, _ := ratio()
	defer func() { ws = defaultWeights }()
	ws.embPrev, ws.embNext = ws.embNear, ws.embNear // the second pass's weights
	before, _ := ratio()
	if now < 0.3 || before >= 0.3 {
		t.Errorf("the answer's score relative to the best: %.2f now, %.2f with the second pass's weights; want ≥ 0.3 now and < 0.3 before", now, before)
	}
}

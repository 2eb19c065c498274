package answer

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
)

// TestFitRankerLearnsTheSignal: synthetic questions of 12 candidates
// whose gold sentence is the one after the candidate with the best hand
// score (fAfterBest) and has a new number (fNumYes), under noisy other
// features. Starting from the hand score's weights (which pick the wrong
// candidate), the fit must find the gold one nearly always, and weigh the
// two telling features positively and the misleading hand score less.
func TestFitRankerLearnsTheSignal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var qs []learnQ
	for range 400 {
		q := learnQ{anyY: true}
		gold := 1 + r.IntN(10)
		for k := range 12 {
			var x [nFeatures]float64
			for j := range x {
				x[j] = r.NormFloat64() * 0.3
			}
			x[fLogHand] = -float64(k) * 0.2 // candidate 0 has the best hand score
			if k == gold {
				x[fAfterBest] = 1
				x[fNumYes] = 1
			} else if r.IntN(4) == 0 {
				x[fNumYes] = 1 // a distractor with a number
			}
			q.x = append(q.x, x)
			q.y = append(q.y, k == gold)
		}
		qs = append(qs, q)
	}
	var init features
	init[fLogHand] = 1
	top1 := func(w features, qs []learnQ) float64 {
		hit := 0
		for _, q := range qs {
			best, bs := 0, -1e300
			for k, x := range q.x {
				s := 0.0
				for j := range x {
					s += w[j] * x[j]
				}
				if s > bs {
					best, bs = k, s
				}
			}
			if q.y[best] {
				hit++
			}
		}
		return float64(hit) / float64(len(qs))
	}
	if a := top1(init, qs); a > 0.05 {
		t.Fatalf("the hand score's weights already find %.2f: the test does not exercise the fit", a)
	}
	w := fitRanker(qs[:300], init)
	if a := top1(w, qs[300:]); a < 0.95 {
		t.Errorf("fitted weights find the gold candidate in %.2f of held-out questions, want ≥ 0.95 (w %v)", a, w)
	}
	if w[fAfterBest] <= 0 || w[fNumYes] <= 0 {
		t.Errorf("afterBest %.3f, numYes %.3f: want both > 0", w[fAfterBest], w[fNumYes])
	}
}

// TestLearnedRankerOrder: with the shipped lexical weights the answer
// returns the sentences best first with positive, falling scores, each an
// exact byte range of its chunk, and keeps the hand score's penalties
// (fixedWeights): a command line repeating the question's words is not
// cited first.
func TestLearnedRankerOrder(t *testing.T) {
	hits := []base.Hit{
		{DocID: "start", Text: "bin/quarry search \"how are deletes handled\" --k 5\n"},
		{DocID: "upsert", Text: "Deleting a document removes its chunks from every index in one transaction. Deletes are handled by tombstones until the next compaction."},
	}
	r := Extract("How are deletes handled?", hits, Options{MaxSentences: 3, Language: "en"})
	if len(r.Sentences) < 2 || r.Sentences[0].Hit != 1 {
		t.Fatalf("got %+v, want a sentence of the prose chunk first", r.Sentences)
	}
	for i, s := range r.Sentences {
		if s.Text != hits[s.Hit].Text[s.Start:s.End] || s.Score <= 0 || (i > 0 && s.Score > r.Sentences[i-1].Score) {
			t.Errorf("sentence %d: %+v", i, s)
		}
	}
	if lexModel == nil || embModel == nil {
		t.Fatal("the learned ranker is off")
	}
}

// TestLearnedRankerNeighbourWithoutQuestionTerms: a sentence with none of
// the question's terms is never cited by the hand score; the learned
// ranker considers the neighbours of the best candidates, so the pronoun
// sentence after the scene can be cited, though it shares no word.
func TestLearnedRankerNeighbourWithoutQuestionTerms(t *testing.T) {
	hits := []base.Hit{{DocID: "d", Text: "The Broncos met the Steelers in the divisional round in Denver. " +
		"They won 23–16 after a late field goal. The stadium was sold out."}}
	q := "By what score did the Broncos win the divisional round?"
	learned := Extract(q, hits, Options{MaxSentences: 3, Language: "en"})
	l, e := lexModel, embModel
	lexModel, embModel = nil, nil
	hand := Extract(q, hits, Options{MaxSentences: 3, Language: "en"})
	lexModel, embModel = l, e
	has := func(r Result, s string) bool {
		for _, x := range r.Sentences {
			if strings.HasPrefix(x.Text, s) {
				return true
			}
		}
		return false
	}
	if has(hand, "They won") {
		t.Fatalf("the hand score cites the sentence without question terms: %+v", hand.Sentences)
	}
	if !has(learned, "They won") {
		t.Errorf("the learned ranker does not consider the next sentence: %+v", learned.Sentences)
	}
}

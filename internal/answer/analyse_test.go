package answer

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/quarry-rag/quarry/internal/eval"
	"github.com/quarry-rag/quarry/internal/text"
)

// analyse classifies the dev slice's misses (QUARRY_ANSWER_TUNE_ANALYSE=1
// with the tuning harness; see tune_test.go) into analysis.txt beside the
// reports, and logs the counts per language: r-noctx (no retrieved context
// contains a gold answer), a-split (a context does, but none of its
// sentences: the answer crosses a sentence boundary), b-samepara (the
// chosen sentence's chunk has the answer in another sentence; dN counts
// how far, in sentences, from the chosen one), c-otherpara (the chosen
// sentence's chunk lacks the answer). rankN: the answer's sentence came
// N-th (3 = third or later).
func analyse(t *testing.T, cases map[string][]tuneCase, emb Embedder) {
	f, _ := os.Create(os.Getenv("QUARRY_ANSWER_TUNE") + "/analysis.txt")
	defer f.Close()
	for _, l := range tuneLangs {
		norm := eval.Normalizer{Mode: eval.NormMultilingual, Lang: l}
		cnt := map[string]int{}
		for _, c := range cases[l] {
			r, _ := ExtractContext(context.Background(), c.question, c.hits, Options{MaxSentences: 400, Embedder: emb})
			if len(r.Sentences) > 0 && norm.Contains(r.Sentences[0].Text, c.golds) {
				cnt["ok"]++
				continue
			}
			goldHits := map[int]bool{}
			inSent := map[int]bool{}
			for hi, h := range c.hits {
				if norm.Contains(h.Text, c.golds) {
					goldHits[hi] = true
					for _, sp := range text.Sentences(h.Text) {
						if norm.Contains(h.Text[sp.Start:sp.End], c.golds) {
							inSent[hi] = true
						}
					}
				}
			}
			var cls string
			switch {
			case len(goldHits) == 0:
				cls = "r-noctx"
			case len(inSent) == 0:
				cls = "a-split"
			case len(r.Sentences) == 0:
				cls = "noans"
			case goldHits[r.Sentences[0].Hit] && inSent[r.Sentences[0].Hit]:
				cls = "b-samepara"
			default:
				cls = "c-otherpara"
			}
			cnt[cls]++
			rank := -1
			for k, s := range r.Sentences {
				if norm.Contains(s.Text, c.golds) {
					rank = k
					break
				}
			}
			got := ""
			if len(r.Sentences) > 0 {
				got = fmt.Sprintf("hit%d %q", r.Sentences[0].Hit, r.Sentences[0].Text)
			}
			want := ""
			if rank >= 0 {
				want = fmt.Sprintf("#%d hit%d %q", rank, r.Sentences[rank].Hit, r.Sentences[rank].Text)
			}
			fmt.Fprintf(f, "[%s %s] Q %s | gold %v\n  got %s\n  want %s\n", l, cls, c.question, c.golds, got, want)
			if cls == "a-split" {
				for hi := range goldHits {
					for _, sp := range text.Sentences(c.hits[hi].Text) {
						fmt.Fprintf(f, "    | %q\n", c.hits[hi].Text[sp.Start:sp.End])
					}
				}
			}
			if rank >= 1 && r.Sentences[rank].Hit == r.Sentences[0].Hit {
				idx := func(st int) int {
					for k, sp := range text.Sentences(c.hits[r.Sentences[0].Hit].Text) {
						if sp.Start == st {
							return k
						}
					}
					return -99
				}
				d := idx(r.Sentences[rank].Start) - idx(r.Sentences[0].Start)
				if d < -2 {
					d = -3
				}
				if d > 2 {
					d = 3
				}
				cnt[fmt.Sprintf("d%+d", d)]++
			}
			if rank >= 1 {
				cnt[fmt.Sprintf("rank%d", min(rank, 3))]++
			}
		}
		t.Logf("%s %v", l, cnt)
	}
}

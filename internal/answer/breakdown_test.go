package answer

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/eval"
	"github.com/quarry-rag/quarry/internal/text"
)

// The failure breakdown (QUARRY_ANSWER_LEARN_BREAKDOWN=FILE with the
// fitting harness, learn_test.go): every held-out question of each CV
// fold is answered with that fold's weights, and every one whose first
// sentence misses the gold answer is classified:
//
//	a-noctx  no retrieved context contains a gold answer (retrieval miss)
//	b-split  a context does, but no sentence of it as text.Sentences cuts
//	         it (b-split2: two adjacent sentences together do)
//	c-rank   a sentence containing it exists and was ranked below the
//	         first; c-set: it was among the learned ranker's candidates,
//	         c-out: it was not (hand order only), c-zero: it scored 0 (no
//	         question term, not a neighbour of the best)
//
// The counts per language are logged; FILE gets one block per miss.
type breakdown struct {
	f   *os.File
	cnt map[string]map[string]int
}

func newBreakdown(t *testing.T, path string) *breakdown {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	return &breakdown{f: f, cnt: map[string]map[string]int{}}
}

func (b *breakdown) add(cases map[string][]tuneCase, qs []learnQ, keep func(learnQ) bool, emb Embedder) {
	for _, q := range qs {
		if !keep(q) {
			continue
		}
		c := cases[q.lang][q.caseI]
		cnt := b.cnt[q.lang]
		if cnt == nil {
			cnt = map[string]int{}
			b.cnt[q.lang] = cnt
		}
		cnt["n"]++
		norm := eval.Normalizer{Mode: eval.NormMultilingual, Lang: q.lang}
		cands, _ := rankCandidates(context.Background(), c.question, c.hits, Options{Embedder: emb})
		inCtx, inSent, inPair := false, false, false
		for _, h := range c.hits {
			if !norm.Contains(h.Text, c.golds) {
				continue
			}
			inCtx = true
			sp := text.Sentences(h.Text)
			for k, s := range sp {
				if norm.Contains(h.Text[s.Start:s.End], c.golds) {
					inSent = true
				}
				if k > 0 && norm.Contains(h.Text[sp[k-1].Start:s.End], c.golds) {
					inPair = true
				}
			}
		}
		if inSent {
			cnt["oracle"]++
		}
		if q.anyY {
			cnt["oracle-set"]++
		}
		if len(cands) > 0 && cands[0].Score > 0 && norm.Contains(cands[0].Text, c.golds) {
			cnt["ok"]++
			continue
		}
		var cls string
		switch {
		case !inCtx:
			cls = "a-noctx"
		case !inSent && inPair:
			cls = "b-split2"
		case !inSent:
			cls = "b-split"
		}
		rank := -1
		for k, cd := range cands {
			if norm.Contains(cd.Text, c.golds) {
				rank = k
				break
			}
		}
		detail := ""
		if cls == "" {
			g, w := cands[rank], cands[0]
			switch {
			case g.Score <= 0:
				cls = "c-zero"
			case !g.inSet:
				cls = "c-out"
			default:
				cls = "c-set"
				cnt[fmt.Sprintf("c-set rank%d", min(rank+1, 4))]++
				m := math.Log(w.Score) - math.Log(g.Score)
				switch {
				case m < 0.5:
					cnt["c-set margin<0.5"]++
				case m < 1:
					cnt["c-set margin<1"]++
				case m < 2:
					cnt["c-set margin<2"]++
				default:
					cnt["c-set margin≥2"]++
				}
				detail = fmt.Sprintf(" margin %.2f", m)
			}
			if g.Hit == w.Hit {
				cnt[cls+" samechunk"]++
				if d := g.pos - w.pos; d == 1 || d == -1 {
					cnt[cls+fmt.Sprintf(" adjacent%+d", d)]++
				}
			}
			if w.f[fNovel] < 0.4 {
				cnt[cls+" winner-restates"]++
			}
			if w.f[fNumYes] == 0 && g.f[fNumYes] == 1 {
				cnt[cls+" winner-lacks-number"]++
			}
			if w.f[fPersonNo] == 1 && g.f[fPersonYes] == 1 {
				cnt[cls+" winner-lacks-name"]++
			}
			if w.f[fNoMatch] == 0 && g.f[fNoMatch] == 1 {
				cnt[cls+" gold-no-qterm"]++
			}
		}
		cnt[cls]++
		got := ""
		if len(cands) > 0 {
			got = fmt.Sprintf("hit%d pos%d %q", cands[0].Hit, cands[0].pos, cands[0].Text)
		}
		fmt.Fprintf(b.f, "[%s %s%s] Q %s | gold %q\n  got  %s\n", q.lang, cls, detail, c.question, c.golds, got)
		if rank >= 0 {
			fmt.Fprintf(b.f, "  want #%d hit%d pos%d %q\n", rank, cands[rank].Hit, cands[rank].pos, cands[rank].Text)
		} else if inCtx {
			for _, h := range c.hits {
				if !norm.Contains(h.Text, c.golds) {
					continue
				}
				for _, s := range text.Sentences(h.Text) {
					fmt.Fprintf(b.f, "    | %q\n", h.Text[s.Start:s.End])
				}
				break
			}
		}
	}
}

func (b *breakdown) log(t *testing.T) {
	b.f.Close()
	for _, l := range tuneLangs {
		cnt := b.cnt[l]
		if cnt == nil {
			continue
		}
		var keys []string
		for k := range cnt {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var s strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&s, " %s=%d", k, cnt[k])
		}
		t.Logf("breakdown %s:%s", l, s.String())
	}
}

package answer

import (
	"context"
	"math"
	"testing"

	"github.com/quarry-rag/quarry/internal/embed"
)

func unit(dim, i int) []float32 {
	v := make([]float32, dim)
	v[i] = 1
	return v
}

// TestLateInteractionByHand: the scores of two small sentences against a
// two-token question, computed by hand from orthogonal token vectors.
func TestLateInteractionByHand(t *testing.T) {
	s := float32(math.Sqrt(0.5))
	q := TokenVectors{IDs: []int32{1, 2}, Vectors: [][]float32{unit(4, 0), unit(4, 1)}}
	a := TokenVectors{IDs: []int32{1, 3}, Vectors: [][]float32{unit(4, 0), unit(4, 2)}} // repeats token 1, adds a new one
	b := TokenVectors{IDs: []int32{4}, Vectors: [][]float32{{s, s, 0, 0}}}              // paraphrases both, halfway
	li, w := lateInteraction(q, []TokenVectors{a, b})
	// df: id 1 in a; id 2 nowhere. idf = log(1 + (n−df+0.5)/(df+0.5)), n = 2.
	i1, i2 := math.Log(1+1.5/1.5), math.Log(1+2.5/0.5)
	w1, w2 := i1/(i1+i2), i2/(i1+i2)
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("w[0]", w[0], w1)
	near("w[1]", w[1], w2)
	// a: token 1 found (cos 1), token 2 not (best cos 0).
	near("a.maxSim", li[0].maxSim, 0.5)
	near("a.idf", li[0].idf, w1)
	near("a.para", li[0].para, 0) // token 1 is repeated verbatim; token 2 is not covered
	near("a.novelty", li[0].novelty, 0.5)
	// b: both tokens at cos √½, neither repeated.
	near("b.maxSim", li[1].maxSim, float64(s))
	near("b.idf", li[1].idf, float64(s))
	near("b.para", li[1].para, float64(s))
	near("b.novelty", li[1].novelty, 1-float64(s))
	// Together, a and b cover token 1 fully and token 2 at √½.
	near("joint", joint(li[0], li[1], w), w1+w2*float64(s))
	if got := zscores([]float64{3, 3, 3}); got[0] != 0 || got[2] != 0 {
		t.Errorf("zscores of a constant: %v", got)
	}
	if z := zscores([]float64{1, 3}); math.Abs(z[0]+1) > 1e-12 || math.Abs(z[1]-1) > 1e-12 {
		t.Errorf("zscores(1, 3) = %v", z)
	}
}

// TestNewTokenVectors keeps the marked tokens, normalised, and rejects
// mismatched lengths.
func TestNewTokenVectors(t *testing.T) {
	tv, err := NewTokenVectors([]int32{0, 7, 8, 2}, []bool{false, true, true, false},
		[]float32{9, 9, 3, 4, 0, 2, 9, 9}, []float32{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(tv.IDs) != 2 || tv.IDs[0] != 7 || tv.IDs[1] != 8 {
		t.Fatalf("ids %v", tv.IDs)
	}
	if v := tv.Vectors[0]; math.Abs(float64(v[0])-0.6) > 1e-6 || math.Abs(float64(v[1])-0.8) > 1e-6 {
		t.Fatalf("token 7: %v, want [0.6 0.8]", v)
	}
	if v := tv.Vectors[1]; v[0] != 0 || v[1] != 1 {
		t.Fatalf("token 8: %v, want [0 1]", v)
	}
	for _, bad := range []struct {
		ids    []int32
		own    []bool
		states []float32
	}{{nil, nil, nil}, {[]int32{1}, []bool{true, true}, []float32{1}}, {[]int32{1, 2}, []bool{true, true}, []float32{1, 2, 3}}} {
		if _, err := NewTokenVectors(bad.ids, bad.own, bad.states, nil); err == nil {
			t.Errorf("NewTokenVectors(%v, %v, %v): no error", bad.ids, bad.own, bad.states)
		}
	}
}

// localTokens adapts a real local model to TokenEmbedder.
type localTokens struct{ l *embed.Local }

func (m localTokens) Embed(ctx context.Context, texts []string, query bool) ([][]float32, error) {
	k := embed.Passage
	if query {
		k = embed.Query
	}
	return m.l.Embed(ctx, texts, k)
}

func (m localTokens) EmbedTokens(ctx context.Context, question string, sentences []string) (TokenVectors, []TokenVectors, error) {
	kinds := []embed.Kind{embed.Query}
	for range sentences {
		kinds = append(kinds, embed.Passage)
	}
	tks, err := m.l.EmbedTokensKinds(ctx, append([]string{question}, sentences...), kinds)
	if err != nil {
		return TokenVectors{}, nil, err
	}
	out := make([]TokenVectors, len(tks))
	for i, tk := range tks {
		if out[i], err = NewTokenVectors(tk.IDs, tk.Text, tk.States, tk.Vector); err != nil {
			return TokenVectors{}, nil, err
		}
	}
	return out[0], out[1:], nil
}

// TestLateInteractionParaphrase, with the real multilingual-e5-small: of
// three sentences that repeat the question's one content word
// ("volcano"), the one that paraphrases the rest of it ("erupt" → "blew
// apart", "when" → a date) covers the question best by MaxSim, plain and
// idf-weighted.
func TestLateInteractionParaphrase(t *testing.T) {
	l, err := embed.NewLocal("multilingual-e5-small", embed.LocalOptions{})
	if err != nil {
		t.Skipf("multilingual-e5-small is not available (run make models): %v", err)
	}
	defer l.Close()
	ctx := context.Background()
	m := localTokens{l}
	sents := []string{
		"The volcano is popular with hikers and photographers.",
		"The volcano blew apart in April 1815, burying the villages in ash.",
		"The volcano has a crater lake and a small museum.",
	}
	q, sv, err := m.EmbedTokens(ctx, "When did the volcano erupt?", sents)
	if err != nil {
		t.Fatal(err)
	}
	li, _ := lateInteraction(q, sv)
	for _, k := range []int{0, 2} {
		if li[1].maxSim <= li[k].maxSim || li[1].idf <= li[k].idf {
			t.Errorf("the eruption sentence: MaxSim %.3f, idf-weighted %.3f; %q: %.3f, %.3f",
				li[1].maxSim, li[1].idf, sents[k], li[k].maxSim, li[k].idf)
		}
	}
}

// TestSimilarityCannotLiftCode: for a command line, the similarity
// features may lower the learned score but never raise it; for prose they
// count in full. codeLike tells commands, flags and JSON from prose with
// braces or CJK brackets.
func TestSimilarityCannotLiftCode(t *testing.T) {
	w := &lateWeights
	var prose, code features
	for _, f := range []*features{&prose, &code} {
		f[fOwn], f[fLogHand] = 1, -1
		f[fZ], f[fLIIdf], f[fLIJointPrev] = 2.5, 2.8, 3 // as close to the question as a sentence gets
	}
	code[fProse] = math.Log(0.05)
	lexical := func(f features) float64 {
		for _, j := range similarityFeatures {
			f[j] = 0
		}
		return score(w, &f, false)
	}
	if lift := score(w, &prose, false) - lexical(prose); lift <= 0 {
		t.Fatalf("the similarity features do not lift prose (%.3f): the test shows nothing", lift)
	}
	if got, want := score(w, &code, true), lexical(code); math.Abs(got-want) > 1e-9 {
		t.Errorf("command line: score %.3f, its lexical score %.3f: similarity lifted it", got, want)
	}
	for s, want := range map[string]bool{
		`bin/quarry search "how are deletes handled" --k 5`:             true,
		"quarry search \"chunk overlap\" \nquarry search deletes --k 3": true,
		`-d '{"query":"how are deletes handled","k":5}'`:                true,
		`{"field":"topic"}`: true,
		"$ make models":     true,
		"Usually the alphabet is the set {0,1}, and strings are bitstrings.": false,
		"研究结果发表在《科学》杂志上。":                                                    false,
		"Deletes remove the document and all its chunks.":                    false,
	} {
		if codeLike(s) != want {
			t.Errorf("codeLike(%q) = %v", s, !want)
		}
	}
	code[fZ], code[fLIIdf], code[fLIJointPrev] = -2, -2, -2
	if got, want := score(w, &code, true), lexical(code); got >= want {
		t.Errorf("command line far from the question: score %.3f, not below its lexical score %.3f", got, want)
	}
}

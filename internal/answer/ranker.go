package answer

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// The learned sentence ranker (see doc.go): a linear score over the
// features below, one weight vector with an embedder and one without,
// fitted as a softmax over each question's candidates (learn_test.go).

// Feature indices.
const (
	fOwn          = iota // question-term weight the sentence has, share of the question's
	fPrev                // … that only the sentence before has
	fNext                // … that only the sentence after has
	fHead                // … that only the chunk's title or section has
	fLogHand             // log of the hand-weighted lexical score (floor 1e-4)
	fNoMatch             // the sentence has no question term
	fRank                // log(1 + its rank by the hand score)
	fChunkGap            // the best fOwn in its chunk minus its own
	fAfterBest           // the sentence before is the hand score's best
	fBeforeBest          // the sentence after is the hand score's best
	fChunkRank           // 1/(1 + the chunk's rank)
	fPos                 // log(1 + position in the chunk)
	fFirst               // first sentence of its chunk
	fLast                // last sentence of its chunk
	fLen                 // log(1 + analysed terms)
	fNovel               // share of its terms the question lacks
	fNoNovel             // it has no term the question lacks
	fNewNumber           // it writes a number the question does not
	fNumYes              // a quantity or date question, and a new number
	fNumNo               // … and none
	fPersonYes           // a who question, and a new capitalised name
	fPersonNo            // … and none
	fQuestion            // it is a question (fixed weight, see fixedWeights)
	fProse               // log prose(): 0 for prose, less for code (fixed)
	fHeading             // a heading line (fixed)
	fSubject             // its first term is a question term
	fZ                   // the question ↔ sentence cosine, standardised over the candidates
	fZPrev               // … of the sentence before (0 if not a candidate)
	fZNext               // … of the sentence after
	fZGap                // the best fZ in its chunk minus its own
	fOwnZ                // fOwn × fZ
	fAfterBestZ          // fAfterBest × fZ
	fHandRel             // the hand score over the best one's
	fPrevHand            // … of the sentence before (0 if none)
	fNextHand            // … of the sentence after
	fNewName             // it names someone (a capitalised word past the first) the question does not
	fNoMatchAfter        // fNoMatch × fAfterBest: no question term, right after the best
	fZPos                // max(fZ, 0)
	// Late interaction (late.go), with a TokenEmbedder; standardised over
	// the candidates like fZ.
	fLI          // MaxSim: mean over the question's tokens of the best token cosine in the sentence
	fLIIdf       // … idf-weighted
	fLIPara      // … only the question tokens the sentence does not repeat verbatim
	fLINovel     // how much of the sentence the question's tokens do not cover
	fLIPrev      // fLIIdf of the sentence before (0 if not a candidate)
	fLINext      // … of the sentence after
	fLIGap       // the best fLIIdf in its chunk minus its own
	fLIJointPrev // the idf-weighted coverage by the sentence and the one before together
	fLIJointNext // … and the one after
	fLIRank      // log(1 + its rank by fLIIdf)
	fLITop       // it is first by fLIIdf
	nFeatures
)

type features [nFeatures]float64

var featureNames = [nFeatures]string{"own", "prev", "next", "head", "logHand", "noMatch", "rank", "chunkGap",
	"afterBest", "beforeBest", "chunkRank", "pos", "first", "last", "len", "novel", "noNovel", "newNumber",
	"numYes", "numNo", "personYes", "personNo", "question", "prose", "heading", "subject", "z", "zPrev", "zNext",
	"zGap", "ownZ", "afterBestZ", "handRel", "prevHand", "nextHand", "newName", "noMatchAfter", "zPos",
	"lI", "lIIdf", "lIPara", "lINovel", "lIPrev", "lINext", "lIGap",
	"lIJointPrev", "lIJointNext", "lIRank", "lITop"}

// fixedWeights are not fitted: XQuAD has no code, commands, headings or
// questions among its sentences to learn their weights from, so these
// keep the hand score's factors (×prose(), ×0.4 for a heading, ×0.2 for
// a question) as log-weights.
var fixedWeights = map[int]float64{fProse: 1, fHeading: math.Log(0.4), fQuestion: math.Log(0.2)}

// The candidate set: a variable only for the fitting harness.
var (
	rankTop       = 24 // the best sentences by the hand score the ranker reorders …
	rankNeighbour = 10 // … with the neighbours of the best rankNeighbour of them
)

// lexModel, embModel and lateModel are the weights in use (nil: the
// hand score); the fitting harness swaps them.
var lexModel, embModel, lateModel = &lexWeights, &embWeights, &lateWeights

// modelFor returns the weights for an embedder: lateModel when it gives
// token vectors, embModel when it gives only sentence vectors, lexModel
// without one.
func modelFor(e Embedder) *features {
	if _, ok := e.(TokenEmbedder); ok {
		return lateModel
	}
	if e != nil {
		return embModel
	}
	return lexModel
}

// rankLearned replaces the hand scores of cands (already set, 0 for a
// sentence without a question term) by the learned ranker's: the
// rankTop best by hand score and their neighbours are scored w·f and put
// first, best first; the other sentences with a question term keep their
// hand order below them. With e, the candidates are embedded; should that
// fail, their similarity features stay 0 (the mean) and the error is
// returned with the ranking.
func rankLearned(ctx context.Context, e Embedder, question string, cands []candidate, chunkStart []int, w *features) error {
	var order []int
	for i, c := range cands {
		if c.hand > 0 {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return nil
	}
	sort.SliceStable(order, func(a, b int) bool { return cands[order[a]].hand > cands[order[b]].hand })
	rank := make([]int, len(cands))
	for i := range rank {
		rank[i] = rankTop
	}
	for r, i := range order {
		rank[i] = min(r, rankTop)
	}
	best := order[0]
	inSet := make([]bool, len(cands))
	var set []int
	add := func(i int) {
		if i >= 0 && i < len(cands) && !inSet[i] {
			inSet[i] = true
			cands[i].inSet = true
			set = append(set, i)
		}
	}
	for r, i := range order[:min(len(order), rankTop)] {
		add(i)
		if r < rankNeighbour {
			if i > 0 && cands[i-1].Hit == cands[i].Hit {
				add(i - 1)
			}
			if i+1 < len(cands) && cands[i+1].Hit == cands[i].Hit {
				add(i + 1)
			}
		}
	}
	sort.Ints(set)
	// Relational features.
	chunkOwn := map[int]float64{}
	for i := range cands {
		chunkOwn[cands[i].Hit] = max(chunkOwn[cands[i].Hit], cands[i].f[fOwn])
	}
	for _, i := range set {
		f := &cands[i].f
		f[fLogHand] = math.Log(max(cands[i].hand, 1e-4))
		f[fRank] = math.Log1p(float64(rank[i]))
		f[fChunkGap] = chunkOwn[cands[i].Hit] - f[fOwn]
		same := func(j int) bool { return j >= 0 && j < len(cands) && cands[j].Hit == cands[i].Hit }
		if same(i-1) && i-1 == best {
			f[fAfterBest] = 1
		}
		if same(i+1) && i+1 == best {
			f[fBeforeBest] = 1
		}
		f[fHandRel] = cands[i].hand / cands[best].hand
		if same(i - 1) {
			f[fPrevHand] = cands[i-1].hand / cands[best].hand
		}
		if same(i + 1) {
			f[fNextHand] = cands[i+1].hand / cands[best].hand
		}
		f[fNoMatchAfter] = f[fNoMatch] * f[fAfterBest]
	}
	var embErr error
	if e != nil {
		embErr = setSimilarity(ctx, e, question, cands, set, inSet)
	}
	for _, i := range set {
		f := &cands[i].f
		f[fOwnZ] = f[fOwn] * f[fZ]
		f[fAfterBestZ] = f[fAfterBest] * f[fZ]
		f[fZPos] = max(f[fZ], 0)
	}
	// Scores: exp(w·f − max) for the set, below the least of them (in hand
	// order) for the rest, 0 for sentences without a question term.
	s := make([]float64, len(set))
	top := math.Inf(-1)
	for k, i := range set {
		s[k] = score(w, &cands[i].f, codeLike(cands[i].Text))
		top = max(top, s[k])
	}
	low := 1.0
	for k, i := range set {
		cands[i].Score = math.Exp(s[k] - top)
		low = min(low, cands[i].Score)
	}
	handMax := cands[best].hand
	for i := range cands {
		if !inSet[i] {
			cands[i].Score = 0.5 * low * cands[i].hand / handMax
		}
	}
	return embErr
}

// similarityFeatures are the features an embedder gives: how close the
// sentence (or its neighbours) is to the question in meaning.
var similarityFeatures = []int{fZ, fZPrev, fZNext, fZGap, fOwnZ, fAfterBestZ, fZPos,
	fLI, fLIIdf, fLIPara, fLINovel, fLIPrev, fLINext, fLIGap, fLIJointPrev, fLIJointNext, fLIRank, fLITop}

// score is w·f, except that for a command line, code or JSON (codeLike)
// the similarity features may lower the score but never raise it: a
// command that quotes the question ("bin/quarry search "how are deletes
// handled"") is as close to it as a sentence can be, token by token, and
// answers nothing. XQuAD, where the weights are fitted, has no such
// sentences to teach this, and the fixed prose weight alone is outweighed
// by strong similarity evidence.
func score(w *features, f *features, code bool) float64 {
	s := 0.0
	for j, x := range f {
		s += w[j] * x
	}
	if !code {
		return s
	}
	sim := 0.0
	for _, j := range similarityFeatures {
		sim += w[j] * f[j]
	}
	return s - max(sim, 0)
}

// setSimilarity sets fZ, fZPrev, fZNext and fZGap of the set's
// sentences: the cosine between the question's embedding and theirs,
// standardised over the set (embedding models' cosines sit in narrow,
// model-specific bands, so only their order among a question's
// candidates is comparable). With a TokenEmbedder, the same forward pass
// also gives the late-interaction features (fLI …).
func setSimilarity(ctx context.Context, e Embedder, question string, cands []candidate, set []int, inSet []bool) error {
	if len(set) < 2 {
		return nil
	}
	var z []float64
	if te, ok := e.(TokenEmbedder); ok {
		var err error
		if z, err = lateFeatures(ctx, te, question, cands, set); err != nil {
			return err
		}
	} else {
		sims, mean, sd, err := standardise(ctx, e, question, cands, set)
		if err != nil || sd < 1e-6 {
			return err
		}
		z = make([]float64, len(sims))
		for k := range sims {
			z[k] = (sims[k] - mean) / sd
		}
	}
	for k, i := range set {
		cands[i].f[fZ] = z[k]
	}
	neighbours(cands, set, inSet, fZ, fZPrev, fZNext, fZGap)
	return nil
}

// neighbours sets, for each sentence of the set, feature prev and next to
// the sentence before's and after's feature own (0 when not in the set or
// another chunk), and gap to the best own in its chunk minus its own.
func neighbours(cands []candidate, set []int, inSet []bool, own, prev, next, gap int) {
	chunkBest := map[int]float64{}
	for _, i := range set {
		v := cands[i].f[own]
		if b, ok := chunkBest[cands[i].Hit]; !ok || v > b {
			chunkBest[cands[i].Hit] = v
		}
	}
	for _, i := range set {
		f := &cands[i].f
		f[gap] = chunkBest[cands[i].Hit] - f[own]
		if i > 0 && inSet[i-1] && cands[i-1].Hit == cands[i].Hit {
			f[prev] = cands[i-1].f[own]
		}
		if i+1 < len(cands) && inSet[i+1] && cands[i+1].Hit == cands[i].Hit {
			f[next] = cands[i+1].f[own]
		}
	}
}

// lateFeatures embeds the question and the set's sentences with their
// tokens, sets the late-interaction features (standardised over the set)
// and returns the standardised pooled cosines for fZ.
func lateFeatures(ctx context.Context, te TokenEmbedder, question string, cands []candidate, set []int) ([]float64, error) {
	texts := make([]string, len(set))
	for k, i := range set {
		texts[k] = cands[i].Text
	}
	qv, sv, err := te.EmbedTokens(ctx, question, texts)
	if err != nil {
		return nil, err
	}
	if len(sv) != len(texts) {
		return nil, fmt.Errorf("answer: the embedder returned %d token sets for %d sentences", len(sv), len(texts))
	}
	sims := make([]float64, len(set))
	for k := range set {
		sims[k] = cosine(qv.Pooled, sv[k].Pooled)
	}
	li, w := lateInteraction(qv, sv)
	jp, jn := make([]float64, len(li)), make([]float64, len(li))
	for k := range li {
		jp[k], jn[k] = li[k].idf, li[k].idf
		adjacent := func(j int) bool {
			return j >= 0 && j < len(set) && (set[j] == set[k]-1 || set[j] == set[k]+1) && cands[set[j]].Hit == cands[set[k]].Hit
		}
		if adjacent(k-1) && set[k-1] == set[k]-1 {
			jp[k] = joint(li[k], li[k-1], w)
		}
		if adjacent(k+1) && set[k+1] == set[k]+1 {
			jn[k] = joint(li[k], li[k+1], w)
		}
	}
	for k, z := range zscores(jp) {
		cands[set[k]].f[fLIJointPrev] = z
	}
	for k, z := range zscores(jn) {
		cands[set[k]].f[fLIJointNext] = z
	}
	byLI := make([]int, len(li))
	for k := range byLI {
		byLI[k] = k
	}
	sort.SliceStable(byLI, func(a, b int) bool { return li[byLI[a]].idf > li[byLI[b]].idf })
	for r, k := range byLI {
		cands[set[k]].f[fLIRank] = math.Log1p(float64(r))
		if r == 0 {
			cands[set[k]].f[fLITop] = 1
		}
	}
	col := func(get func(lateScores) float64) []float64 {
		v := make([]float64, len(li))
		for k, r := range li {
			v[k] = get(r)
		}
		return zscores(v)
	}
	for _, c := range []struct {
		f   int
		get func(lateScores) float64
	}{
		{fLI, func(r lateScores) float64 { return r.maxSim }},
		{fLIIdf, func(r lateScores) float64 { return r.idf }},
		{fLIPara, func(r lateScores) float64 { return r.para }},
		{fLINovel, func(r lateScores) float64 { return r.novelty }},
	} {
		for k, z := range col(c.get) {
			cands[set[k]].f[c.f] = z
		}
	}
	inSet := make([]bool, len(cands))
	for _, i := range set {
		inSet[i] = true
	}
	neighbours(cands, set, inSet, fLIIdf, fLIPrev, fLINext, fLIGap)
	return zscores(sims), nil
}

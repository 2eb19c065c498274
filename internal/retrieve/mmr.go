package retrieve

import (
	"math"

	"github.com/quarry-rag/quarry/internal/base"
)

// MMR reorders hits (sorted best first) by maximal marginal relevance and
// returns the first k (all when k <= 0): each step picks the hit that
// maximises
//
//	lambda·rel(h) − (1−lambda)·max sim(h, s) over the hits s already picked
//
// where rel is the hit's score min-max normalised to [0, 1] over the list
// and sim is the cosine similarity of the hits' vectors (Hit.Vector). A hit
// without a vector is similar to nothing. lambda = 1 keeps the input order;
// smaller values trade relevance for diversity. The returned hits carry the
// MMR objective at the step they were picked as Score, which never
// increases down the list. hits is not modified.
func MMR(hits []base.Hit, lambda float64, k int) []base.Hit {
	n := len(hits)
	if k <= 0 || k > n {
		k = n
	}
	if n == 0 {
		return []base.Hit{}
	}
	rel := minMax(hits)
	unit := make([][]float32, n)
	for i := range hits {
		unit[i] = normalized(hits[i].Vector)
	}
	// maxSim[i] is the largest similarity of candidate i to a picked hit.
	maxSim := make([]float64, n)
	picked := make([]bool, n)
	out := make([]base.Hit, 0, k)
	for len(out) < k {
		best, bestScore := -1, math.Inf(-1)
		for i := 0; i < n; i++ {
			if picked[i] {
				continue
			}
			s := lambda*rel(i) - (1-lambda)*maxSim[i]
			if s > bestScore { // strict: ties keep the input order
				best, bestScore = i, s
			}
		}
		picked[best] = true
		h := hits[best]
		h.Score = bestScore
		out = append(out, h)
		if unit[best] == nil {
			continue
		}
		for i := 0; i < n; i++ {
			if !picked[i] && unit[i] != nil && len(unit[i]) == len(unit[best]) {
				maxSim[i] = max(maxSim[i], dot(unit[i], unit[best]))
			}
		}
	}
	return out
}

// normalized returns v scaled to unit length, or nil for a nil or zero
// vector.
func normalized(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return nil
	}
	s := 1 / math.Sqrt(n)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * s)
	}
	return out
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

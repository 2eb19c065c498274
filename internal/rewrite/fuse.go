package rewrite

import (
	"sort"

	"github.com/quarry-rag/quarry/internal/base"
)

// FuseRRF merges any number of ranked lists (best first) with reciprocal
// rank fusion, score = Σ 1/(k + rank), keeping k results (all when k ≤ 0).
// A chunk keeps the fields of its first occurrence. internal/retrieve.Fuse
// fuses exactly two lists (lexical and dense); multi-query retrieval has
// one list per query.
func FuseRRF(lists [][]base.Hit, rrfK float64, k int) []base.Hit {
	if rrfK <= 0 {
		rrfK = 60
	}
	type entry struct {
		hit   base.Hit
		score float64
		first int
	}
	byID := map[string]*entry{}
	var order []*entry
	for _, list := range lists {
		for i, h := range list {
			e, ok := byID[h.ChunkID]
			if !ok {
				e = &entry{hit: h, first: len(order)}
				byID[h.ChunkID] = e
				order = append(order, e)
			}
			e.score += 1 / (rrfK + float64(i+1))
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].score != order[j].score {
			return order[i].score > order[j].score
		}
		return order[i].first < order[j].first
	})
	if k > 0 && len(order) > k {
		order = order[:k]
	}
	out := make([]base.Hit, len(order))
	for i, e := range order {
		out[i] = e.hit
		out[i].Score = e.score
	}
	return out
}

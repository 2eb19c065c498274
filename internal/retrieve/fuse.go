package retrieve

import (
	"sort"

	"github.com/quarry-rag/quarry/internal/base"
)

// Method selects a fusion method.
type Method string

const (
	RRF      Method = "rrf"
	Weighted Method = "weighted"
)

// List is one ranked list to fuse (best first) and its weight: the factor
// of its RRF terms (1 for plain RRF) or of its normalised scores.
type List struct {
	Hits   []base.Hit
	Weight float64
}

// FuseOptions configure Fuse.
type FuseOptions struct {
	Method Method  // default RRF
	RRFK   float64 // RRF's k; default 60
	K      int     // results kept; default: all
}

// Fuse merges any number of ranked lists into one ranking: a chunk's
// score is Σ weight·1/(k + rank) under RRF, Σ weight·minmax(score) under
// Weighted. A chunk present in several lists keeps the fields of its first
// occurrence (lists in order) and gets the fused score; ties keep the
// order of first appearance.
func Fuse(lists []List, opts FuseOptions) []base.Hit {
	if opts.Method == "" {
		opts.Method = RRF
	}
	if opts.RRFK <= 0 {
		opts.RRFK = 60
	}
	type entry struct {
		hit   base.Hit
		score float64
		first int // order of first appearance, for stable ties
	}
	n := 0
	for _, l := range lists {
		n += len(l.Hits)
	}
	byID := make(map[string]*entry, n)
	order := make([]*entry, 0, n)
	for _, l := range lists {
		var norm func(i int) float64
		if opts.Method == Weighted {
			norm = minMax(l.Hits)
		} else {
			norm = func(i int) float64 { return 1 / (opts.RRFK + float64(i+1)) }
		}
		for i, h := range l.Hits {
			e, ok := byID[h.ChunkID]
			if !ok {
				e = &entry{hit: h, first: len(order)}
				byID[h.ChunkID] = e
				order = append(order, e)
			}
			e.score += l.Weight * norm(i)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].score != order[j].score {
			return order[i].score > order[j].score
		}
		return order[i].first < order[j].first
	})
	if opts.K > 0 && len(order) > opts.K {
		order = order[:opts.K]
	}
	out := make([]base.Hit, len(order))
	for i, e := range order {
		out[i] = e.hit
		out[i].Score = e.score
	}
	return out
}

// Equal returns lists with weight 1 each: plain RRF over them.
func Equal(lists ...[]base.Hit) []List {
	out := make([]List, len(lists))
	for i, l := range lists {
		out[i] = List{Hits: l, Weight: 1}
	}
	return out
}

// minMax returns the min-max normalised score of position i in list (1 for
// the best, 0 for the worst; 1 for every hit when all scores are equal).
func minMax(list []base.Hit) func(i int) float64 {
	if len(list) == 0 {
		return func(int) float64 { return 0 }
	}
	lo, hi := list[0].Score, list[0].Score
	for _, h := range list {
		lo, hi = min(lo, h.Score), max(hi, h.Score)
	}
	return func(i int) float64 {
		if hi == lo {
			return 1
		}
		return (list[i].Score - lo) / (hi - lo)
	}
}

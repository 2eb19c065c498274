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

// FuseOptions configure Fuse.
type FuseOptions struct {
	Method Method  // default RRF
	RRFK   float64 // RRF's k; default 60
	Alpha  float64 // weight of the dense list in Weighted; default 0.5
	K      int     // results kept; default: all
}

// Fuse merges lists (each sorted best first) into one ranking. A chunk
// present in several lists keeps the fields of its first occurrence and
// gets the fused score.
func Fuse(lexical, dense []base.Hit, opts FuseOptions) []base.Hit {
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
	byID := map[string]*entry{}
	var order []*entry
	add := func(list []base.Hit, weight float64, norm func(i int) float64) {
		for i, h := range list {
			e, ok := byID[h.ChunkID]
			if !ok {
				e = &entry{hit: h, first: len(order)}
				byID[h.ChunkID] = e
				order = append(order, e)
			}
			e.score += weight * norm(i)
		}
	}
	switch opts.Method {
	case Weighted:
		alpha := opts.Alpha
		add(lexical, 1-alpha, minMax(lexical))
		add(dense, alpha, minMax(dense))
	default:
		rrf := func(i int) float64 { return 1 / (opts.RRFK + float64(i+1)) }
		add(lexical, 1, rrf)
		add(dense, 1, rrf)
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

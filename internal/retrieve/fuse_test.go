package retrieve

import (
	"math"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
)

func hits(ids ...string) []base.Hit {
	out := make([]base.Hit, len(ids))
	for i, id := range ids {
		out[i] = base.Hit{ChunkID: id, Score: float64(len(ids) - i)}
	}
	return out
}

func TestRRFByHand(t *testing.T) {
	// a: lexical rank 1, dense rank 3 → 1/61 + 1/63
	// b: lexical rank 2, dense rank 1 → 1/62 + 1/61
	// c: dense rank 2 only → 1/62;  d: lexical rank 3 only → 1/63
	got := Fuse(Equal(hits("a", "b", "d"), hits("b", "c", "a")), FuseOptions{})
	want := []struct {
		id    string
		score float64
	}{{"b", 1.0/62 + 1.0/61}, {"a", 1.0/61 + 1.0/63}, {"c", 1.0 / 62}, {"d", 1.0 / 63}}
	if len(got) != len(want) {
		t.Fatalf("got %d hits", len(got))
	}
	for i, w := range want {
		if got[i].ChunkID != w.id || math.Abs(got[i].Score-w.score) > 1e-12 {
			t.Fatalf("rank %d: got %s %.6f, want %s %.6f", i+1, got[i].ChunkID, got[i].Score, w.id, w.score)
		}
	}
}

func TestWeightedByHand(t *testing.T) {
	lex := []base.Hit{{ChunkID: "a", Score: 10}, {ChunkID: "b", Score: 5}, {ChunkID: "c", Score: 0}}
	den := []base.Hit{{ChunkID: "c", Score: 0.9}, {ChunkID: "a", Score: 0.5}, {ChunkID: "b", Score: 0.1}}
	// alpha 0.25: a = .75*1 + .25*.5 = .875; b = .75*.5 + .25*0 = .375; c = 0 + .25*1 = .25
	got := Fuse([]List{{lex, 0.75}, {den, 0.25}}, FuseOptions{Method: Weighted, K: 2})
	if len(got) != 2 || got[0].ChunkID != "a" || math.Abs(got[0].Score-0.875) > 1e-12 || got[1].ChunkID != "b" || math.Abs(got[1].Score-0.375) > 1e-12 {
		t.Fatalf("got %+v", got)
	}
}

func TestFuseEmpty(t *testing.T) {
	if got := Fuse(Equal(nil, nil), FuseOptions{}); len(got) != 0 {
		t.Fatal(got)
	}
	if got := Fuse([]List{{hits("x"), 0.5}, {nil, 0.5}}, FuseOptions{Method: Weighted}); len(got) != 1 || got[0].ChunkID != "x" {
		t.Fatal(got)
	}
}

// TestFuseNLists: three lists fused by RRF (multi-query retrieval), each
// chunk scored by the sum of its terms, cut to K.
func TestFuseNLists(t *testing.T) {
	got := Fuse(Equal(hits("a", "b", "c"), hits("b", "a"), hits("b", "d")), FuseOptions{K: 3})
	want := []struct {
		id    string
		score float64
	}{{"b", 1.0/62 + 1.0/61 + 1.0/61}, {"a", 1.0/61 + 1.0/62}, {"d", 1.0 / 62}}
	if len(got) != len(want) {
		t.Fatalf("got %d hits", len(got))
	}
	for i, w := range want {
		if got[i].ChunkID != w.id || math.Abs(got[i].Score-w.score) > 1e-12 {
			t.Fatalf("rank %d: got %s %.6f, want %s %.6f", i+1, got[i].ChunkID, got[i].Score, w.id, w.score)
		}
	}
	// Per-list weights: the second list counts double.
	got = Fuse([]List{{hits("a", "b"), 1}, {hits("b", "a"), 2}}, FuseOptions{})
	if got[0].ChunkID != "b" || math.Abs(got[0].Score-(1.0/62+2.0/61)) > 1e-12 {
		t.Fatalf("weighted RRF: %+v", got)
	}
}

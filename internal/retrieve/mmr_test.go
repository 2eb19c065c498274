package retrieve

import (
	"math"
	"math/rand"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
)

func vhit(id string, score float64, v ...float32) base.Hit {
	return base.Hit{ChunkID: id, Score: score, Vector: v}
}

func ids(hs []base.Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.ChunkID
	}
	return out
}

func TestMMRByHand(t *testing.T) {
	// a and b are near-duplicates; c is orthogonal to both and a little
	// less relevant. rel: a 1, b 0.9, c 0.8, d 0.
	in := []base.Hit{
		vhit("a", 10, 1, 0),
		vhit("b", 9, 0.99, 0.141),
		vhit("c", 8, 0, 1),
		vhit("d", 0, -1, 0),
	}
	got := MMR(in, 0.5, 3)
	// Step 1: a (0.5·1). Step 2: b = .45 − .5·.99 < 0; c = .4 − 0 = .4 → c.
	// Step 3: b = .45 − .5·max(.99,.141) = −.045; d = 0 − .5·max(0, 0) = 0
	// (d·a = −1 counts as 0) → d.
	want := []string{"a", "c", "d"}
	if g := ids(got); len(g) != 3 || g[0] != want[0] || g[1] != want[1] || g[2] != want[2] {
		t.Fatalf("got %v, want %v", g, want)
	}
	if math.Abs(got[0].Score-0.5) > 1e-9 || math.Abs(got[1].Score-0.4) > 1e-9 || math.Abs(got[2].Score) > 1e-9 {
		t.Fatalf("scores %v %v %v", got[0].Score, got[1].Score, got[2].Score)
	}
	if in[0].Score != 10 || in[1].ChunkID != "b" {
		t.Fatal("MMR modified its input")
	}
	// Without diversity weight the order is the input's.
	if g := ids(MMR(in, 1, 0)); g[0] != "a" || g[1] != "b" || g[2] != "c" || g[3] != "d" {
		t.Fatalf("lambda 1: %v", g)
	}
}

func TestMMRScoresNeverIncreaseAndKeepAllHits(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var in []base.Hit
	for i := 0; i < 60; i++ {
		v := make([]float32, 8)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		if i%7 == 3 {
			v = nil // hits without vectors are allowed
		}
		in = append(in, vhit(string(rune('A'+i)), float64(60-i), v...))
	}
	for _, lambda := range []float64{0.1, 0.5, 0.9} {
		got := MMR(in, lambda, 0)
		if len(got) != len(in) {
			t.Fatalf("lambda %v: %d hits, want %d", lambda, len(got), len(in))
		}
		seen := map[string]bool{}
		for i, h := range got {
			if seen[h.ChunkID] {
				t.Fatalf("duplicate %s", h.ChunkID)
			}
			seen[h.ChunkID] = true
			if i > 0 && h.Score > got[i-1].Score+1e-12 {
				t.Fatalf("lambda %v: score rises at %d: %v > %v", lambda, i, h.Score, got[i-1].Score)
			}
		}
	}
}

func TestMMRDiversifiesClusters(t *testing.T) {
	// Ten near-copies of one vector outrank ten of another: relevance alone
	// returns only the first cluster; MMR brings the best of the second
	// right after the best of the first.
	var in []base.Hit
	for i := 0; i < 10; i++ {
		in = append(in, vhit("x"+string(rune('0'+i)), float64(100-i), 1, 0.01*float32(i)))
	}
	for i := 0; i < 10; i++ {
		in = append(in, vhit("y"+string(rune('0'+i)), float64(80-i), 0.01*float32(i), 1))
	}
	got := MMR(in, 0.5, 4)
	if g := ids(got); g[0] != "x0" || g[1] != "y0" {
		t.Fatalf("top 4 by MMR: %v", g)
	}
	// Relevance alone (lambda 1) ranks the whole x cluster first.
	if g := ids(MMR(in, 1, 4)); g[1] != "x1" || g[3] != "x3" {
		t.Fatalf("lambda 1: %v", g)
	}
}

func TestMMREmpty(t *testing.T) {
	if got := MMR(nil, 0.5, 10); got == nil || len(got) != 0 {
		t.Fatalf("got %v", got)
	}
}

package cache

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestKeyIsUnambiguous(t *testing.T) {
	if Key("ab", "c") == Key("a", "bc") || Key("a") != Key("a") {
		t.Fatal("Key collides or is not deterministic")
	}
}

func TestExactLRUTTLAndGeneration(t *testing.T) {
	now := time.Unix(0, 0)
	c := NewExact[int](2, time.Minute)
	c.now = func() time.Time { return now }
	c.Put("a", 1, 10)
	c.Put("b", 1, 20)
	if v, ok := c.Get("a", 1); !ok || v != 10 {
		t.Fatal("a missing")
	}
	c.Put("c", 1, 30) // evicts b, the least recently used
	if _, ok := c.Get("b", 1); ok {
		t.Fatal("b not evicted")
	}
	if _, ok := c.Get("a", 2); ok {
		t.Fatal("entry of generation 1 served for generation 2")
	}
	if _, ok := c.Get("a", 1); ok {
		t.Fatal("stale entry not dropped")
	}
	now = now.Add(2 * time.Minute)
	if _, ok := c.Get("c", 1); ok {
		t.Fatal("expired entry served")
	}
	if c.Len() != 0 {
		t.Fatalf("len %d", c.Len())
	}
}

func TestSemanticThresholdScopeGeneration(t *testing.T) {
	c := NewSemantic[string](10, 0, 0.95)
	c.Put("s1", 1, []float32{1, 0, 0}, "x")
	if v, sim, ok := c.Get("s1", 1, []float32{0.99, 0.1, 0}); !ok || v != "x" || sim < 0.95 {
		t.Fatalf("near question missed: %v %v %v", v, sim, ok)
	}
	if _, sim, ok := c.Get("s1", 1, []float32{0.7, 0.7, 0}); ok {
		t.Fatalf("far question hit at %v", sim)
	}
	if _, _, ok := c.Get("s2", 1, []float32{1, 0, 0}); ok {
		t.Fatal("hit across scopes")
	}
	if _, _, ok := c.Get("s1", 2, []float32{1, 0, 0}); ok || c.Len() != 0 {
		t.Fatalf("hit across generations (len %d)", c.Len())
	}
	if _, _, ok := c.Get("s1", 1, []float32{0, 0, 0}); ok {
		t.Fatal("zero vector hit")
	}
}

func TestSemanticEvictsAndConcurrent(t *testing.T) {
	c := NewSemantic[int](50, time.Hour, 0)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 500; i++ {
				v := []float32{r.Float32(), r.Float32(), r.Float32()}
				scope := fmt.Sprint(i % 3)
				c.Put(scope, 1, v, i)
				c.Get(scope, 1, v)
			}
		}()
	}
	wg.Wait()
	if c.Len() != 50 {
		t.Fatalf("len %d, want 50", c.Len())
	}
}

// BenchmarkSemanticGet measures a lookup among 1024 cached 384-dimensional
// questions of one scope (the cache's own cost; see the root package's
// BenchmarkAskSemanticCacheHit for a whole hit).
func BenchmarkSemanticGet(b *testing.B) {
	c := NewSemantic[int](1024, 0, 0)
	r := rand.New(rand.NewPCG(1, 2))
	vec := func() []float32 {
		v := make([]float32, 384)
		for i := range v {
			v[i] = r.Float32() - 0.5
		}
		return v
	}
	var q []float32
	for i := 0; i < 1024; i++ {
		q = vec()
		c.Put("scope", 1, q, i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, ok := c.Get("scope", 1, q); !ok {
			b.Fatal("miss")
		}
	}
}

// TestExactCostBound checks the second bound of NewExactCost: entries are
// evicted least recently used first while the total cost is over the
// budget (though the count bound is not reached), a value costing more
// than the whole budget is not stored and drops the key's older value,
// and replacing a value accounts for its new cost.
func TestExactCostBound(t *testing.T) {
	c := NewExactCost[[]byte](100, 0, 10, func(v []byte) int64 { return int64(len(v)) })
	c.Put("a", 1, make([]byte, 4))
	c.Put("b", 1, make([]byte, 4))
	c.Get("a", 1)                  // b is now the least recently used
	c.Put("c", 1, make([]byte, 4)) // 12 > 10: evicts b
	if _, ok := c.Get("b", 1); ok {
		t.Fatal("b kept over the cost bound")
	}
	if _, ok := c.Get("a", 1); !ok {
		t.Fatal("a evicted instead of b")
	}
	if c.Len() != 2 || c.Cost() != 8 {
		t.Fatalf("len %d cost %d, want 2 and 8", c.Len(), c.Cost())
	}
	c.Put("a", 1, make([]byte, 11)) // larger than the whole budget
	if _, ok := c.Get("a", 1); ok {
		t.Fatal("a value over the whole budget was stored (or the old one kept)")
	}
	if c.Len() != 1 || c.Cost() != 4 {
		t.Fatalf("len %d cost %d, want 1 and 4", c.Len(), c.Cost())
	}
	c.Put("c", 1, make([]byte, 10)) // replace: 10, not 4+10
	if v, ok := c.Get("c", 1); !ok || len(v) != 10 || c.Cost() != 10 {
		t.Fatalf("replaced c: ok %v len %d cost %d", ok, len(v), c.Cost())
	}
	c.Get("c", 2) // stale generation: dropped, cost given back
	if c.Len() != 0 || c.Cost() != 0 {
		t.Fatalf("len %d cost %d after the stale drop", c.Len(), c.Cost())
	}
	// The count bound still holds alongside the cost bound.
	n := NewExactCost[[]byte](2, 0, 1<<20, func(v []byte) int64 { return int64(len(v)) })
	for _, k := range []string{"x", "y", "z"} {
		n.Put(k, 1, []byte{1})
	}
	if n.Len() != 2 || n.Cost() != 2 {
		t.Fatalf("count bound: len %d cost %d", n.Len(), n.Cost())
	}
}

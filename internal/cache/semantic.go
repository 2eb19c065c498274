package cache

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// DefaultThreshold is the cosine similarity above which two questions are
// taken to be the same question.
const DefaultThreshold = 0.95

// Semantic caches values by question embedding: Get finds the most similar
// cached question in the same scope and generation, and returns its value
// when the cosine similarity is at least the threshold. Lookup is a linear
// scan of the scope's entries (a few hundred dot products of a few hundred
// dimensions: microseconds).
type Semantic[V any] struct {
	size      int
	ttl       time.Duration
	threshold float32
	now       func() time.Time
	// mu protects the following fields.
	mu struct {
		sync.Mutex
		lru     *list.List // of *semEntry, most recent first
		byScope map[string]map[*list.Element]struct{}
	}
}

type semEntry[V any] struct {
	scope   string
	gen     uint64
	expires time.Time
	vec     []float32 // unit length
	val     V
}

// NewSemantic returns a cache of at most size entries living ttl (0:
// forever) that matches at cosine ≥ threshold (DefaultThreshold when 0).
func NewSemantic[V any](size int, ttl time.Duration, threshold float64) *Semantic[V] {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	c := &Semantic[V]{size: max(size, 1), ttl: ttl, threshold: float32(threshold), now: time.Now}
	c.mu.lru = list.New()
	c.mu.byScope = map[string]map[*list.Element]struct{}{}
	return c
}

// Get returns the value of the most similar question cached in scope for
// generation gen, and its similarity, when that similarity reaches the
// threshold.
func (c *Semantic[V]) Get(scope string, gen uint64, vec []float32) (V, float32, bool) {
	var zero V
	q := unit(vec)
	if q == nil {
		return zero, 0, false
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *list.Element
	bestSim := float32(-2)
	for el := range c.mu.byScope[scope] {
		e := el.Value.(*semEntry[V])
		if e.gen != gen || (c.ttl > 0 && now.After(e.expires)) {
			c.removeLocked(el)
			continue
		}
		if len(e.vec) != len(q) {
			continue
		}
		if s := dot(e.vec, q); s > bestSim {
			best, bestSim = el, s
		}
	}
	if best == nil || bestSim < c.threshold {
		return zero, max(bestSim, 0), false
	}
	c.mu.lru.MoveToFront(best)
	return best.Value.(*semEntry[V]).val, bestSim, true
}

// Put caches v for the question embedded as vec in scope and generation gen.
func (c *Semantic[V]) Put(scope string, gen uint64, vec []float32, v V) {
	u := unit(vec)
	if u == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.mu.lru.PushFront(&semEntry[V]{scope: scope, gen: gen, expires: c.now().Add(c.ttl), vec: u, val: v})
	set := c.mu.byScope[scope]
	if set == nil {
		set = map[*list.Element]struct{}{}
		c.mu.byScope[scope] = set
	}
	set[el] = struct{}{}
	for c.mu.lru.Len() > c.size {
		c.removeLocked(c.mu.lru.Back())
	}
}

// Len returns the number of entries.
func (c *Semantic[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.lru.Len()
}

func (c *Semantic[V]) removeLocked(el *list.Element) {
	c.mu.lru.Remove(el)
	e := el.Value.(*semEntry[V])
	set := c.mu.byScope[e.scope]
	delete(set, el)
	if len(set) == 0 {
		delete(c.mu.byScope, e.scope)
	}
}

// unit returns a unit-length copy of v, or nil for a zero or non-finite vector.
func unit(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return nil
	}
	inv := float32(1 / math.Sqrt(n))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * inv
	}
	return out
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

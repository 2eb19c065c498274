package cache

import (
	"container/list"
	"sync"
	"time"
)

// Exact is a size-bounded LRU cache whose entries expire after a TTL and
// belong to one collection generation. It may also be bounded by the
// total cost (typically bytes) of its values: see NewExactCost.
type Exact[V any] struct {
	size    int
	ttl     time.Duration
	now     func() time.Time
	maxCost int64         // 0: no cost bound
	cost    func(V) int64 // nil when maxCost is 0
	// mu protects the following fields.
	mu struct {
		sync.Mutex
		lru   *list.List // of *exactEntry, most recent first
		byKey map[string]*list.Element
		cost  int64 // sum of the entries' costs (0 without a cost bound)
	}
}

type exactEntry[V any] struct {
	key     string
	gen     uint64
	expires time.Time
	cost    int64
	val     V
}

// NewExact returns a cache of at most size entries (size ≥ 1) that live
// for ttl (0: forever).
func NewExact[V any](size int, ttl time.Duration) *Exact[V] {
	return NewExactCost[V](size, ttl, 0, nil)
}

// NewExactCost is NewExact with a second bound: the sum of cost(v) over
// the entries stays at most maxCost. Put evicts least recently used
// entries while either bound is exceeded, and does not store a value
// whose own cost exceeds maxCost. With maxCost ≤ 0 or a nil cost there is
// no cost bound. cost must be cheap and must not depend on anything that
// changes after Put.
func NewExactCost[V any](size int, ttl time.Duration, maxCost int64, cost func(V) int64) *Exact[V] {
	c := &Exact[V]{size: max(size, 1), ttl: ttl, now: time.Now}
	if maxCost > 0 && cost != nil {
		c.maxCost, c.cost = maxCost, cost
	}
	c.mu.lru = list.New()
	c.mu.byKey = map[string]*list.Element{}
	return c
}

// Get returns the value stored under key for generation gen.
func (c *Exact[V]) Get(key string, gen uint64) (V, bool) {
	var zero V
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.mu.byKey[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*exactEntry[V])
	if e.gen != gen || (c.ttl > 0 && c.now().After(e.expires)) {
		c.removeLocked(el)
		return zero, false
	}
	c.mu.lru.MoveToFront(el)
	return e.val, true
}

// Put stores v under key for generation gen, evicting least recently
// used entries while the cache is over its size (or cost) bound. A value
// costing more than the whole cost bound is not stored, and any older
// value under key is dropped.
func (c *Exact[V]) Put(key string, gen uint64, v V) {
	var cost int64
	if c.cost != nil {
		cost = max(c.cost(v), 0)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.mu.byKey[key]; ok {
		c.removeLocked(el)
	}
	if c.cost != nil && cost > c.maxCost {
		return
	}
	e := &exactEntry[V]{key: key, gen: gen, expires: c.now().Add(c.ttl), cost: cost, val: v}
	c.mu.byKey[key] = c.mu.lru.PushFront(e)
	c.mu.cost += cost
	for c.mu.lru.Len() > c.size || (c.cost != nil && c.mu.cost > c.maxCost) {
		c.removeLocked(c.mu.lru.Back())
	}
}

// Cost returns the sum of the entries' costs (0 without a cost bound).
func (c *Exact[V]) Cost() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.cost
}

// Len returns the number of entries (expired ones included until seen).
func (c *Exact[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.lru.Len()
}

func (c *Exact[V]) removeLocked(el *list.Element) {
	e := el.Value.(*exactEntry[V])
	c.mu.lru.Remove(el)
	delete(c.mu.byKey, e.key)
	c.mu.cost -= e.cost
}

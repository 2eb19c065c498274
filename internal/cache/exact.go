package cache

import (
	"container/list"
	"sync"
	"time"
)

// Exact is a size-bounded LRU cache whose entries expire after a TTL and
// belong to one collection generation.
type Exact[V any] struct {
	size int
	ttl  time.Duration
	now  func() time.Time
	// mu protects the following fields.
	mu struct {
		sync.Mutex
		lru   *list.List // of *exactEntry, most recent first
		byKey map[string]*list.Element
	}
}

type exactEntry[V any] struct {
	key     string
	gen     uint64
	expires time.Time
	val     V
}

// NewExact returns a cache of at most size entries (size ≥ 1) that live
// for ttl (0: forever).
func NewExact[V any](size int, ttl time.Duration) *Exact[V] {
	c := &Exact[V]{size: max(size, 1), ttl: ttl, now: time.Now}
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

// Put stores v under key for generation gen, evicting the least recently
// used entry when full.
func (c *Exact[V]) Put(key string, gen uint64, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &exactEntry[V]{key: key, gen: gen, expires: c.now().Add(c.ttl), val: v}
	if el, ok := c.mu.byKey[key]; ok {
		el.Value = e
		c.mu.lru.MoveToFront(el)
		return
	}
	c.mu.byKey[key] = c.mu.lru.PushFront(e)
	for c.mu.lru.Len() > c.size {
		c.removeLocked(c.mu.lru.Back())
	}
}

// Len returns the number of entries (expired ones included until seen).
func (c *Exact[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.lru.Len()
}

func (c *Exact[V]) removeLocked(el *list.Element) {
	c.mu.lru.Remove(el)
	delete(c.mu.byKey, el.Value.(*exactEntry[V]).key)
}

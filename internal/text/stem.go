package text

import (
	"sync"
	"sync/atomic"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/danish"
	"github.com/blevesearch/snowballstem/dutch"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/finnish"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/hungarian"
	"github.com/blevesearch/snowballstem/irish"
	"github.com/blevesearch/snowballstem/italian"
	"github.com/blevesearch/snowballstem/norwegian"
	"github.com/blevesearch/snowballstem/portuguese"
	"github.com/blevesearch/snowballstem/romanian"
	"github.com/blevesearch/snowballstem/russian"
	"github.com/blevesearch/snowballstem/spanish"
	"github.com/blevesearch/snowballstem/swedish"
	"github.com/blevesearch/snowballstem/tamil"
	"github.com/blevesearch/snowballstem/turkish"
)

// stemmers maps ISO 639-1 codes to the Snowball stemmer for the language.
// English is Snowball "english" (Porter2), not the original Porter. German
// uses the light stemmer of lightstem.go instead.
var stemmers = map[string]func(*snowballstem.Env) bool{
	"da": danish.Stem,
	"en": english.Stem,
	"es": spanish.Stem,
	"fi": finnish.Stem,
	"fr": french.Stem,
	"ga": irish.Stem,
	"hu": hungarian.Stem,
	"it": italian.Stem,
	"nl": dutch.Stem,
	"no": norwegian.Stem,
	"pt": portuguese.Stem,
	"ro": romanian.Stem,
	"ru": russian.Stem,
	"sv": swedish.Stem,
	"ta": tamil.Stem,
	"tr": turkish.Stem,
}

// termCache memoises the tail of the analysis chain (elision, stopword
// test, stemming) per folded word, and interns the resulting term strings
// so that the hot path allocates nothing for words it has seen. Natural
// text is Zipfian, so a few tens of thousands of entries catch almost every
// token.
//
// Reads are lock-free: they go to an immutable snapshot map published
// through an atomic pointer. Misses and inserts take the mutex and use a
// dirty map holding the snapshot plus new entries, which is promoted to be
// the snapshot once it has missed as many times as it has entries (the
// scheme of sync.Map, without boxing string keys). When the dirty map
// reaches cacheCap entries the cache starts over, which bounds memory
// without per-hit bookkeeping.
//
// A cached value of "" marks a stopword.
type termCache struct {
	read atomic.Pointer[map[string]string] // never mutated once stored

	mu struct {
		sync.Mutex
		// mu protects the following fields.
		dirty  map[string]string // nil, or *read plus newer entries
		misses int
	}
}

const cacheCap = 1 << 16

func newTermCache() *termCache { return &termCache{} }

// get returns the cached term for word. The map lookups with string(word)
// do not allocate.
func (c *termCache) get(word []byte) (term string, ok bool) {
	if m := c.read.Load(); m != nil {
		if term, ok = (*m)[string(word)]; ok {
			return term, true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	term, ok = c.mu.dirty[string(word)]
	c.mu.misses++
	if c.mu.dirty != nil && c.mu.misses >= len(c.mu.dirty) {
		d := c.mu.dirty
		c.read.Store(&d)
		c.mu.dirty, c.mu.misses = nil, 0
	}
	return term, ok
}

func (c *termCache) put(key, term string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.dirty == nil {
		var n int
		if m := c.read.Load(); m != nil {
			n = len(*m)
		}
		c.mu.dirty = make(map[string]string, n+1)
		if m := c.read.Load(); m != nil && n < cacheCap {
			for k, v := range *m {
				c.mu.dirty[k] = v
			}
		}
	}
	if len(c.mu.dirty) >= cacheCap {
		c.mu.dirty = make(map[string]string)
		c.read.Store(nil)
		c.mu.misses = 0
	}
	c.mu.dirty[key] = term
}

package bm25

import (
	"fmt"
	"math/rand/v2"
)

// corpus is a synthetic Zipfian corpus for tests and benchmarks.
type corpus struct {
	vocab []string
	docs  []corpusDoc
	zipf  *rand.Zipf
	rng   *rand.Rand
}

type corpusDoc struct {
	key         string
	title, body []string
}

// newCorpus draws n documents with bodies of about avgLen terms (uniform
// in [0, 2·avgLen]) and short titles from a Zipf(1.1) vocabulary of v
// terms. Keys are random so that key order differs from id order, and
// about 2% of documents duplicate an earlier one to produce score ties.
func newCorpus(rng *rand.Rand, n, avgLen, v int) *corpus {
	c := &corpus{rng: rng, zipf: rand.NewZipf(rng, 1.1, 2, uint64(v-1))}
	for i := range v {
		c.vocab = append(c.vocab, fmt.Sprintf("t%d", i))
	}
	for i := range n {
		d := corpusDoc{key: fmt.Sprintf("%08x-%d", rng.Uint32(), i)}
		if i > 0 && rng.IntN(50) == 0 {
			src := c.docs[rng.IntN(len(c.docs))]
			d.title, d.body = src.title, src.body
		} else {
			d.body = c.draw(rng.IntN(2*avgLen + 1))
			if rng.IntN(3) > 0 {
				d.title = c.draw(rng.IntN(6))
			}
		}
		c.docs = append(c.docs, d)
	}
	return c
}

func (c *corpus) draw(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = c.vocab[c.zipf.Uint64()]
	}
	return out
}

// query draws m terms: mostly from a random document (as real queries
// share vocabulary with relevant documents), some from the vocabulary at
// large, some unknown.
func (c *corpus) query(m int) []string {
	src := c.docs[c.rng.IntN(len(c.docs))].body
	out := make([]string, 0, m)
	for range m {
		switch r := c.rng.IntN(10); {
		case r < 6 && len(src) > 0:
			out = append(out, src[c.rng.IntN(len(src))])
		case r < 9:
			out = append(out, c.vocab[c.rng.IntN(len(c.vocab))])
		default:
			out = append(out, "unknown-term")
		}
	}
	return out
}

package bm25

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"
)

var benchCorpus = sync.OnceValues(func() (*corpus, *Index) {
	rng := rand.New(rand.NewPCG(42, 42))
	c := newCorpus(rng, 100_000, 100, 200_000)
	ix := New(DefaultParams())
	for _, d := range c.docs {
		ix.Add(d.key, d.title, d.body)
	}
	return c, ix
})

// BenchmarkSearch queries a 100k-document Zipfian corpus (about 10M
// postings) with 12-term queries.
func BenchmarkSearch(b *testing.B) {
	c, ix := benchCorpus()
	queries := make([][]string, 256)
	for i := range queries {
		queries[i] = c.query(12)
	}
	for _, k := range []int{10, 100} {
		b.Run("top"+itoa(k), func(b *testing.B) {
			var scored, total int64
			i := 0
			c0 := cpuNanos()
			for b.Loop() {
				_, st := ix.SearchWithStats(queries[i%len(queries)], k, nil)
				scored += st.Postings
				total += st.Total
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/query")
			b.ReportMetric(float64(cpuNanos()-c0)/1e3/float64(b.N), "cpu-µs/query")
			b.ReportMetric(float64(scored)/float64(b.N), "scored/query")
			b.ReportMetric(float64(total)/float64(b.N), "postings/query")
		})
	}
	b.Run("top10-exhaustive", func(b *testing.B) {
		i := 0
		for b.Loop() {
			ix.searchExhaustive(queries[i%len(queries)], 10, nil)
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/query")
	})
	b.Run("top10-filter-half", func(b *testing.B) {
		accept := func(id uint32) bool { return id&1 == 0 }
		i := 0
		for b.Loop() {
			ix.Search(queries[i%len(queries)], 10, accept)
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/query")
	})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// BenchmarkAdd indexes documents of about 100 terms.
func BenchmarkAdd(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	c := newCorpus(rng, 20_000, 100, 200_000)
	var ix *Index
	i := 0
	for b.Loop() {
		if i%len(c.docs) == 0 {
			ix = New(DefaultParams())
		}
		d := &c.docs[i%len(c.docs)]
		if _, err := ix.Add(d.key, d.title, d.body); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRead reopens a serialized index of about 1M postings.
func BenchmarkRead(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	c := newCorpus(rng, 12_000, 100, 100_000)
	ix := New(DefaultParams())
	for _, d := range c.docs {
		ix.Add(d.key, d.title, d.body)
	}
	var buf bytes.Buffer
	ix.WriteTo(&buf)
	b.ReportMetric(float64(ix.Stats().Postings), "postings")
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := Read(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteTo serializes the same index.
func BenchmarkWriteTo(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	c := newCorpus(rng, 12_000, 100, 100_000)
	ix := New(DefaultParams())
	for _, d := range c.docs {
		ix.Add(d.key, d.title, d.body)
	}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		ix.WriteTo(&buf)
	}
	b.SetBytes(int64(buf.Len()))
}

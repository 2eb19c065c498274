package embed

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// benchQuery is 16 tokens for all-MiniLM-L6-v2, [CLS] and [SEP] included.
const benchQuery = "effects of vitamin d supplementation on bone density in elderly women over seventy"

// BenchmarkLocalQuery16 reports the median latency of embedding one
// 16-token query with all-MiniLM-L6-v2, text in (tokenizer included).
func BenchmarkLocalQuery16(b *testing.B) {
	l := localModel(b, "all-MiniLM-L6-v2")
	if ids, _ := l.Tokenize(benchQuery, Query); len(ids) != 16 {
		b.Fatalf("benchmark query has %d tokens, want 16", len(ids))
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, 1024)
	for b.Loop() {
		t0 := time.Now()
		if _, err := l.Embed(ctx, []string{benchQuery}, Query); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkLocalSciFact256 reports passages/s for all-MiniLM-L6-v2 on the
// first 256 SciFact abstracts (title + text, truncated at 256 tokens), text
// in: tokenization, truncation and the encoder.
func BenchmarkLocalSciFact256(b *testing.B) {
	l := localModel(b, "all-MiniLM-L6-v2")
	var passages []string
	for _, d := range readJSONL(b, filepath.Join(datasets(), "beir", "scifact", "corpus.jsonl"), 256) {
		passages = append(passages, d["title"].(string)+" "+d["text"].(string))
	}
	ctx := context.Background()
	before := l.Stats()
	for b.Loop() {
		if _, err := l.Embed(ctx, passages, Passage); err != nil {
			b.Fatal(err)
		}
	}
	st := l.Stats()
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(passages))/sec, "passages/s")
	b.ReportMetric(float64(st.Tokens-before.Tokens)/float64(b.N)/sec, "tokens/s")
	b.ReportMetric(float64(st.Truncated-before.Truncated)/float64(b.N), "truncated/op")
}

// BenchmarkTokenize256 is the tokenizer's share of BenchmarkLocalSciFact256.
func BenchmarkTokenize256(b *testing.B) {
	l := localModel(b, "all-MiniLM-L6-v2")
	var passages []string
	for _, d := range readJSONL(b, filepath.Join(datasets(), "beir", "scifact", "corpus.jsonl"), 256) {
		passages = append(passages, d["title"].(string)+" "+d["text"].(string))
	}
	for b.Loop() {
		for _, p := range passages {
			l.Tokenize(p, Passage)
		}
	}
	b.ReportMetric(float64(len(passages))*float64(b.N)/b.Elapsed().Seconds(), "passages/s")
}

// BenchmarkDecodeOpenAI decodes a response of 64 vectors of 1536
// dimensions (text-embedding-3-small's shape).
func BenchmarkDecodeOpenAI(b *testing.B) {
	type item struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	data := make([]item, 64)
	for i := range data {
		data[i] = item{i, fakeVector(string(rune('a'+i)), 1536)}
	}
	body, _ := json.Marshal(map[string]any{"data": data})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := decodeOpenAI(body); err != nil {
			b.Fatal(err)
		}
	}
}

package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
)

// BenchmarkStreamSciFact streams the SciFact corpus (5,183 abstracts,
// 8 MB) through StreamJSONL and reports documents per second.
func BenchmarkStreamSciFact(b *testing.B) {
	path := filepath.Join(datasets(), "beir", "scifact", "corpus.jsonl")
	requireDir(b, path)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	docs := 0
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		err = StreamJSONL(context.Background(), f, path, nil, func(base.Document) error { docs++; return nil })
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
}

func benchFile(b *testing.B, path string) {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for b.Loop() {
		if _, err := LoadFile(context.Background(), path, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadMarkdown(b *testing.B) { benchFile(b, "testdata/docs/notes.md") }
func BenchmarkLoadHTML(b *testing.B)     { benchFile(b, "testdata/docs/page.html") }
func BenchmarkLoadPDF(b *testing.B)      { benchFile(b, "testdata/pdf/text.pdf") }

func BenchmarkContentHash(b *testing.B) {
	d := sampleDoc()
	d.Text = string(make([]byte, 4096))
	b.SetBytes(int64(len(d.Text)))
	for b.Loop() {
		ContentHash(&d)
	}
}

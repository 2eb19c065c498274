// Command quarrybuild times what bm25s calls "index": tokenizing the SciFact
// corpus and building the BM25 index in memory, with Quarry's English
// analyzer and its BM25 index, so that bench/bm25_peers compares like with
// like. (`quarry eval retrieval` reports the durable ingest instead: store
// writes with fsync, language identification and chunking included.)
//
//	GOMAXPROCS=1 go run ./bench/bm25_peers/quarrybuild --dataset DIR [--repeat 3]
//
// It prints {"build_seconds": best, "docs": n, "terms": t}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/index/bm25"
	"github.com/quarry-rag/quarry/internal/ingest"
	"github.com/quarry-rag/quarry/internal/text"
)

func main() {
	dataset := flag.String("dataset", "", "BEIR folder")
	repeat := flag.Int("repeat", 3, "runs; the best is reported")
	flag.Parse()
	var docs []base.Document
	if err := ingest.LoadBEIRCorpus(context.Background(), *dataset, func(d base.Document) error {
		docs = append(docs, d)
		return nil
	}); err != nil {
		fmt.Fprintln(os.Stderr, "quarrybuild:", err)
		os.Exit(1)
	}
	best := time.Duration(1<<63 - 1)
	var ix *bm25.Index
	for r := 0; r < *repeat; r++ {
		runtime.GC()
		start := time.Now()
		an, err := text.NewAnalyzer(text.AnalyzerConfig{Language: "en"})
		if err != nil {
			panic(err)
		}
		ix = bm25.New(bm25.DefaultParams())
		var title, body []string
		for _, d := range docs {
			title = an.AppendTerms(title[:0], d.Title)
			body = an.AppendTerms(body[:0], d.Text)
			if _, err := ix.Add(d.ID, title, body); err != nil {
				panic(err)
			}
		}
		best = min(best, time.Since(start))
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"build_seconds": best.Seconds(), "docs": ix.Len(), "terms": ix.Stats().Terms,
	})
}

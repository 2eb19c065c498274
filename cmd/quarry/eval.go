package main

import (
	"context"
	"fmt"
	"github.com/spf13/pflag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/eval"
	"github.com/quarry-rag/quarry/internal/ingest"
)

func setupEval(env *cliEnv, fs *pflag.FlagSet) runFunc {
	dataset := fs.String("dataset", "", "BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv)")
	split := fs.String("split", "test", "qrels split")
	mode := fs.String("mode", quarry.ModeBM25, "retrieval mode: bm25, dense or hybrid")
	model := fs.String("model", "", "embedding model for dense and hybrid modes (short name such as all-MiniLM-L6-v2, or a folder)")
	fusion := fs.String("fusion", "rrf", "hybrid fusion: rrf or weighted")
	alpha := fs.Float64("alpha", 0.5, "weight of the dense list in weighted fusion")
	chunkSize := fs.Int("chunk-size", 512, "chunk size in tokens for the evaluation index")
	depth := fs.Int("k", 100, "documents retrieved per query")
	keep := fs.String("index-dir", "", "build the index here instead of a temporary folder (kept afterwards)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of indexing and querying to this file")
	var lf llmFlags
	lf.bind(fs)
	rewriteFlag := fs.String("rewrite", "", "rewrite every query with the language model first: multi or hyde (needs --llm-url and --llm-model)")
	limit := fs.Int("limit", 0, "evaluate only the first N judged queries (0: all)")
	ef := fs.Int("ef", 0, "vector index search effort (HNSW ef); 0 = the collection's default")
	exact := fs.Bool("exact", false, "dense retrieval by exhaustive scan instead of the vector index (baseline for --ef)")
	mmr := fs.Float64("mmr", 0, "diversify results by maximal marginal relevance with this lambda in (0, 1]; 0 = off")
	vecIndex := fs.String("vector-index", "", "vector index of the evaluation collection: hnsw (default), flat or ivf")
	quant := fs.String("quantization", "", "vector quantization of the evaluation collection: \"\", int8 (hnsw, ivf), sq8 (hnsw) or binary (flat)")
	return func(ctx context.Context, _ []string) error {
		if *dataset == "" {
			return usagef("--dataset is required")
		}
		switch {
		case *mode == quarry.ModeBM25:
			*model = "" // BM25 needs no embeddings: do not compute them
		case *model == "":
			*model = "all-MiniLM-L6-v2"
		}
		if !ingest.IsBEIR(*dataset) {
			return fmt.Errorf("%s is not a BEIR folder (it needs corpus.jsonl and queries.jsonl)", *dataset)
		}
		qrels, err := ingest.LoadQrels(ingest.QrelsPath(*dataset, *split))
		if err != nil {
			return err
		}
		queries, err := ingest.LoadBEIRQueries(*dataset)
		if err != nil {
			return err
		}
		// Evaluate exactly the queries that have judgements in this split.
		var qs []ingest.BEIRQuery
		for _, q := range queries {
			if len(qrels[q.ID]) > 0 {
				qs = append(qs, q)
			}
		}
		if len(qs) == 0 {
			return fmt.Errorf("no query in %s has judgements in split %q", *dataset, *split)
		}
		if *limit < 0 {
			return usagef("--limit must be ≥ 0")
		}
		if *limit > 0 && len(qs) > *limit {
			qs = qs[:*limit]
			// Judge exactly the queries run: the means are over qrels.
			kept := make(map[string]bool, len(qs))
			for _, q := range qs {
				kept[q.ID] = true
			}
			for id := range qrels {
				if !kept[id] {
					delete(qrels, id)
				}
			}
		}
		if *rewriteFlag != "" && (lf.url == "" || lf.model == "") {
			return usagef("--rewrite %s needs a language model: set --llm-url and --llm-model (or QUARRY_LLM_URL and QUARRY_LLM_MODEL)", *rewriteFlag)
		}

		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		dir := *keep
		if dir == "" {
			dir, err = os.MkdirTemp("", "quarry-eval-*")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
		}
		opts := engineOptions(env)
		lf.apply(opts)
		eng, err := quarry.Open(dir, opts)
		if err != nil {
			return err
		}
		defer eng.Close()
		// --collection names the evaluation collection; on a shared Weaviate a
		// fresh name measures a fresh ingest (read-your-writes).
		name := evalCollection(&env.backend, *dataset, *model, *chunkSize)
		if env.collection != "default" {
			name = env.collection
		}
		col, _, err := eng.CreateCollection(ctx, name, &quarry.CollectionConfig{
			Chunking:  quarry.ChunkingConfig{Size: *chunkSize},
			Embedding: *model,
			Vector:    quarry.VectorConfig{Index: *vecIndex, Quantization: *quant},
		})
		if err != nil {
			return err
		}

		start := time.Now()
		b := newBatcher(ctx, col, "index")
		if err := ingest.LoadBEIRCorpus(ctx, *dataset, b.add); err != nil {
			return err
		}
		if err := b.flush(); err != nil {
			return err
		}
		b.progress.Done()
		indexTime := time.Since(start)
		st, err := col.Stats(ctx)
		if err != nil {
			return err
		}
		// Documents split into several chunks need a deeper chunk list to fill
		// the document ranking.
		k := *depth
		switch {
		case st.Chunks > st.Documents && *mode == quarry.ModeBM25 && *rewriteFlag == "":
			// BM25's top k is exact and ordered (score, then key), so the top
			// depth + extra chunks are a prefix of any deeper list, and with at
			// most extra = chunks − documents repeats of a document they name
			// the same best depth documents as depth×3 chunks would, for
			// less work (SciFact: 142 chunks instead of 300).
			k = min(quarry.MaxK, *depth+st.Chunks-st.Documents)
		case st.Chunks > st.Documents:
			k = min(quarry.MaxK, *depth*3)
		}

		// Time retrieval only: results are kept as returned and turned into
		// the evaluation's run maps after the clock stops.
		results := make([][]quarry.Hit, len(qs))
		lat := make([]time.Duration, 0, len(qs))
		// One untimed query first: stages built on first use (the question
		// guard's detector model, loaded lazily, took ~1.2 s of a 300-query
		// BM25 run) are start-up, not query, cost.
		if *rewriteFlag == "" {
			if _, err := col.Search(ctx, quarry.SearchRequest{Query: qs[0].Text, K: k, Mode: *mode, NoText: true,
				Fusion: *fusion, Alpha: *alpha, Ef: *ef, Exact: *exact, MMR: *mmr}); err != nil {
				return fmt.Errorf("query %s: %w", qs[0].ID, err)
			}
		}
		runtime.GC()
		qstart := time.Now()
		for i, q := range qs {
			t := time.Now()
			sreq := quarry.SearchRequest{Query: q.Text, K: k, Mode: *mode, NoText: true, Fusion: *fusion, Alpha: *alpha,
				Ef: *ef, Exact: *exact, MMR: *mmr}
			var res *quarry.SearchResponse
			var err error
			if *rewriteFlag != "" {
				// Greedy decoding: the evaluation is repeatable.
				res, _, err = col.SearchRewritten(ctx, sreq, quarry.SearchRewrite{Method: *rewriteFlag, Params: quarry.LLMParams{Temperature: new(0.0)}})
			} else {
				res, err = col.Search(ctx, sreq)
			}
			if err != nil {
				return fmt.Errorf("query %s: %w", q.ID, err)
			}
			lat = append(lat, time.Since(t))
			results[i] = res.Results
		}
		total := time.Since(qstart)
		run := make(eval.Run, len(qs))
		for i, q := range qs {
			docs := make(map[string]float64, *depth)
			for _, h := range results[i] {
				if _, seen := docs[h.DocID]; !seen && len(docs) < *depth {
					docs[h.DocID] = h.Score // hits are best-first: the first is the max
				}
			}
			run[q.ID] = docs
		}

		m := eval.Evaluate(eval.Qrels(qrels), run, eval.BEIR())
		label := *mode
		if *rewriteFlag != "" {
			label += "+" + *rewriteFlag
		}
		rep, err := eval.NewRetrievalReport(filepath.Base(filepath.Clean(*dataset)), *split, label, m,
			indexTime, eval.SummarizeLatency(lat, total))
		if err != nil {
			return err
		}
		if env.json {
			return printJSON(env.stdout, rep)
		}
		fmt.Fprint(env.stdout, rep.Text())
		return nil
	}
}

// Command quarryquery times Quarry's BM25 search through the product path
// (Collection.Search: query pipeline, guard stages, language and analysis,
// the index, hit mapping) on a BEIR data set, several passes over the
// judged queries after one untimed warm-up pass, and optionally writes a
// CPU profile of the timed passes only. It is the profiling companion of
// `quarry eval retrieval --mode bm25`, whose single pass is what
// bench/bm25_peers reports.
//
//	GOMAXPROCS=1 go run ./bench/bm25_peers/quarryquery --dataset DIR [--passes 20]
//	    [--index-dir DIR] [--cpuprofile FILE] [--k 100]
//
// --index-dir keeps the ingested collection for the next run (ingest is
// skipped when it already holds the corpus). It prints one JSON object:
// QPS of every pass, their median, and per-query p50/p99 over all passes.
// A benchmark driver, not part of Quarry's API.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quarryquery:", err)
		os.Exit(1)
	}
}

func run() error {
	dataset := flag.String("dataset", "", "BEIR folder")
	split := flag.String("split", "test", "qrels split: the judged queries are run")
	passes := flag.Int("passes", 20, "timed passes over the queries")
	depth := flag.Int("k", 100, "documents per query (chunks: k + chunks − documents, as quarry eval retrieval asks)")
	dir := flag.String("index-dir", "", "engine folder, kept (default: a temporary folder)")
	cpuprofile := flag.String("cpuprofile", "", "CPU profile of the timed passes")
	memprofile := flag.String("memprofile", "", "allocation profile (every allocation sampled, from the start)")
	guardQ := flag.String("guard", "", "question guard policy: \"\" (the engine default, flag), block or off")
	flag.Parse()
	if *dataset == "" || *passes < 1 {
		return fmt.Errorf("--dataset is required and --passes must be ≥ 1")
	}
	if *memprofile != "" {
		runtime.MemProfileRate = 1
	}
	ctx := context.Background()
	qrels, err := ingest.LoadQrels(ingest.QrelsPath(*dataset, *split))
	if err != nil {
		return err
	}
	all, err := ingest.LoadBEIRQueries(*dataset)
	if err != nil {
		return err
	}
	var qs []string
	for _, q := range all {
		if len(qrels[q.ID]) > 0 {
			qs = append(qs, q.Text)
		}
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "quarryquery-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	eng, err := quarry.Open(*dir, &quarry.Options{Guard: quarry.GuardConfig{Question: *guardQ}})
	if err != nil {
		return err
	}
	defer eng.Close()
	col, _, err := eng.CreateCollection(ctx, "bm25", &quarry.CollectionConfig{Chunking: quarry.ChunkingConfig{Size: 512}})
	if err != nil {
		return err
	}
	st, err := col.Stats(ctx)
	if err != nil {
		return err
	}
	if st.Documents == 0 {
		var docs []quarry.Document
		flush := func() error {
			_, err := col.Upsert(ctx, docs, nil)
			docs = docs[:0]
			return err
		}
		if err := ingest.LoadBEIRCorpus(ctx, *dataset, func(d quarry.Document) error {
			docs = append(docs, d)
			if len(docs) == 512 {
				return flush()
			}
			return nil
		}); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		if st, err = col.Stats(ctx); err != nil {
			return err
		}
	}
	k := *depth // as quarry eval retrieval asks: enough chunks for depth distinct documents
	if st.Chunks > st.Documents {
		k = min(quarry.MaxK, k+st.Chunks-st.Documents)
	}
	search := func(q string) error {
		_, err := col.Search(ctx, quarry.SearchRequest{Query: q, K: k, Mode: quarry.ModeBM25, NoText: true})
		return err
	}
	for _, q := range qs { // warm-up: lazily built stages, caches, page faults
		if err := search(q); err != nil {
			return err
		}
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
	if *memprofile != "" {
		defer func() {
			if err := writeHeapProfile(*memprofile); err != nil {
				fmt.Fprintln(os.Stderr, "quarryquery:", err)
			}
		}()
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	// Wall-clock QPS, and QPS per second of the process's CPU time (user +
	// system): on a shared machine the second is the time the work took on
	// its core, the first also whose turn it was.
	qps := make([]float64, 0, *passes)
	cpuQPS := make([]float64, 0, *passes)
	lat := make([]time.Duration, 0, *passes*len(qs))
	runtime.GC()
	for i := range *passes {
		if i > 0 && *cpuprofile == "" {
			// Each pass starts from a collected heap. Not while profiling:
			// the forced collections would be in the profile, which is to
			// show the queries' own cost, their garbage's included.
			runtime.GC()
		}
		start, c0 := time.Now(), cpuTime()
		for _, q := range qs {
			t := time.Now()
			if err := search(q); err != nil {
				return err
			}
			lat = append(lat, time.Since(t))
		}
		qps = append(qps, float64(len(qs))/time.Since(start).Seconds())
		cpuQPS = append(cpuQPS, float64(len(qs))/(cpuTime()-c0).Seconds())
	}
	runtime.ReadMemStats(&ms1)
	n := float64(*passes * len(qs))
	slices.Sort(lat)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"queries": len(qs), "k": k, "docs": st.Documents, "chunks": st.Chunks, "gomaxprocs": runtime.GOMAXPROCS(0),
		"guard": *guardQ, "qps_passes": qps, "qps_median": median(qps), "cpu_qps_passes": cpuQPS, "cpu_qps_median": median(cpuQPS),
		"p50_ms": lat[len(lat)/2].Seconds() * 1e3, "p99_ms": lat[len(lat)*99/100].Seconds() * 1e3,
		"allocs_per_query": float64(ms1.Mallocs-ms0.Mallocs) / n, "bytes_per_query": float64(ms1.TotalAlloc-ms0.TotalAlloc) / n,
		"gc_cycles": ms1.NumGC - ms0.NumGC, "heap_live_mb": float64(ms1.HeapAlloc) / (1 << 20),
	})
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[len(s)/2]
}

// writeHeapProfile writes the allocation profile (alloc_space and
// alloc_objects cover every allocation since MemProfileRate was set).
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile reflects allocations up to the last GC
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

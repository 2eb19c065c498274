// Command batching measures query-embedding throughput and latency with
// and without dynamic batching (embed.Batcher) on a real local model, at
// several numbers of concurrent closed-loop clients. Each client embeds
// one SciFact query at a time. The two sides run alternately, round after
// round (the order flips each round), so that a shared machine's load
// affects both alike; the per-round ratios show the spread.
//
//	go run ./bench/batching -rounds 3 -duration 2s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quarry-rag/quarry/internal/drift/driftcheck"
	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/models/transformer"
)

type result struct {
	qps      float64
	p50, p99 time.Duration
	errs     int64
}

func main() {
	model := flag.String("model", "all-MiniLM-L6-v2", "local embedding model")
	quant := flag.String("quantization", "float32", "the encoder's Linear layers: float32 or int8 (both sides)")
	datasets := flag.String("datasets", os.Getenv("QUARRY_DATASETS"), "shared datasets folder ($QUARRY_DATASETS)")
	conc := flag.String("concurrency", "1,8,32,128", "comma-separated client counts")
	rounds := flag.Int("rounds", 3, "rounds per side")
	dur := flag.Duration("duration", 2*time.Second, "length of one measurement")
	window := flag.Duration("window", 2*time.Millisecond, "batch collection window")
	maxBatch := flag.Int("max-batch", 8, "batch size bound")
	workers := flag.Int("workers", 0, "batches run at once (0: the Batcher's default, GOMAXPROCS)")
	sizes := flag.String("batch-sizes", "", "instead: time one direct call of each of these batch sizes (comma-separated), per text")
	flag.Parse()
	q, err := transformer.ParseQuantization(*quant)
	if err != nil {
		fmt.Fprintln(os.Stderr, "batching: -quantization:", err)
		os.Exit(2)
	}
	if *sizes != "" {
		if err := perText(*model, *datasets, *sizes, *rounds); err != nil {
			fmt.Fprintln(os.Stderr, "batching:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*model, q, *datasets, *conc, *rounds, *dur, *window, *maxBatch, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "batching:", err)
		os.Exit(1)
	}
}

func run(model string, quant transformer.Quantization, datasets, conc string, rounds int, dur, window time.Duration, maxBatch, workers int) error {
	if datasets == "" {
		return fmt.Errorf("set -datasets or QUARRY_DATASETS")
	}
	if rounds < 1 || dur <= 0 || dur > time.Minute {
		return fmt.Errorf("-rounds must be ≥ 1 and -duration in (0, 1m]")
	}
	var cs []int
	for _, f := range strings.Split(conc, ",") {
		var c int
		if _, err := fmt.Sscan(f, &c); err != nil || c < 1 || c > 1024 {
			return fmt.Errorf("bad concurrency %q (1…1024)", f)
		}
		cs = append(cs, c)
	}
	queries, err := driftcheck.ReadQueries(filepath.Join(datasets, "beir", "scifact", "queries.jsonl"))
	if err != nil {
		return err
	}
	l, err := embed.NewLocal(model, embed.LocalOptions{Quantization: quant})
	if err != nil {
		return err
	}
	defer l.Close()
	b := embed.NewBatcher(l, embed.BatchOptions{Window: window, MaxBatch: maxBatch, MaxQueue: 4096, Workers: workers})
	defer b.Close()
	// Warm up both paths.
	measure(l, queries, 4, dur/4)
	measure(b, queries, 4, dur/4)

	fmt.Printf("model %s (%s), %d s per measurement, %d rounds, window %v, max batch %d, workers %d\n", model, quant, int(dur.Seconds()), rounds, window, maxBatch, workers)
	fmt.Printf("%8s %5s | %-32s | %-32s | %s\n", "clients", "round", "unbatched qps  p50  p99", "batched qps  p50  p99", "qps ×  p99 ×")
	for _, c := range cs {
		var ratios []float64
		for r := range rounds {
			var un, ba result
			before := b.BatchStats()
			if r%2 == 0 {
				un = measure(l, queries, c, dur)
				ba = measure(b, queries, c, dur)
			} else {
				ba = measure(b, queries, c, dur)
				un = measure(l, queries, c, dur)
			}
			after := b.BatchStats()
			mean := float64(after.Calls-before.Calls) / float64(max(1, after.Batches-before.Batches))
			fmt.Printf("%8d %5d | %7.1f %7.2fms %8.2fms | %7.1f %7.2fms %8.2fms | %5.2f %6.2f  (mean batch %.1f, errors %d/%d)\n",
				c, r+1, un.qps, ms(un.p50), ms(un.p99), ba.qps, ms(ba.p50), ms(ba.p99), ba.qps/un.qps, ms(ba.p99)/ms(un.p99), mean, un.errs, ba.errs)
			ratios = append(ratios, ba.qps/un.qps)
		}
		slices.Sort(ratios)
		fmt.Printf("%8d   all | throughput ratio batched/unbatched: median %.2f, range %.2f–%.2f\n", c, ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// measure runs c closed-loop clients for d and returns throughput and
// latency percentiles.
func measure(e embed.Embedder, queries []string, c int, d time.Duration) result {
	var next atomic.Int64
	var errs atomic.Int64
	lat := make([][]time.Duration, c)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range c {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				q := queries[int(next.Add(1))%len(queries)]
				t0 := time.Now()
				if _, err := e.Embed(context.Background(), []string{q}, embed.Query); err != nil {
					errs.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return result{errs: errs.Load()}
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	return result{qps: float64(len(all)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), errs: errs.Load()}
}

// perText times direct calls of the inner model with batches of each size
// (sizes interleaved, rounds times) and prints the median time per text.
func perText(model, datasets, sizes string, rounds int) error {
	queries, err := driftcheck.ReadQueries(filepath.Join(datasets, "beir", "scifact", "queries.jsonl"))
	if err != nil {
		return err
	}
	l, err := embed.NewLocal(model, embed.LocalOptions{})
	if err != nil {
		return err
	}
	defer l.Close()
	var ns []int
	for _, f := range strings.Split(sizes, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 1 || n > len(queries) {
			return fmt.Errorf("bad batch size %q", f)
		}
		ns = append(ns, n)
	}
	per := map[int][]float64{}
	off := 0
	for range rounds * 8 {
		for _, n := range ns {
			in := make([]string, n)
			for i := range in {
				in[i] = queries[(off+i)%len(queries)]
			}
			off += n
			t0 := time.Now()
			if _, err := l.Embed(context.Background(), in, embed.Query); err != nil {
				return err
			}
			per[n] = append(per[n], ms(time.Since(t0))/float64(n))
		}
	}
	fmt.Printf("model %s, direct calls, %d calls per size, interleaved\n", model, rounds*8)
	for _, n := range ns {
		v := per[n]
		slices.Sort(v)
		fmt.Printf("batch %3d: median %.2f ms/text (range %.2f–%.2f)\n", n, v[len(v)/2], v[0], v[len(v)-1])
	}
	return nil
}

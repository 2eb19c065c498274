// Command quarrybench measures Quarry's embedding throughput and query
// latency the way bench/embed_peers measures its Python peers: the first N
// BEIR SciFact abstracts (title + " " + text) tokenized with Quarry's
// tokenizer and embedded with Quarry's encoder (all-MiniLM-L6-v2 by
// default) at max length 256, then one query of 16 tokens embedded alone
// many times. It prints one JSON object on stdout.
//
//	go run ./bench/embed_peers/quarrybench [-runs 3] [-n 512] [-queries 200] [-dump FILE] [-quantization int8]
//	quarrybench -serve -query TEXT    # query latency on request (bench/embed_peers/query.sh)
//
// A pass is timed from the raw texts to the embeddings: tokenization (spread
// over GOMAXPROCS goroutines, as the Python peers' Rust tokenizer spreads it
// over its threads) plus Encoder.Embed with the encoder's default batching
// (length-sorted batches of up to 32 sequences and 8192 padded tokens).
// passages_per_s is N divided by the fastest of -runs passes, after one
// untimed warm-up pass. A query call is tokenize + Embed of one sequence.
//
// The encoder's kernels run on a pool of GOMAXPROCS workers: set GOMAXPROCS
// in the environment to choose the core count (bench/embed_peers sets 2).
//
// Environment: QUARRY_HOME (model cache, through hub.Resolve),
// QUARRY_DATASETS (default <module root>/../shared/datasets).
//
// This is a benchmark driver, not part of Quarry's API; it owns nothing
// shared and runs single-shot.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/quarry-rag/quarry/internal/kernels"
	"github.com/quarry-rag/quarry/internal/models/hub"
	"github.com/quarry-rag/quarry/internal/models/tokenizer"
	"github.com/quarry-rag/quarry/internal/models/transformer"
)

// Report is what the driver prints. The first three fields are the ones
// bench/embed_peers tabulates.
type Report struct {
	PassagesPerS float64 `json:"passages_per_s"`
	QueryP50MS   float64 `json:"query_p50_ms"`
	QueryP99MS   float64 `json:"query_p99_ms"`

	RunsS        []float64 `json:"runs_s"`           // each timed pass, seconds
	TokenizeS    float64   `json:"tokenize_s"`       // tokenization share of the best pass
	Passages     int       `json:"passages"`         // N
	Tokens       int       `json:"tokens"`           // total token ids of the N passages (after truncation)
	MaxLen       int       `json:"max_len"`          // encoder max length
	Query        string    `json:"query"`            // the query text
	QueryTokens  int       `json:"query_tokens"`     // its length in tokens (specials included)
	QueryCalls   int       `json:"query_calls"`      // timed single-query calls
	GOMAXPROCS   int       `json:"gomaxprocs"`       // kernel pool size
	BatchSize    int       `json:"batch_size"`       // encoder default
	MaxBatchTok  int       `json:"max_batch_tokens"` // encoder default
	GoVersion    string    `json:"go_version"`
	Quantization string    `json:"quantization"` // float32 or int8
	Int8Layers   int       `json:"int8_layers"`  // Linear layers running int8
	Kernels      string    `json:"kernels"`      // kernels.Implementation()
	Model        string    `json:"model"`
	EmbeddingDim int       `json:"dim"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quarrybench:", err)
		os.Exit(1)
	}
}

func run() error {
	model := flag.String("model", "all-MiniLM-L6-v2", "model name in the cache, or a model directory")
	corpus := flag.String("corpus", "", "BEIR corpus.jsonl (default $QUARRY_DATASETS/beir/scifact/corpus.jsonl)")
	n := flag.Int("n", 512, "passages: the first N documents of the corpus")
	maxLen := flag.Int("maxlen", 256, "max sequence length in tokens, special tokens included")
	runs := flag.Int("runs", 3, "timed passes over the N passages (best is reported)")
	warmup := flag.Int("warmup", 1, "untimed passes before timing")
	queries := flag.Int("queries", 200, "timed single-query calls")
	query := flag.String("query", "", "query text (default: the first SciFact query of -qtokens tokens)")
	qtokens := flag.Int("qtokens", 16, "query length in tokens when -query is empty")
	dump := flag.String("dump", "", "write the passage embeddings here (N×dim little-endian float32)")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile of the timed passes (with -serve: of every call) here")
	quant := flag.String("quantization", "float32", "Linear layers: float32 or int8 (transformer.Options.Quantization)")
	serve := flag.Bool("serve", false, "query latency only, on request: see serveQueries")
	flag.Parse()
	if *n <= 0 || *runs <= 0 || *queries <= 0 || *warmup < 0 {
		return errors.New("-n, -runs and -queries must be positive, -warmup not negative")
	}

	dir, err := hub.Resolve(*model)
	if err != nil {
		return fmt.Errorf("%w (pull it: go run ./internal/models/hub/internal/pullcmd %s)", err, *model)
	}
	tk, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return err
	}
	q8, err := transformer.ParseQuantization(*quant)
	if err != nil {
		return err
	}
	enc, err := transformer.Load(dir, &transformer.Options{MaxLen: *maxLen, Quantization: q8})
	if err != nil {
		return err
	}
	defer enc.Close()
	var defaults transformer.Options
	defaults.EnsureDefaults()

	if *corpus == "" {
		*corpus = filepath.Join(datasetsDir(), "beir", "scifact", "corpus.jsonl")
	}
	if *serve {
		if *query == "" {
			return errors.New("-serve needs -query")
		}
		if *cpuprof != "" {
			f, err := os.Create(*cpuprof)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		return serveQueries(os.Stdin, os.Stdout, tk, enc, *query)
	}
	texts, err := readCorpus(*corpus, *n)
	if err != nil {
		return err
	}
	opts := &tokenizer.EncodeOpts{MaxLen: enc.MaxLen()}
	q := *query
	if q == "" {
		q, err = pickQuery(filepath.Join(filepath.Dir(*corpus), "queries.jsonl"), tk, opts, *qtokens)
		if err != nil {
			return err
		}
	}

	ctx := context.Background()
	workers := runtime.GOMAXPROCS(0)
	ids := make([][]int32, len(texts))
	pass := func() (tok, total time.Duration, vecs [][]float32, err error) {
		t0 := time.Now()
		tokenizeAll(tk, opts, texts, ids, workers)
		tok = time.Since(t0)
		vecs, err = enc.Embed(ctx, ids)
		return tok, time.Since(t0), vecs, err
	}
	for range *warmup {
		if _, _, _, err := pass(); err != nil {
			return err
		}
	}
	rep := Report{
		Passages: len(texts), MaxLen: enc.MaxLen(), Query: q, QueryCalls: *queries,
		GOMAXPROCS: workers, BatchSize: defaults.BatchSize, MaxBatchTok: defaults.MaxBatchTokens,
		GoVersion: runtime.Version(), Model: dir, EmbeddingDim: enc.Dim(),
		Quantization: q8.String(), Kernels: kernels.Implementation(),
	}
	rep.Int8Layers, _ = enc.Int8Layers()
	best := time.Duration(math.MaxInt64)
	var vecs [][]float32
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	for range *runs {
		tok, total, v, err := pass()
		if err != nil {
			return err
		}
		rep.RunsS = append(rep.RunsS, total.Seconds())
		if total < best {
			best, rep.TokenizeS = total, tok.Seconds()
		}
		vecs = v
	}
	if *cpuprof != "" {
		pprof.StopCPUProfile()
	}
	rep.PassagesPerS = float64(len(texts)) / best.Seconds()
	for _, s := range ids {
		rep.Tokens += len(s)
	}

	// Query latency: tokenize + embed one query, batch of 1.
	one := func() error {
		e := tk.EncodeWith(q, opts)
		_, err := enc.Embed(ctx, [][]int32{e.IDs})
		return err
	}
	rep.QueryTokens = len(tk.EncodeWith(q, opts).IDs)
	for range 20 {
		if err := one(); err != nil {
			return err
		}
	}
	lat := make([]float64, 0, *queries)
	for range *queries {
		t0 := time.Now()
		if err := one(); err != nil {
			return err
		}
		lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e6)
	}
	slices.Sort(lat)
	rep.QueryP50MS = percentile(lat, 50)
	rep.QueryP99MS = percentile(lat, 99)

	if *dump != "" {
		if err := writeVecs(*dump, vecs); err != nil {
			return err
		}
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	return out.Encode(rep)
}

// serveQueries is the -serve mode used by bench/embed_peers/query.py, which
// interleaves this process with ONNX Runtime in its own: every line read
// from in holds a call count N; the reply is one JSON line with the
// latencies (ms) of N calls, each tokenize + Embed of the query alone, and
// the CPU time of this thread during each call (ms; what a call costs,
// less sensitive than latency to other processes on a loaded machine), and
// the query's token count and embedding. It returns at end of input.
func serveQueries(in io.Reader, w io.Writer, tk *tokenizer.Tokenizer, enc *transformer.Encoder, q string) error {
	opts := &tokenizer.EncodeOpts{MaxLen: enc.MaxLen()}
	ctx := context.Background()
	var vec []float32
	one := func() error {
		e := tk.EncodeWith(q, opts)
		v, err := enc.Embed(ctx, [][]int32{e.IDs})
		if err == nil {
			vec = v[0]
		}
		return err
	}
	// One OS thread runs every call, so its CPU clock measures them (with
	// GOMAXPROCS=1 the encoder computes on the calling goroutine).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sc := bufio.NewScanner(in)
	out := json.NewEncoder(w)
	for sc.Scan() {
		calls, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil || calls <= 0 || calls > 1_000_000 {
			return fmt.Errorf("-serve: want a call count per line, got %q", sc.Text())
		}
		lat, cpu := make([]float64, calls), make([]float64, calls)
		for i := range lat {
			c0 := threadCPU()
			t0 := time.Now()
			if err := one(); err != nil {
				return err
			}
			lat[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
			cpu[i] = float64(threadCPU()-c0) / 1e6
		}
		rep := struct {
			LatMS      []float64 `json:"lat_ms"`
			CPUMS      []float64 `json:"cpu_ms"`
			Tokens     int       `json:"tokens"`
			Embedding  []float32 `json:"embedding"`
			GOMAXPROCS int       `json:"gomaxprocs"`
			Kernels    string    `json:"kernels"`
			Int8Layers int       `json:"int8_layers"`
		}{LatMS: lat, CPUMS: cpu, Tokens: len(tk.EncodeWith(q, opts).IDs), Embedding: vec,
			GOMAXPROCS: runtime.GOMAXPROCS(0), Kernels: kernels.Implementation()}
		rep.Int8Layers, _ = enc.Int8Layers()
		if err := out.Encode(rep); err != nil {
			return err
		}
	}
	return sc.Err()
}

// threadCPU is the calling OS thread's CPU time in nanoseconds.
func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// tokenizeAll fills ids[i] with the token ids of texts[i], on workers
// goroutines taking texts in turn.
func tokenizeAll(tk *tokenizer.Tokenizer, opts *tokenizer.EncodeOpts, texts []string, ids [][]int32, workers int) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(texts); i += workers {
				ids[i] = tk.EncodeWith(texts[i], opts).IDs
			}
		})
	}
	wg.Wait()
}

// percentile is numpy's default (linear interpolation) on sorted xs.
func percentile(xs []float64, p float64) float64 {
	pos := p / 100 * float64(len(xs)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(xs)-1)
	return xs[lo] + (xs[hi]-xs[lo])*(pos-float64(lo))
}

// datasetsDir is $QUARRY_DATASETS, else <module root>/../shared/datasets,
// the module root being the nearest folder upwards holding go.mod.
func datasetsDir() string {
	if d := os.Getenv("QUARRY_DATASETS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared", "datasets")
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "..", "shared", "datasets")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(wd, "..", "shared", "datasets")
		}
	}
}

type beirDoc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// readCorpus returns title + " " + text of the first n documents, as BEIR's
// sentence-transformers wrapper builds them.
func readCorpus(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w (set QUARRY_DATASETS)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []string
	for len(out) < n && sc.Scan() {
		var d beirDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, len(out)+1, err)
		}
		out = append(out, d.Title+" "+d.Text)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) < n {
		return nil, fmt.Errorf("%s: %d documents, want %d", path, len(out), n)
	}
	return out, nil
}

// pickQuery returns the first query of a BEIR queries.jsonl whose encoding
// has exactly want tokens.
func pickQuery(path string, tk *tokenizer.Tokenizer, opts *tokenizer.EncodeOpts, want int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var d beirDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		if e := tk.EncodeWith(d.Text, opts); e.Len() == want {
			return d.Text, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no query of %d tokens", path, want)
}

func writeVecs(path string, vecs [][]float32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, v := range vecs {
		if err := binary.Write(w, binary.LittleEndian, v); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Command cores measures how Quarry uses a second core: the same workload
// run at GOMAXPROCS=1 and GOMAXPROCS=2, interleaved over several rounds,
// each run in a fresh child process. For every run it records wall time,
// CPU time (getrusage of the child around the timed section only) and the
// load average of the machine before and after; it prints one table per
// workload with the median wall time of each side and the speed-up
// (median wall at 1 ÷ median wall at 2), and one JSON object per run on
// stderr with -json.
//
// Workloads (-what, comma separated):
//
//   - ingest: the first -docs BEIR SciFact abstracts upserted into a new
//     collection with all-MiniLM-L6-v2 embeddings, in Upsert batches of
//     -batch documents (64, IngestStream's default with an embedding model),
//     into a fresh directory. Model load and a warm-up upsert are outside
//     the timed section.
//   - search: -clients goroutines each issuing BM25 Collection.Search calls
//     (top 10, SciFact test queries round-robin) until -queries searches
//     are done, on the whole SciFact corpus ingested without embeddings.
//   - serve: the search workload through Quarry's HTTP server on
//     127.0.0.1 (internal/server), -clients keep-alive connections each
//     POSTing /v1/collections/scifact/search; the clients run in the same
//     process and their CPU counts.
//   - batch: the same queries as SearchBatch calls of -per queries each,
//     issued by one goroutine: a batch on its own must use both cores.
//
// Usage (what docs/benchmarks.md records):
//
//	go run ./bench/cores -what ingest,search,serve,batch -rounds 3
//	go run ./bench/cores -what ingest -docs 5183 -rounds 2   # the whole corpus
//
// On a shared machine the speed-ups are depressed by other processes: read
// the load average beside each figure, and rerun on a quiet machine for the
// figure that counts.
//
// Environment: QUARRY_HOME (model cache), QUARRY_DATASETS (default
// <module root>/../shared/datasets).
//
// This is a benchmark driver, not part of Quarry's API.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
	"github.com/quarry-rag/quarry/internal/server"
)

// run is what a child reports.
type run struct {
	What   string  `json:"what"`
	Procs  int     `json:"gomaxprocs"`
	Round  int     `json:"round"`
	WallS  float64 `json:"wall_s"`
	CPUS   float64 `json:"cpu_s"`
	Items  int     `json:"items"` // documents, chunks or queries
	Chunks int     `json:"chunks,omitempty"`
	// IdleS is the time the Go scheduler's Ps had nothing to run
	// (runtime/metrics /cpu/classes/idle), of TotalS = GOMAXPROCS × wall:
	// waiting at a barrier, on a serial section or on I/O. A P whose
	// thread the OS descheduled counts as busy, so on a loaded machine
	// 1 − IdleS/TotalS still says how much of the work could run at once.
	IdleS      float64 `json:"idle_s"`
	TotalS     float64 `json:"total_s"`
	LoadBefore string  `json:"load_before"`
	// Stages are the engine's write stage times (ingest), seconds.
	Stages    map[string]float64 `json:"stages,omitempty"`
	LoadAfter string             `json:"load_after"`
}

type flags struct {
	what    string
	rounds  int
	docs    int
	batch   int
	clients int
	queries int
	per     int
	child   string
	round   int
	json    bool
	profile string
	ingestP int
}

func main() {
	var f flags
	flag.StringVar(&f.what, "what", "ingest,search,serve,batch", "workloads, comma separated: ingest, search, serve, batch")
	flag.IntVar(&f.rounds, "rounds", 3, "interleaved rounds (each runs GOMAXPROCS=1 then 2, or 2 then 1 on odd rounds)")
	flag.IntVar(&f.docs, "docs", 1000, "SciFact documents ingested by the ingest workload (5183 = all)")
	flag.IntVar(&f.batch, "batch", 64, "documents per Upsert in the ingest workload")
	flag.IntVar(&f.clients, "clients", 4, "concurrent searchers in the search workload")
	flag.IntVar(&f.queries, "queries", 20000, "searches per run (search and batch workloads)")
	flag.IntVar(&f.per, "per", 32, "queries per SearchBatch call in the batch workload")
	flag.IntVar(&f.ingestP, "ingest-parallelism", 0, "Options.IngestParallelism of the engine (0: GOMAXPROCS; 1: one embedding call per write, the model's kernels split each batch over the cores)")
	flag.StringVar(&f.child, "child", "", "internal: run one workload in this process")
	flag.IntVar(&f.round, "round", 0, "internal: the round number of a child")
	flag.BoolVar(&f.json, "json", false, "print every run as JSON on stderr")
	flag.StringVar(&f.profile, "cpuprofile", "", "with -child: write a CPU profile of the timed section to this file")
	flag.Parse()
	if f.child != "" {
		profile = f.profile
		r, err := child(&f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cores:", err)
			os.Exit(1)
		}
		r.Round = f.round
		json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	if err := parent(&f); err != nil {
		fmt.Fprintln(os.Stderr, "cores:", err)
		os.Exit(1)
	}
}

// parent runs every workload's children, interleaved, and prints the table.
func parent(f *flags) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cpu := cpuModel()
	fmt.Printf("# bench/cores: %s, %d logical CPUs, %s\n", cpu, runtime.NumCPU(), runtime.Version())
	fmt.Printf("# command: go run ./bench/cores %s\n", strings.Join(os.Args[1:], " "))
	for _, what := range strings.Split(f.what, ",") {
		var runs []run
		for round := 0; round < f.rounds; round++ {
			order := []int{1, 2}
			if round%2 == 1 {
				order = []int{2, 1}
			}
			for _, procs := range order {
				r, err := spawn(exe, f, what, procs, round)
				if err != nil {
					return err
				}
				if f.json {
					b, _ := json.Marshal(r)
					fmt.Fprintln(os.Stderr, string(b))
				}
				runs = append(runs, r)
			}
		}
		report(what, runs)
	}
	return nil
}

func spawn(exe string, f *flags, what string, procs, round int) (run, error) {
	args := []string{"-child", what, "-round", fmt.Sprint(round), "-docs", fmt.Sprint(f.docs), "-batch", fmt.Sprint(f.batch),
		"-clients", fmt.Sprint(f.clients), "-queries", fmt.Sprint(f.queries), "-per", fmt.Sprint(f.per), "-ingest-parallelism", fmt.Sprint(f.ingestP)}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", procs))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return run{}, fmt.Errorf("%s at GOMAXPROCS=%d: %w", what, procs, err)
	}
	var r run
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return run{}, fmt.Errorf("%s at GOMAXPROCS=%d: reading the child's report %q: %w", what, procs, out.String(), err)
	}
	return r, nil
}

func report(what string, runs []run) {
	fmt.Printf("\n## %s\n\n", what)
	fmt.Println("| round | GOMAXPROCS | wall s | CPU s | CPU/wall | items/s | P busy | load avg before → after |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	walls, cpus, busy := map[int][]float64{}, map[int][]float64{}, map[int][]float64{}
	for _, r := range runs {
		b := 1 - r.IdleS/r.TotalS
		fmt.Printf("| %d | %d | %.2f | %.2f | %.2f | %.1f | %.0f%% | %s → %s |\n", r.Round, r.Procs, r.WallS, r.CPUS, r.CPUS/r.WallS,
			float64(r.Items)/r.WallS, 100*b, r.LoadBefore, r.LoadAfter)
		walls[r.Procs] = append(walls[r.Procs], r.WallS)
		cpus[r.Procs] = append(cpus[r.Procs], r.CPUS)
		busy[r.Procs] = append(busy[r.Procs], b)
	}
	m1, m2 := median(walls[1]), median(walls[2])
	if m1 > 0 && m2 > 0 {
		fmt.Printf("\n%s: median wall %.2f s at 1 core, %.2f s at 2: speed-up %.2f×, scaling efficiency %.0f%% (measured; depressed by other load)\n",
			what, m1, m2, m1/m2, 100*m1/m2/2)
		// Projection for a quiet machine: each side's wall would be its CPU
		// time divided by its cores' busy share.
		c1, c2, b1, b2 := median(cpus[1]), median(cpus[2]), median(busy[1]), median(busy[2])
		q1, q2 := c1/b1, c2/(2*b2)
		fmt.Printf("%s: projected for a quiet machine from CPU time and P busy share: %.2f s vs %.2f s, speed-up %.2f× (CPU at 2 cores / at 1: %.2f; P busy %.0f%% / %.0f%%)\n",
			what, q1, q2, q1/q2, c2/c1, 100*b1, 100*b2)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	model, flagsLine := "", ""
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			switch strings.TrimSpace(k) {
			case "model name":
				if model == "" {
					model = strings.TrimSpace(v)
				}
			case "flags":
				if flagsLine == "" {
					flagsLine = v
				}
			}
		}
	}
	var feats []string
	for _, ft := range []string{"avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni"} {
		if slices.Contains(strings.Fields(flagsLine), ft) {
			feats = append(feats, ft)
		}
	}
	return model + " (" + strings.Join(feats, " ") + ")"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	fs := strings.Fields(string(b))
	if len(fs) < 3 {
		return "?"
	}
	return strings.Join(fs[:3], " ")
}

// stageSeconds sums quarry_stage_duration_seconds per stage.
func stageSeconds(reg *prometheus.Registry) map[string]float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return nil
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "quarry_stage_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" {
					out[l.GetValue()] += m.GetHistogram().GetSampleSum()
				}
			}
		}
	}
	return out
}

// schedCPU reads the Go runtime's estimate of idle and total P time.
// The runtime accumulates them at garbage collections, so it runs one
// first.
func schedCPU() (idle, total float64) {
	runtime.GC()
	ss := []metrics.Sample{{Name: "/cpu/classes/idle:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	metrics.Read(ss)
	if ss[0].Value.Kind() == metrics.KindFloat64 {
		idle = ss[0].Value.Float64()
	}
	if ss[1].Value.Kind() == metrics.KindFloat64 {
		total = ss[1].Value.Float64()
	}
	return idle, total
}

// cpuTime is this process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// profile is -cpuprofile of a child.
var profile string

// timed runs fn and fills wall, CPU and load average.
func timed(r *run, fn func() error) error {
	if profile != "" {
		pf, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	r.LoadBefore = loadavg()
	i0, tot0 := schedCPU()
	c0, t0 := cpuTime(), time.Now()
	err := fn()
	r.WallS = time.Since(t0).Seconds()
	r.CPUS = (cpuTime() - c0).Seconds()
	i1, tot1 := schedCPU()
	r.IdleS, r.TotalS = i1-i0, tot1-tot0
	r.LoadAfter = loadavg()
	return err
}

func datasetDir() string {
	root := os.Getenv("QUARRY_DATASETS")
	if root == "" {
		root = filepath.Join("..", "shared", "datasets")
	}
	return filepath.Join(root, "beir", "scifact")
}

func child(f *flags) (run, error) {
	ctx := context.Background()
	r := run{What: f.child, Procs: runtime.GOMAXPROCS(0)}
	dir := datasetDir()
	var docs []quarry.Document
	if err := ingest.LoadBEIRCorpus(ctx, dir, func(d quarry.Document) error {
		docs = append(docs, d)
		return nil
	}); err != nil {
		return r, err
	}
	tmp, err := os.MkdirTemp("", "quarry-cores-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(tmp)
	reg := prometheus.NewRegistry()
	eng, err := quarry.Open(tmp, &quarry.Options{IngestParallelism: f.ingestP, Registerer: reg})
	if err != nil {
		return r, err
	}
	defer eng.Close()
	switch f.child {
	case "ingest":
		err := runIngest(ctx, eng, docs, f, &r)
		r.Stages = stageSeconds(reg)
		return r, err
	case "search", "batch", "serve":
		qs, err := ingest.LoadBEIRQueries(dir)
		if err != nil {
			return r, err
		}
		return r, runSearch(ctx, eng, docs, qs, f, &r)
	}
	return r, fmt.Errorf("unknown workload %q (want ingest, search, serve or batch)", f.child)
}

func runIngest(ctx context.Context, eng *quarry.Engine, docs []quarry.Document, f *flags, r *run) error {
	docs = docs[:min(f.docs, len(docs))]
	cfg := &quarry.CollectionConfig{Embedding: "all-MiniLM-L6-v2"}
	// Warm up: load the model and run it once, outside the timed section.
	warm, _, err := eng.CreateCollection(ctx, "warmup", cfg)
	if err != nil {
		return err
	}
	if _, err := warm.Upsert(ctx, docs[:min(8, len(docs))], nil); err != nil {
		return err
	}
	col, _, err := eng.CreateCollection(ctx, "scifact", cfg)
	if err != nil {
		return err
	}
	r.Items = len(docs)
	return timed(r, func() error {
		for i := 0; i < len(docs); i += f.batch {
			res, err := col.Upsert(ctx, docs[i:min(i+f.batch, len(docs))], nil)
			if err != nil {
				return err
			}
			for _, x := range res {
				r.Chunks += x.Chunks
			}
		}
		return nil
	})
}

func runSearch(ctx context.Context, eng *quarry.Engine, docs []quarry.Document, qs []ingest.BEIRQuery, f *flags, r *run) error {
	col, _, err := eng.CreateCollection(ctx, "scifact", nil)
	if err != nil {
		return err
	}
	for i := 0; i < len(docs); i += 1024 {
		if _, err := col.Upsert(ctx, docs[i:min(i+1024, len(docs))], nil); err != nil {
			return err
		}
	}
	if len(qs) == 0 {
		return errors.New("no queries")
	}
	req := func(i int) quarry.SearchRequest {
		return quarry.SearchRequest{Query: qs[i%len(qs)].Text, K: 10, Mode: quarry.ModeBM25}
	}
	// Warm up: every query once.
	for i := range qs {
		if _, err := col.Search(ctx, req(i)); err != nil {
			return err
		}
	}
	r.Items = f.queries
	if f.child == "serve" {
		return serve(ctx, eng, qs, f, r)
	}
	if f.child == "batch" {
		return timed(r, func() error {
			for i := 0; i < f.queries; i += f.per {
				n := min(f.per, f.queries-i)
				reqs := make([]quarry.SearchRequest, n)
				for j := range reqs {
					reqs[j] = req(i + j)
				}
				if _, err := col.SearchBatch(ctx, reqs); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return timed(r, func() error {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, f.clients)
		for c := 0; c < f.clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < f.queries; i = int(next.Add(1)) - 1 {
					if _, err := col.Search(ctx, req(i)); err != nil {
						errs[c] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	})
}

// serve runs the search workload through the HTTP server on loopback.
func serve(ctx context.Context, eng *quarry.Engine, qs []ingest.BEIRQuery, f *flags, r *run) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: server.New(eng, server.Options{}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Shutdown(context.WithoutCancel(ctx))
	url := "http://" + ln.Addr().String() + "/v1/collections/scifact/search"
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: f.clients}}
	bodies := make([][]byte, len(qs))
	for i, q := range qs {
		bodies[i], _ = json.Marshal(map[string]any{"query": q.Text, "k": 10, "mode": "bm25"})
	}
	post := func(i int) error {
		res, err := client.Post(url, "application/json", bytes.NewReader(bodies[i%len(bodies)]))
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("search: HTTP %d", res.StatusCode)
		}
		return nil
	}
	for i := range qs { // warm up
		if err := post(i); err != nil {
			return err
		}
	}
	return timed(r, func() error {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, f.clients)
		for c := 0; c < f.clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < f.queries; i = int(next.Add(1)) - 1 {
					if err := post(i); err != nil {
						errs[c] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	})
}

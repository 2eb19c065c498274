// Command quarryann is the Quarry side of bench/ann_peers: it builds one
// index of internal/index/vector over a base.fvecs file, then sweeps the
// search effort and prints one JSON object on stdout with build time, peak
// RSS and, per effort, recall@k against gt.ivecs and queries per second.
//
//	quarryann -dir $QUARRY_HOME/ann/scifact [-mode hnsw|hnsw-int8|hnsw-sq8|ivf|binary]
//	          [-m 16] [-efc 200] [-k 10] [-ef 10,16,...] [-nlist 0] [-nprobe 1,2,...]
//	          [-candidates 10,20,...]
//
// The files are the ones bench/ann_peers/peers.py reads: base.fvecs and
// query.fvecs (TEXMEX layout, see annprep) and gt.ivecs (per query an int32
// count then the row numbers of the exact top-k by inner product, computed
// once by peers.py with numpy and cached).
//
// Threads: run it with GOMAXPROCS=1 (run.sh does); build and search are
// both single-threaded then. Queries are searched one at a time, in file
// order, as a server answers them; QPS for an effort is the number of
// queries over the CPU time (user + system, getrusage) of the fastest of
// several passes (at least 2, until 0.3 s has been spent, at most 20),
// after one untimed warm-up pass over the first 200 queries; wall_qps is
// the same pass over wall time. Build time is CPU time too (build_wall_s
// beside it). On a shared 2-core machine CPU time is what stays
// comparable between systems; wall time counts other jobs' turns.
//
// Peak RSS is VmHWM of this process (/proc/self/status), which also
// holds the driver's own flat copy of the base vectors; rss_loaded_kb is
// the high-water mark before the build starts.
//
// Modes: hnsw is vector.New with Metric Dot; hnsw-int8 adds
// Config.Quantize "int8" with Config.Full serving the float32 vectors for
// rescoring from the driver's copy (so the index holds codes and links
// only, as in Quarry, where the store holds the vectors); hnsw-sq8 adds
// Config.Traverse TraverseSQ8 (the float32 index plus 8-bit per-dimension
// codes that Search walks, the ef candidates re-ranked in float32); ivf is vector.NewIVF (compiled in only with the
// build tag annivf, which run.sh sets when the package has NewIVF).
// A benchmark driver, not part of Quarry's API.
package main

import (
	"bufio"
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
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/quarry-rag/quarry/internal/index/vector"
)

// point is one setting of the search effort.
type point struct {
	Param   string  `json:"param"` // "ef" or "nprobe"
	Value   int     `json:"value"`
	Recall  float64 `json:"recall"`
	QPS     float64 `json:"qps"`      // queries per CPU-second of the fastest pass
	WallQPS float64 `json:"wall_qps"` // queries per wall-clock second of that pass
	P50us   float64 `json:"p50_us"`
	P99us   float64 `json:"p99_us"`
}

type report struct {
	System      string            `json:"system"`
	Mode        string            `json:"mode"`
	N           int               `json:"n"`
	Dim         int               `json:"dim"`
	Queries     int               `json:"queries"`
	K           int               `json:"k"`
	Params      map[string]any    `json:"params"`
	BuildS      float64           `json:"build_s"` // CPU seconds
	BuildWallS  float64           `json:"build_wall_s"`
	TrainS      float64           `json:"train_s,omitempty"`
	RSSLoadedKB int64             `json:"rss_loaded_kb"`
	PeakRSSKB   int64             `json:"peak_rss_kb"`
	IndexBytes  int64             `json:"index_bytes,omitempty"`
	GOMAXPROCS  int               `json:"gomaxprocs"`
	GoVersion   string            `json:"go_version"`
	Points      []point           `json:"points"`
	Notes       map[string]string `json:"notes,omitempty"`
}

// Timed passes per effort: see run.
const (
	minPasses = 2
	maxPasses = 20
	minTime   = 0.3 // seconds of wall time
)

// searcher is one built index, searched at effort e.
type searcher func(q []float32, k, e int) ([]uint32, error)

func main() {
	dir := flag.String("dir", "", "folder with base.fvecs, query.fvecs, gt.ivecs")
	mode := flag.String("mode", "hnsw", "hnsw, hnsw-int8, hnsw-sq8, ivf or binary")
	cands := flag.String("candidates", "10,20,50,100,200,400,800", "binary: candidates rescored per query")
	m := flag.Int("m", 16, "HNSW M")
	efc := flag.Int("efc", 200, "HNSW efConstruction")
	k := flag.Int("k", 10, "neighbours per query")
	efs := flag.String("ef", "10,16,24,32,48,64,96,128,192,256", "HNSW ef values")
	nlist := flag.Int("nlist", 0, "IVF lists (0: 4*sqrt(n))")
	nprobes := flag.String("nprobe", "1,2,4,8,16,32,64,128", "IVF nprobe values")
	flag.Parse()
	if err := run(*dir, *mode, *m, *efc, *k, *efs, *nlist, *nprobes, *cands); err != nil {
		fmt.Fprintln(os.Stderr, "quarryann:", err)
		os.Exit(1)
	}
}

func run(dir, mode string, m, efc, k int, efs string, nlist int, nprobes, cands string) error {
	base, dim, err := readFvecs(filepath.Join(dir, "base.fvecs"))
	if err != nil {
		return err
	}
	queries, qdim, err := readFvecs(filepath.Join(dir, "query.fvecs"))
	if err != nil {
		return err
	}
	if qdim != dim {
		return fmt.Errorf("query.fvecs has dimension %d, base.fvecs %d", qdim, dim)
	}
	gt, err := readIvecs(filepath.Join(dir, "gt.ivecs"))
	if err != nil {
		return err
	}
	nq := len(queries) / dim
	if len(gt) != nq {
		return fmt.Errorf("gt.ivecs has %d rows, query.fvecs %d", len(gt), nq)
	}
	n := len(base) / dim
	r := report{System: "Quarry", Mode: mode, N: n, Dim: dim, Queries: nq, K: k,
		Params: map[string]any{}, GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version()}
	runtime.GC()
	r.RSSLoadedKB = maxRSS()

	var s searcher
	param, values := "ef", efs
	switch mode {
	case "hnsw", "hnsw-int8", "hnsw-sq8":
		cfg := vector.Config{Dim: dim, Metric: vector.Dot, M: m, EfConstruction: efc}
		if mode == "hnsw-sq8" {
			cfg.Traverse = vector.TraverseSQ8
			r.Params["traverse"] = cfg.Traverse.String()
		}
		if mode == "hnsw-int8" {
			// The index keeps int8 codes only; rescoring reads float32
			// vectors from the driver's copy, as Quarry's store serves them.
			cfg.Quantize = vector.QuantInt8
			cfg.Full = func(ids []uint32, dst [][]float32) {
				for i, id := range ids {
					if int(id) < n {
						dst[i] = base[int(id)*dim : (int(id)+1)*dim]
					}
				}
			}
		}
		r.Params["M"], r.Params["efConstruction"], r.Params["quantize"] = m, efc, cfg.Quantize
		h, err := vector.New(cfg)
		if err != nil {
			return err
		}
		t0, c0 := time.Now(), cpuSeconds()
		if err := h.Reserve(n); err != nil { // the final size is known: allocate once
			return err
		}
		for i := range n {
			if err := h.Add(uint32(i), base[i*dim:(i+1)*dim]); err != nil {
				return fmt.Errorf("add %d: %w", i, err)
			}
		}
		r.BuildS, r.BuildWallS = cpuSeconds()-c0, time.Since(t0).Seconds()
		st := h.Stats()
		r.IndexBytes = int64(st.Bytes)
		r.Notes = map[string]string{"full_in_index": fmt.Sprint(st.FullInIndex)}
		s = func(q []float32, k, e int) ([]uint32, error) {
			res, err := h.Search(q, k, e, nil)
			return ids(res), err
		}
	case "ivf":
		param, values = "nprobe", nprobes
		if nlist == 0 {
			nlist = int(4 * math.Sqrt(float64(n)))
		}
		r.Params["nlist"] = nlist
		var ts float64
		var ib int64
		t0, c0 := time.Now(), cpuSeconds()
		s, ts, ib, err = buildIVF(base, dim, nlist)
		if err != nil {
			return err
		}
		r.BuildS, r.BuildWallS, r.TrainS, r.IndexBytes = cpuSeconds()-c0, time.Since(t0).Seconds(), ts, ib
	case "binary":
		// Sign codes scanned by Hamming distance; the best "candidates"
		// are rescored from the driver's float32 copy, as the store would.
		param, values = "candidates", cands
		x, err := vector.NewBinary(vector.BinaryConfig{Dim: dim, Full: func(ids []uint32, dst [][]float32) {
			for i, id := range ids {
				dst[i] = base[int(id)*dim : (int(id)+1)*dim]
			}
		}})
		if err != nil {
			return err
		}
		t0, c0 := time.Now(), cpuSeconds()
		for i := range n {
			if err := x.Add(uint32(i), base[i*dim:(i+1)*dim]); err != nil {
				return fmt.Errorf("add %d: %w", i, err)
			}
		}
		r.BuildS, r.BuildWallS = cpuSeconds()-c0, time.Since(t0).Seconds()
		r.IndexBytes = int64(x.Stats().Bytes)
		s = func(q []float32, k, e int) ([]uint32, error) {
			res, err := x.Search(q, k, e, nil)
			return ids(res), err
		}
	default:
		return fmt.Errorf("-mode %q: want hnsw, hnsw-int8, hnsw-sq8, ivf or binary", mode)
	}
	vals, err := parseInts(values)
	if err != nil {
		return fmt.Errorf("-%s: %w", param, err)
	}
	q := func(i int) []float32 { return queries[i*dim : (i+1)*dim] }
	for i := range min(200, nq) { // warm-up
		if _, err := s(q(i), k, vals[len(vals)-1]); err != nil {
			return err
		}
	}
	lat := make([]float64, nq)
	best := make([]float64, nq)
	for _, e := range vals {
		got := make([][]uint32, nq)
		// Passes over all queries until minTime has passed (at least
		// minPasses, at most maxPasses); the fastest pass counts, so that a
		// burst of load from other jobs costs one pass, not the point.
		bestCPU, bestWall := math.Inf(1), 0.0
		var spent float64
		for pass := 0; pass < maxPasses && (pass < minPasses || spent < minTime); pass++ {
			start, c0 := time.Now(), cpuSeconds()
			for i := range nq {
				t := time.Now()
				res, err := s(q(i), k, e)
				lat[i] = float64(time.Since(t).Nanoseconds()) / 1e3
				if err != nil {
					return err
				}
				got[i] = res
			}
			cpu, wall := cpuSeconds()-c0, time.Since(start).Seconds()
			spent += wall
			if cpu < bestCPU {
				bestCPU, bestWall = cpu, wall
				copy(best, lat)
			}
		}
		p := point{Param: param, Value: e, QPS: float64(nq) / bestCPU, WallQPS: float64(nq) / bestWall, Recall: recall(got, gt, k)}
		sort.Float64s(best)
		p.P50us, p.P99us = best[nq/2], best[min(nq-1, nq*99/100)]
		r.Points = append(r.Points, p)
	}
	r.PeakRSSKB = maxRSS()
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(r)
}

func ids(res []vector.Result) []uint32 {
	out := make([]uint32, len(res))
	for i, x := range res {
		out[i] = x.ID
	}
	return out
}

// recall is the mean over queries of |found ∩ exact top-k| / k.
func recall(got [][]uint32, gt [][]int32, k int) float64 {
	var sum float64
	for i, g := range got {
		want := gt[i][:min(k, len(gt[i]))]
		hit := 0
		for _, id := range g {
			for _, w := range want {
				if int32(id) == w {
					hit++
					break
				}
			}
		}
		sum += float64(hit) / float64(len(want))
	}
	return sum / float64(len(got))
}

// cpuSeconds is the CPU time (user + system) this process has used. With
// GOMAXPROCS=1 the driver runs on one core, so CPU time is the time the
// work took on that core, unlike wall time, which on a shared machine also
// counts the time other jobs held it.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// maxRSS is this process's peak resident set in KiB: VmHWM from
// /proc/self/status (per address space, so unlike ru_maxrss it does not
// inherit the parent's peak across exec), else ru_maxrss.
func maxRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				f := strings.Fields(rest)
				if len(f) > 0 {
					if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
						return v
					}
				}
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return int64(ru.Maxrss) // KiB on Linux
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// readFvecs reads a TEXMEX .fvecs file into one flat slice.
func readFvecs(path string) ([]float32, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	dim := int(binary.LittleEndian.Uint32(hdr[:]))
	row := int64(4 + 4*dim)
	if dim < 1 || st.Size()%row != 0 {
		return nil, 0, fmt.Errorf("%s: not an .fvecs file of dimension %d", path, dim)
	}
	n := int(st.Size() / row)
	out := make([]float32, n*dim)
	buf := make([]byte, 4*dim)
	for i := range n {
		if i > 0 {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return nil, 0, fmt.Errorf("%s: row %d: %w", path, i, err)
			}
			if int(binary.LittleEndian.Uint32(hdr[:])) != dim {
				return nil, 0, fmt.Errorf("%s: row %d: dimension changes", path, i)
			}
		}
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, 0, fmt.Errorf("%s: row %d: %w", path, i, err)
		}
		for j := range dim {
			out[i*dim+j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
		}
	}
	return out, dim, nil
}

// readIvecs reads a TEXMEX .ivecs file (rows may differ in length).
func readIvecs(path string) ([][]int32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]int32
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, errors.New(path + ": truncated")
		}
		d := int(binary.LittleEndian.Uint32(b))
		if len(b) < 4+4*d {
			return nil, errors.New(path + ": truncated")
		}
		row := make([]int32, d)
		for j := range d {
			row[j] = int32(binary.LittleEndian.Uint32(b[4+4*j:]))
		}
		out = append(out, row)
		b = b[4+4*d:]
	}
	return out, nil
}

// Command soak drives a running Quarry server on loopback with a steady mix
// of reads and writes for a fixed time and checks that it does not leak:
// every -sample it records the server's resident memory, heap, live heap
// at the last collection, goroutines and open files (from its /metrics:
// process_resident_memory_bytes, go_memstats_heap_inuse_bytes,
// go_memstats_next_gc_bytes ÷ (1 + go_gc_gogc_percent/100),
// go_goroutines, process_open_fds; also go_memstats_heap_sys_bytes and
// go_memstats_heap_released_bytes for the CSV) and the interval's latency
// percentiles and errors; at the end it fits a line to each resource series over the
// whole measured run (-duration, the issue's 30 minutes) and tests whether
// the slope is distinguishable from zero, and reports the same fits after
// the first -report-warmup (20 %) of it beside them, not gated.
//
// Warm-up. The same traffic runs for -warmup-for (5 minutes) before the
// measured run starts; its samples are written and plotted (shaded) but
// not fitted. A fresh server's heap goal grows for its first minutes as
// caches fill and the encoder's kept workspace reaches the largest batch
// it will see (soak run 6: RSS 219 → 262 MB in the first 300 s, flat
// from 600 s to the end), and a line fitted across that transient reads
// it as a trend. The warm-up is a fixed time, not a share of the run, so
// a longer run does not leave out more; a leak keeps growing after it.
//
// Quiescent samples. Each sample is taken with no soak request inside the
// server: every request holds a read lock while in flight, and the
// sampler takes the write lock (new requests wait, in-flight ones finish),
// closes the client's idle connections, waits 50 ms for the server's
// connection goroutines to wind down, then reads /metrics and /proc. Under load, a goroutine count taken at an
// arbitrary moment includes the requests being served, a number that
// follows latency and so the machine's load (soak runs 5 and 6 failed on
// +0.35 and +0.43 goroutines over 30 minutes, one in-flight request); a
// leak is what outlives its request, and that is what a quiescent count
// measures. The generator is open loop, so the wait (≈ 50–100 ms every
// -sample) costs at most one tick; max_sample_pause_ms reports it.
//
// Traffic, at -rate requests per second spread over the run: BM25 and
// hybrid searches and extractive asks on -collection, upserts of documents
// drawn from a fixed pool of -pool ids (so the collection's size stays
// bounded: a soak measures leaks, not growth of the data) and deletes of
// ids from the same pool. Only 127.0.0.1, ::1 or localhost targets are
// accepted; the run is bounded by -duration ≤ 2h.
//
// Live heap. Heap in use, sampled at an arbitrary point of the garbage
// collector's cycle, is a sawtooth between the live heap and twice it; the
// collector's next goal is set at the end of each cycle from the heap it
// found live (goal = live × (1 + GOGC/100), plus a small share of stacks
// and globals), so goal ÷ (1 + GOGC/100) tracks what survived the last
// collection, which is what a leak makes grow. RSS follows the goal more
// than the live heap: the runtime keeps freed pages up to about 10 % above
// the goal before returning them, so after a drop (the startup's model
// loading released) RSS climbs back towards that level without a leak —
// heap_sys_mb and heap_released_mb in the CSV show it.
//
// Slope test. Samples are autocorrelated (garbage-collector sawtooth,
// caches warming), so the standard error of the least-squares slope is the
// Newey–West (HAC) estimate with a Bartlett kernel; a series is flat when
// |slope| < 2·SE, or when the fitted change over the measured period is
// under -tolerance of the series' mean (a drift too small to matter, e.g.
// 1 MB over 30 minutes). Written by hand: the test is twenty lines and no
// maintained Go statistics module offers HAC errors.
//
// Resident memory by kind. With -pid (the server's process id, when it
// runs on this machine; bench/soak/run.sh passes it) each sample also
// reads /proc/PID/status: RssAnon (the Go heap and other anonymous
// memory), RssFile (the executable's and the store's mapped file pages)
// and RssShmem; they are fitted and reported beside RSS, not gated (the
// issue's criterion is RSS). The collector's cycles per minute are
// reported too: with a memory limit (GOMEMLIMIT) that binds, the goal no
// longer follows the live heap, live_heap_mb becomes a lower bound, and a
// leak would show as collections growing more frequent instead.
//
// Output: a CSV of the samples (-csv), an SVG plot (-svg) and a JSON
// summary on stdout; the exit status is 1 when a series is not flat or a
// request failed with anything but an intended 429/503.
//
//	bench/soak/run.sh -duration 30m
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const maxDuration = 2 * time.Hour

var queries = []string{
	"how does BM25 score a document",
	"what does the ask endpoint return",
	"how are documents chunked",
	"which flags does quarry ingest take",
	"how do I evaluate retrieval on a BEIR dataset",
	"what is reciprocal rank fusion",
	"how are citations produced",
	"how do I delete a document",
	"what metrics does the server export",
	"how does hybrid search combine lexical and dense results",
}

var words = strings.Fields(`granite basalt magma lava quartz feldspar river valley sediment layer
crystal mineral erosion glacier volcano plate fault pressure heat cooling surface crust mantle core
ocean trench ridge island delta canyon limestone marble slate shale clay sand gravel fossil`)

type options struct {
	base         *url.URL
	collection   string
	rate         float64
	duration     time.Duration
	sample       time.Duration
	warmupFor    time.Duration
	reportWarmup float64
	pool         int
	tolerance    float64
	csv, svg     string
	pid          int
}

func main() {
	var o options
	u := flag.String("url", "http://127.0.0.1:18090", "server base URL (loopback only)")
	flag.StringVar(&o.collection, "collection", "samples", "collection to read and write")
	flag.Float64Var(&o.rate, "rate", 10, "requests per second (≤ 200)")
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "length of the run (≤ 2h)")
	flag.DurationVar(&o.sample, "sample", 10*time.Second, "sampling interval")
	flag.DurationVar(&o.warmupFor, "warmup-for", 5*time.Minute, "traffic before the measured -duration starts: sampled and plotted, left out of the slope fits (0: none)")
	flag.Float64Var(&o.reportWarmup, "report-warmup", 0.2, "also report (not gate) the fits after this fraction of the measured run")
	flag.IntVar(&o.pool, "pool", 200, "ids written and deleted (bounds the collection's growth)")
	flag.Float64Var(&o.tolerance, "tolerance", 0.02, "a fitted change under this fraction of the mean is flat")
	flag.StringVar(&o.csv, "csv", "", "write the samples here")
	flag.StringVar(&o.svg, "svg", "", "write the plot here")
	flag.IntVar(&o.pid, "pid", 0, "the server's process id: also sample RssAnon, RssFile and RssShmem from /proc/PID/status")
	flag.Parse()
	var err error
	if o.base, err = loopback(*u); err != nil {
		fail(err)
	}
	switch {
	case o.rate <= 0 || o.rate > 200:
		fail(fmt.Errorf("-rate %v: want (0, 200]", o.rate))
	case o.duration <= 0 || o.duration > maxDuration:
		fail(fmt.Errorf("-duration %v: want (0, %v]", o.duration, maxDuration))
	case o.sample < time.Second || o.sample > o.duration/4:
		fail(fmt.Errorf("-sample %v: want [1s, duration/4]", o.sample))
	case o.warmupFor < 0 || o.warmupFor > o.duration:
		fail(fmt.Errorf("-warmup-for %v: want [0, -duration]", o.warmupFor))
	case o.reportWarmup < 0 || o.reportWarmup >= 0.9:
		fail(fmt.Errorf("-report-warmup %v: want [0, 0.9)", o.reportWarmup))
	case o.pool < 1 || o.pool > 100000:
		fail(fmt.Errorf("-pool %d: want [1, 100000]", o.pool))
	case o.pid < 0:
		fail(fmt.Errorf("-pid %d: want a process id", o.pid))
	}
	if o.pid > 0 {
		if _, err := procRSS(o.pid); err != nil {
			fail(fmt.Errorf("-pid %d: %w", o.pid, err))
		}
	}
	sum, err := run(o)
	if err != nil {
		fail(err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(sum)
	if !sum.Pass {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "soak:", err)
	os.Exit(2)
}

func loopback(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" {
		return nil, fmt.Errorf("-url %q: want http://127.0.0.1:PORT", s)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-url %q: only loopback targets are allowed", s)
	}
	return u, nil
}

// settle is how long the sampler waits, with no request in flight and
// the client's idle keep-alive connections closed, for the server's
// connection goroutines to wind down before it scrapes (the server
// notices a closed connection within microseconds), so the count does not
// depend on how many connections the client happened to keep.
const settle = 50 * time.Millisecond

// sample is one interval's measurements.
type sample struct {
	T          float64 // seconds since the traffic started
	Warmup     bool    // taken during -warmup-for: plotted, not fitted
	PauseMs    float64 // time the sampler waited for the requests in flight, plus settle
	RSSMB      float64
	HeapMB     float64 // heap in use (go_memstats_heap_inuse_bytes)
	LiveMB     float64 // live heap at the last collection (next GC goal ÷ (1 + GOGC/100))
	SysMB      float64 // heap obtained from the OS (go_memstats_heap_sys_bytes)
	ReleasedMB float64 // of which returned to it (go_memstats_heap_released_bytes)
	AnonMB     float64 // RssAnon (with -pid; else 0)
	FileMB     float64 // RssFile
	ShmemMB    float64 // RssShmem
	GCPerMin   float64 // collections in the interval, per minute
	Goroutines float64
	OpenFDs    float64
	P50ms      float64
	P99ms      float64
	Requests   int
	Errors     int // failures other than 429/503
	Shed       int // 429/503: intended back-pressure
}

// Fit is the slope test of one series.
type Fit struct {
	Series      string  `json:"series"`
	Mean        float64 `json:"mean"`
	SlopePerMin float64 `json:"slope_per_min"`
	SEPerMin    float64 `json:"se_per_min"` // Newey–West
	T           float64 `json:"t"`
	Change      float64 `json:"fitted_change"` // slope × measured period
	Flat        bool    `json:"flat"`
	Why         string  `json:"why"`
}

type summary struct {
	Collection string  `json:"collection"`
	Rate       float64 `json:"rate"`
	Duration   string  `json:"duration"`
	Samples    int     `json:"samples"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Shed       int     `json:"shed_429_503"`
	FirstError string  `json:"first_error,omitempty"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	Warmup     string  `json:"warmup"`
	MaxPauseMs float64 `json:"max_sample_pause_ms"` // longest wait for a quiescent sample
	Fits       []Fit   `json:"fits"`
	// FitsAfterWarmup are the fits after -report-warmup of the run,
	// reported beside the gated ones (a start-up transient is then
	// visible as the difference), never gated.
	FitsAfterWarmup []Fit    `json:"fits_after_warmup,omitempty"`
	Pass            bool     `json:"pass"`
	Notes           []string `json:"notes,omitempty"`
}

type recorder struct {
	mu       sync.Mutex
	lat      []float64
	all      []float64
	requests int
	errors   int
	shed     int
	firstErr string
}

func (r *recorder) add(d time.Duration, status int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ms := float64(d) / float64(time.Millisecond)
	r.requests++
	switch {
	case err != nil:
		r.errors++
		if r.firstErr == "" {
			r.firstErr = err.Error()
		}
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		r.shed++
	case status >= 300:
		r.errors++
		if r.firstErr == "" {
			r.firstErr = fmt.Sprintf("HTTP %d", status)
		}
	default:
		r.lat = append(r.lat, ms)
	}
}

// take returns the interval's latencies and counts and starts a new one.
func (r *recorder) take() (lat []float64, n, errs, shed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat, n, errs, shed = r.lat, r.requests, r.errors, r.shed
	r.all = append(r.all, lat...)
	r.lat, r.requests, r.errors, r.shed = nil, 0, 0, 0
	return
}

func run(o options) (*summary, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	if _, err := scrape(client, o.base); err != nil {
		return nil, fmt.Errorf("reading %s/metrics: %w", o.base, err)
	}
	if err := prime(client, o); err != nil {
		return nil, err
	}
	m0, err := scrape(client, o.base)
	if err != nil {
		return nil, fmt.Errorf("reading %s/metrics: %w", o.base, err)
	}
	gcCount0 := m0["go_gc_duration_seconds_count"]
	limit := "none"
	if l := m0["go_gc_gomemlimit_bytes"]; l > 0 && l < math.MaxInt64/2 {
		limit = fmt.Sprintf("%.0f MiB", l/(1<<20))
	}
	rec := &recorder{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// quiet is held for reading by every request in flight and for
	// writing by the sampler while it scrapes, so each sample is taken
	// between requests (see "Quiescent samples" in the package doc).
	var quiet sync.RWMutex
	// Open loop: one request started every 1/rate seconds, each on its
	// own goroutine (bounded: a slow server sheds or queues, it does not
	// make the generator slow down and hide latency).
	sem := make(chan struct{}, 256)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Duration(float64(time.Second) / o.rate))
		defer tick.Stop()
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			method, path, body := pick(o, rng, i)
			select {
			case sem <- struct{}{}:
			default:
				rec.add(0, 0, fmt.Errorf("generator: 256 requests outstanding"))
				continue
			}
			quiet.RLock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer quiet.RUnlock()
				defer func() { <-sem }()
				start := time.Now()
				status, err := do(client, method, o.base.String()+path, body)
				rec.add(time.Since(start), status, err)
			}()
		}
	}()

	var samples []sample
	start := time.Now()
	lastGC, lastT := gcCount0, 0.0
	tick := time.NewTicker(o.sample)
	deadline := time.After(o.warmupFor + o.duration)
	var scrapeErr error
loop:
	for {
		select {
		case <-deadline:
			break loop
		case <-tick.C:
		}
		// Wait for the requests in flight to finish (new ones wait
		// meanwhile), let the server's connection goroutines settle,
		// then read every gauge with no request inside the server.
		t0 := time.Now()
		quiet.Lock()
		client.CloseIdleConnections()
		time.Sleep(settle)
		pause := time.Since(t0)
		m, err := scrape(client, o.base)
		var r rssKinds
		if err == nil && o.pid > 0 {
			r, err = procRSS(o.pid)
		}
		quiet.Unlock()
		if err != nil {
			scrapeErr = err
			break loop
		}
		lat, n, errs, shed := rec.take()
		now := time.Since(start).Seconds()
		gcs := (m["go_gc_duration_seconds_count"] - lastGC) / (now - lastT) * 60
		lastGC, lastT = m["go_gc_duration_seconds_count"], now
		samples = append(samples, sample{Warmup: now <= o.warmupFor.Seconds(), PauseMs: float64(pause) / float64(time.Millisecond), AnonMB: r.anon, FileMB: r.file, ShmemMB: r.shmem, GCPerMin: gcs, T: now, RSSMB: m["process_resident_memory_bytes"] / (1 << 20),
			HeapMB:     m["go_memstats_heap_inuse_bytes"] / (1 << 20),
			LiveMB:     liveHeap(m) / (1 << 20),
			SysMB:      m["go_memstats_heap_sys_bytes"] / (1 << 20),
			ReleasedMB: m["go_memstats_heap_released_bytes"] / (1 << 20),
			Goroutines: m["go_goroutines"], OpenFDs: m["process_open_fds"], P50ms: pct(lat, 50), P99ms: pct(lat, 99),
			Requests: n, Errors: errs, Shed: shed})
		s := samples[len(samples)-1]
		fmt.Fprintf(os.Stderr, "soak: %s%6.0fs rss %.1f MB heap %.1f MB live %.1f MB goroutines %.0f fds %.0f p50 %.1f ms p99 %.1f ms req %d err %d shed %d\n",
			map[bool]string{true: "warm-up ", false: ""}[s.Warmup], s.T, s.RSSMB, s.HeapMB, s.LiveMB, s.Goroutines, s.OpenFDs, s.P50ms, s.P99ms, s.Requests, s.Errors, s.Shed)
	}
	tick.Stop()
	close(stop)
	wg.Wait()
	if scrapeErr != nil {
		return nil, fmt.Errorf("the server stopped answering /metrics: %w", scrapeErr)
	}
	sum, err := summarize(o, samples, rec)
	if sum != nil {
		sum.Notes = append(sum.Notes, "server memory limit (GOMEMLIMIT): "+limit)
	}
	return sum, err
}

// rssKinds is resident memory by kind, in MB.
type rssKinds struct{ anon, file, shmem float64 }

// procRSS reads RssAnon, RssFile and RssShmem of pid from /proc.
func procRSS(pid int) (rssKinds, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rssKinds{}, err
	}
	return parseStatus(b)
}

// parseStatus reads the Rss lines of a /proc/PID/status (values in kB).
func parseStatus(b []byte) (rssKinds, error) {
	var r rssKinds
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *float64
		switch name {
		case "RssAnon":
			dst = &r.anon
		case "RssFile":
			dst = &r.file
		case "RssShmem":
			dst = &r.shmem
		default:
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return r, fmt.Errorf("/proc status: %s: %q", name, val)
		}
		kb, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return r, fmt.Errorf("/proc status: %s: %w", name, err)
		}
		*dst = kb / 1024
		found++
	}
	if found != 3 {
		return r, fmt.Errorf("/proc status: RssAnon, RssFile or RssShmem missing")
	}
	return r, nil
}

// pick chooses the next request: 30 % BM25 search, 25 % hybrid search,
// 15 % extractive ask, 20 % upsert, 10 % delete.
func pick(o options, rng *rand.Rand, i int) (method, path string, body []byte) {
	c := "/v1/collections/" + url.PathEscape(o.collection)
	q := queries[rng.IntN(len(queries))]
	switch x := rng.IntN(100); {
	case x < 30:
		body, _ = json.Marshal(map[string]any{"query": q, "mode": "bm25", "k": 10})
		return "POST", c + "/search", body
	case x < 55:
		body, _ = json.Marshal(map[string]any{"query": q, "mode": "hybrid", "k": 10})
		return "POST", c + "/search", body
	case x < 70:
		body, _ = json.Marshal(map[string]any{"question": q, "method": "extractive"})
		return "POST", c + "/ask", body
	case x < 90:
		id := fmt.Sprintf("soak-%d", rng.IntN(o.pool))
		var b strings.Builder
		for range 40 + rng.IntN(80) {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		body, _ = json.Marshal(map[string]any{"documents": []map[string]any{{"id": id, "title": "Soak " + strconv.Itoa(i), "text": b.String()}}})
		return "POST", c + "/documents", body
	default:
		return "DELETE", c + "/documents/" + fmt.Sprintf("soak-%d", rng.IntN(o.pool)), nil
	}
}

// primeTexts are one document per language whose analysis loads data
// once per process (decompounding and segmentation dictionaries, the
// Arabic lexicon). The random documents of the run are English word salad
// that language identification now and then reads as German, so without
// priming that one-time load lands inside the measured window as a step
// and the slope test reads it as a trend.
var primeTexts = map[string]string{
	"de": "Die Bundesregierung hat heute die Gesundheitsreform für alle Krankenversicherungen beschlossen.",
	"ar": "أعلنت الحكومة اليوم عن خطة جديدة لتطوير التعليم في المدارس والجامعات.",
	"th": "รัฐบาลประกาศแผนพัฒนาการศึกษาใหม่สำหรับโรงเรียนและมหาวิทยาลัยทั่วประเทศ",
	"lo": "ລັດຖະບານໄດ້ປະກາດແຜນການພັດທະນາການສຶກສາໃໝ່ສຳລັບໂຮງຮຽນທົ່ວປະເທດ",
}

// prime writes and deletes one document per primeTexts language and runs
// one search in it, before the clock starts.
func prime(c *http.Client, o options) error {
	col := o.base.String() + "/v1/collections/" + url.PathEscape(o.collection)
	for lang, text := range primeTexts {
		id := "soak-prime-" + lang
		body, _ := json.Marshal(map[string]any{"documents": []map[string]any{{"id": id, "text": text}}})
		if st, err := do(c, "POST", col+"/documents", body); err != nil || st != http.StatusOK {
			return fmt.Errorf("priming %s: status %d: %v", lang, st, err)
		}
		body, _ = json.Marshal(map[string]any{"query": text, "mode": "bm25", "k": 1})
		if st, err := do(c, "POST", col+"/search", body); err != nil || st != http.StatusOK {
			return fmt.Errorf("priming %s search: status %d: %v", lang, st, err)
		}
		if st, err := do(c, "DELETE", col+"/documents/"+id, nil); err != nil || st != http.StatusOK {
			return fmt.Errorf("priming %s delete: status %d: %v", lang, st, err)
		}
	}
	return nil
}

func do(c *http.Client, method, u string, body []byte) (int, error) {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound && method == "DELETE" {
		return http.StatusOK, nil // deleting an id not written yet is fine
	}
	return resp.StatusCode, nil
}

// scrape reads the untyped values of the server's /metrics that the soak
// samples.
func scrape(c *http.Client, base *url.URL) (map[string]float64, error) {
	resp, err := c.Get(base.String() + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	want := map[string]bool{"go_gc_duration_seconds_count": true, "go_gc_gomemlimit_bytes": true, "process_resident_memory_bytes": true, "go_memstats_heap_inuse_bytes": true, "go_goroutines": true, "process_open_fds": true,
		"go_memstats_next_gc_bytes": true, "go_gc_gogc_percent": true, "go_memstats_heap_sys_bytes": true, "go_memstats_heap_released_bytes": true}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	for n := range want {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("/metrics has no %s", n)
		}
	}
	return out, sc.Err()
}

// liveHeap estimates the heap that survived the last collection from the
// collector's goal (see the package documentation); with the collector
// off (GOGC < 0) it falls back to the heap in use.
func liveHeap(m map[string]float64) float64 {
	gogc := m["go_gc_gogc_percent"]
	if gogc < 0 {
		return m["go_memstats_heap_inuse_bytes"]
	}
	return m["go_memstats_next_gc_bytes"] / (1 + gogc/100)
}

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func summarize(o options, samples []sample, rec *recorder) (*summary, error) {
	sum := &summary{Collection: o.collection, Rate: o.rate, Duration: o.duration.String(), Warmup: o.warmupFor.String(), Samples: len(samples)}
	for _, s := range samples {
		sum.Requests += s.Requests
		sum.Errors += s.Errors
		sum.Shed += s.Shed
	}
	rec.mu.Lock()
	sum.P50ms, sum.P99ms, sum.FirstError = pct(rec.all, 50), pct(rec.all, 99), rec.firstErr
	rec.mu.Unlock()
	skip := 0
	for skip < len(samples) && samples[skip].Warmup {
		skip++
	}
	if len(samples)-skip < 8 {
		return nil, fmt.Errorf("%d samples after the warm-up: too few for a slope (run longer or sample more often)", len(samples)-skip)
	}
	kept := samples[skip:]
	for _, s := range kept {
		sum.MaxPauseMs = math.Max(sum.MaxPauseMs, s.PauseMs)
	}
	series := []struct {
		name string
		get  func(sample) float64
	}{
		{"rss_mb", func(s sample) float64 { return s.RSSMB }},
		{"heap_inuse_mb", func(s sample) float64 { return s.HeapMB }},
		{"live_heap_mb", func(s sample) float64 { return s.LiveMB }},
		{"goroutines", func(s sample) float64 { return s.Goroutines }},
		{"open_fds", func(s sample) float64 { return s.OpenFDs }},
		{"p99_ms", func(s sample) float64 { return s.P99ms }},
		{"gc_per_min", func(s sample) float64 { return s.GCPerMin }},
	}
	if o.pid > 0 {
		series = append(series, []struct {
			name string
			get  func(sample) float64
		}{
			{"rss_anon_mb", func(s sample) float64 { return s.AnonMB }},
			{"rss_file_mb", func(s sample) float64 { return s.FileMB }},
		}...)
	}
	fit := func(kept []sample) []Fit {
		t := make([]float64, len(kept))
		for i, s := range kept {
			t[i] = s.T
		}
		var fits []Fit
		for _, se := range series {
			y := make([]float64, len(kept))
			for i, s := range kept {
				y[i] = se.get(s)
			}
			f := Slope(t, y, o.tolerance)
			f.Series = se.name
			fits = append(fits, f)
		}
		return fits
	}
	ungated := map[string]bool{"p99_ms": true, "gc_per_min": true, "rss_anon_mb": true, "rss_file_mb": true}
	sum.Pass = sum.Errors == 0
	sum.Fits = fit(kept)
	for _, f := range sum.Fits {
		if !f.Flat && !ungated[f.Series] { // latency follows the machine's load; the rest explain RSS
			sum.Pass = false
		}
	}
	sum.Notes = append(sum.Notes, fmt.Sprintf("slopes (fits) fitted on the whole measured run: %d samples after %d warm-up samples (-warmup-for %v, left out); p99_ms, gc_per_min, rss_anon_mb and rss_file_mb are reported, not gated", len(kept), skip, o.warmupFor))
	sum.Notes = append(sum.Notes, fmt.Sprintf("every sample is taken with no soak request in flight (the generator waits meanwhile; longest wait %.0f ms), so goroutines counts what outlives requests", sum.MaxPauseMs))
	if rs := int(o.reportWarmup * float64(len(kept))); rs > 0 && len(kept)-rs >= 8 {
		sum.FitsAfterWarmup = fit(kept[rs:])
		sum.Notes = append(sum.Notes, fmt.Sprintf("fits_after_warmup: the same fits on the %d measured samples after the first %d (-report-warmup %.2g of the measured run), reported, not gated", len(kept)-rs, rs, o.reportWarmup))
	}
	if o.csv != "" {
		if err := writeCSV(o.csv, samples); err != nil {
			return nil, err
		}
	}
	if o.svg != "" {
		if err := writeSVG(o.svg, samples, skip); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

// Slope fits y = a + b·t by least squares and tests b against zero with a
// Newey–West standard error (Bartlett kernel, lag ⌊4(n/100)^(2/9)⌋). The
// series is flat when |b| < 2·SE or when the fitted change b·(t_n − t_1)
// is under tol of the mean of y. Slope and SE are per minute.
func Slope(t, y []float64, tol float64) Fit {
	n := float64(len(t))
	var mt, my float64
	for i := range t {
		mt += t[i]
		my += y[i]
	}
	mt /= n
	my /= n
	var sxx, sxy float64
	for i := range t {
		sxx += (t[i] - mt) * (t[i] - mt)
		sxy += (t[i] - mt) * (y[i] - my)
	}
	f := Fit{Mean: my}
	if sxx == 0 {
		f.Flat, f.Why = true, "no time span"
		return f
	}
	b := sxy / sxx
	a := my - b*mt
	// HAC variance of b: (Σ_l w_l Σ_i x_i u_i x_{i-l} u_{i-l}) / sxx².
	lag := int(math.Floor(4 * math.Pow(n/100, 2.0/9)))
	g := make([]float64, len(t))
	for i := range t {
		g[i] = (t[i] - mt) * (y[i] - a - b*t[i])
	}
	var s float64
	for l := 0; l <= lag; l++ {
		w := 1.0
		if l > 0 {
			w = 2 * (1 - float64(l)/float64(lag+1))
		}
		var c float64
		for i := l; i < len(g); i++ {
			c += g[i] * g[i-l]
		}
		s += w * c
	}
	se := math.Sqrt(math.Max(s, 0)) / sxx
	f.SlopePerMin, f.SEPerMin = b*60, se*60
	f.Change = b * (t[len(t)-1] - t[0])
	if se > 0 {
		f.T = b / se
	}
	switch {
	case se == 0 && b == 0:
		f.Flat, f.Why = true, "constant"
	case math.Abs(b) < 2*se:
		f.Flat, f.Why = true, fmt.Sprintf("slope within 2 standard errors of zero (t = %.2f)", f.T)
	case my != 0 && math.Abs(f.Change) < tol*math.Abs(my):
		f.Flat, f.Why = true, fmt.Sprintf("fitted change %.3g is under %.0f%% of the mean %.3g", f.Change, 100*tol, my)
	default:
		f.Why = fmt.Sprintf("slope %.3g per minute, t = %.2f, fitted change %.3g over the run (mean %.3g)", f.SlopePerMin, f.T, f.Change, my)
	}
	return f
}

func writeCSV(path string, samples []sample) error {
	var b strings.Builder
	b.WriteString("t_s,rss_mb,heap_inuse_mb,live_heap_mb,heap_sys_mb,heap_released_mb,goroutines,open_fds,p50_ms,p99_ms,requests,errors,shed,rss_anon_mb,rss_file_mb,rss_shmem_mb,gc_per_min,warmup,pause_ms\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "%.1f,%.2f,%.2f,%.2f,%.2f,%.2f,%.0f,%.0f,%.2f,%.2f,%d,%d,%d,%.2f,%.2f,%.2f,%.2f,%t,%.1f\n", s.T, s.RSSMB, s.HeapMB, s.LiveMB, s.SysMB, s.ReleasedMB, s.Goroutines, s.OpenFDs, s.P50ms, s.P99ms, s.Requests, s.Errors, s.Shed, s.AnonMB, s.FileMB, s.ShmemMB, s.GCPerMin, s.Warmup, s.PauseMs)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// writeSVG draws the series in stacked panels against time, the first
// skip samples (the warm-up, left out of the fits) shaded.
func writeSVG(path string, samples []sample, skip int) error {
	const w, ph, left, gap = 720, 120, 70, 30
	panels := []struct {
		name string
		get  func(sample) float64
	}{
		{"RSS (MB)", func(s sample) float64 { return s.RSSMB }},
		{"heap in use (MB)", func(s sample) float64 { return s.HeapMB }},
		{"live heap at last GC (MB)", func(s sample) float64 { return s.LiveMB }},
		{"goroutines", func(s sample) float64 { return s.Goroutines }},
		{"open files", func(s sample) float64 { return s.OpenFDs }},
		{"p99 latency (ms)", func(s sample) float64 { return s.P99ms }},
	}
	h := len(panels)*(ph+gap) + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	tmax := samples[len(samples)-1].T
	x := func(t float64) float64 { return left + (w-left-20)*t/tmax }
	for k, p := range panels {
		top := float64(10 + k*(ph+gap))
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range samples {
			lo, hi = math.Min(lo, p.get(s)), math.Max(hi, p.get(s))
		}
		if hi == lo {
			hi, lo = hi+1, math.Max(0, lo-1)
		}
		pad := (hi - lo) * 0.1
		lo, hi = math.Max(lo-pad, math.Min(lo, 0)), hi+pad // no negative axis for a series that never is
		y := func(v float64) float64 { return top + ph - ph*(v-lo)/(hi-lo) }
		fmt.Fprintf(&b, `<rect x="%d" y="%.0f" width="%.1f" height="%d" fill="#eee"/>`+"\n", left, top, x(samples[max(skip-1, 0)].T)-left, ph)
		fmt.Fprintf(&b, `<rect x="%d" y="%.0f" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", left, top, w-left-20, ph)
		fmt.Fprintf(&b, `<text x="%d" y="%.0f">%s</text>`+"\n", left+4, top+12, p.name)
		fmt.Fprintf(&b, `<text x="%d" y="%.0f" text-anchor="end">%.4g</text>`+"\n", left-4, top+10, hi)
		fmt.Fprintf(&b, `<text x="%d" y="%.0f" text-anchor="end">%.4g</text>`+"\n", left-4, top+ph, lo)
		b.WriteString(`<polyline fill="none" stroke="#2a5bd7" stroke-width="1.5" points="`)
		for _, s := range samples {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(s.T), y(p.get(s)))
		}
		b.WriteString("\"/>\n")
	}
	shaded := "slopes fitted on the whole run"
	if skip > 0 {
		shaded = "shaded: warm-up, left out of the slope fits; slopes fitted on the rest"
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">time (s), 0–%.0f; %s</text>`+"\n", left, h-8, tmax, shaded)
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

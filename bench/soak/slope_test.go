package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// series is 180 samples 10 s apart (30 minutes): a garbage-collector
// sawtooth around base plus noise plus growth per minute.
func series(seed uint64, base, growth float64) (t, y []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range 180 {
		ts := float64(i * 10)
		saw := 8 * math.Mod(float64(i), 7) / 7 // the heap grows, then GC
		t = append(t, ts)
		y = append(y, base+saw+r.NormFloat64()*2+growth*ts/60)
	}
	return t, y
}

// TestSlopeFlatSawtooth: a flat, noisy sawtooth is flat on every seed (the
// HAC error does not call the sawtooth a trend); 1 MB a minute on a 200 MB
// heap (30 MB over the run) is caught on every seed.
func TestSlopeFlatSawtooth(t *testing.T) {
	for seed := range uint64(20) {
		ts, y := series(seed, 200, 0)
		if f := Slope(ts, y, 0.02); !f.Flat {
			t.Errorf("seed %d: flat series judged a trend: %+v", seed, f)
		}
		ts, y = series(seed, 200, 1)
		if f := Slope(ts, y, 0.02); f.Flat {
			t.Errorf("seed %d: a leak of 1 MB/min judged flat: %+v", seed, f)
		}
	}
}

// TestSlopeConstantAndTiny: a constant series (goroutines that never
// change) is flat; a statistically clear but negligible drift (0.5 % of
// the mean over the run) is flat by the tolerance.
func TestSlopeConstantAndTiny(t *testing.T) {
	ts := make([]float64, 100)
	y := make([]float64, 100)
	for i := range ts {
		ts[i], y[i] = float64(i*10), 42
	}
	if f := Slope(ts, y, 0.02); !f.Flat || f.SlopePerMin != 0 {
		t.Fatalf("constant: %+v", f)
	}
	for i := range y {
		y[i] = 1000 + 5*float64(i)/100 // +5 over the run, no noise
	}
	f := Slope(ts, y, 0.02)
	if !f.Flat || math.Abs(f.Change-4.95) > 0.01 {
		t.Fatalf("tiny drift: %+v", f)
	}
	if f := Slope(ts, y, 0.001); f.Flat {
		t.Fatalf("tiny drift with a tolerance below it: %+v", f)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:1", "http://localhost:8080", "http://[::1]:9"} {
		if _, err := loopback(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:80", "https://127.0.0.1:1", "http://example.com", "ftp://127.0.0.1"} {
		if _, err := loopback(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

// TestLiveHeap: the live heap is the collector's goal divided by
// 1 + GOGC/100, and the heap in use when the collector is off.
func TestLiveHeap(t *testing.T) {
	m := map[string]float64{"go_memstats_next_gc_bytes": 300, "go_gc_gogc_percent": 50, "go_memstats_heap_inuse_bytes": 70}
	if got := liveHeap(m); got != 200 {
		t.Fatalf("GOGC 50, goal 300: live %v, want 200", got)
	}
	m["go_gc_gogc_percent"] = -1
	if got := liveHeap(m); got != 70 {
		t.Fatalf("GOGC off: live %v, want the heap in use 70", got)
	}
}

func TestParseStatusReadsRSSKinds(t *testing.T) {
	in := "Name:\tquarry\nVmRSS:\t  425092 kB\nRssAnon:\t  396488 kB\nRssFile:\t   28604 kB\nRssShmem:\t       0 kB\nThreads:\t9\n"
	r, err := parseStatus([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.anon-396488.0/1024) > 1e-9 || math.Abs(r.file-28604.0/1024) > 1e-9 || r.shmem != 0 {
		t.Fatalf("got %+v", r)
	}
	for _, bad := range []string{"VmRSS:\t1 kB\n", "RssAnon:\tx kB\nRssFile:\t1 kB\nRssShmem:\t0 kB\n", "RssAnon:\t1 MB\nRssFile:\t1 kB\nRssShmem:\t0 kB\n"} {
		if _, err := parseStatus([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestProcRSSOfThisProcess(t *testing.T) {
	r, err := procRSS(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if r.anon <= 0 || r.file <= 0 {
		t.Fatalf("this process has RssAnon %.1f MB, RssFile %.1f MB", r.anon, r.file)
	}
}

// TestSummaryLeavesOutOnlyTheWarmup: a start-up transient (RSS falling
// from 400 to 300 MB) inside the warm-up passes, and the same transient
// in the measured run fails the gate — the measured run is fitted whole.
func TestSummaryLeavesOutOnlyTheWarmup(t *testing.T) {
	build := func(warm int) []sample {
		r := rand.New(rand.NewPCG(7, 1))
		var samples []sample
		for i := range 30 + 180 {
			rss := 300 + 100*max(0, 1-float64(i)/30) + r.NormFloat64()
			samples = append(samples, sample{T: float64(10 * (i + 1)), Warmup: i < warm, RSSMB: rss, HeapMB: 150, LiveMB: 120, Goroutines: 14, OpenFDs: 13})
		}
		return samples
	}
	find := func(fits []Fit, name string) Fit {
		for _, f := range fits {
			if f.Series == name {
				return f
			}
		}
		t.Fatalf("no %s fit in %+v", name, fits)
		return Fit{}
	}
	o := options{collection: "c", rate: 10, duration: 30 * time.Minute, warmupFor: 5 * time.Minute, reportWarmup: 0.2, tolerance: 0.02}
	sum, err := summarize(o, build(30), &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	if f := find(sum.Fits, "rss_mb"); !f.Flat || !sum.Pass {
		t.Fatalf("a transient inside the warm-up failed the gate: %+v, pass %v", f, sum.Pass)
	}
	o.warmupFor = 0
	sum, err = summarize(o, build(0), &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	if f := find(sum.Fits, "rss_mb"); f.Flat || sum.Pass {
		t.Fatalf("a 100 MB drop in the measured run passed the gate: %+v, pass %v", f, sum.Pass)
	}
	if f := find(sum.FitsAfterWarmup, "rss_mb"); !f.Flat {
		t.Fatalf("flat after the report warm-up judged a trend: %+v", f)
	}
}

// TestSamplesAreQuiescent runs the driver against a loopback test server
// whose requests take 5–40 ms at 50 requests per second and checks that
// no request was inside the server whenever /metrics was read, and that
// the traffic still flowed; and that the scrape's own connection was the
// only one open (idle keep-alive connections are closed first).
func TestSamplesAreQuiescent(t *testing.T) {
	var inFlight, served, scrapes, busyScrapes, conns, extraConns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			scrapes.Add(1)
			if inFlight.Load() != 0 {
				busyScrapes.Add(1)
			}
			if conns.Load() != 1 {
				extraConns.Add(1)
			}
			for _, n := range []string{"go_gc_duration_seconds_count", "go_gc_gomemlimit_bytes", "process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "go_goroutines", "process_open_fds", "go_memstats_next_gc_bytes", "go_gc_gogc_percent", "go_memstats_heap_sys_bytes", "go_memstats_heap_released_bytes"} {
				fmt.Fprintf(w, "%s 1\n", n)
			}
			return
		}
		inFlight.Add(1)
		defer inFlight.Add(-1)
		time.Sleep(time.Duration(5+rand.IntN(36)) * time.Millisecond)
		served.Add(1)
		io.WriteString(w, "{}")
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			conns.Add(1)
		case http.StateClosed, http.StateHijacked:
			conns.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	base, err := loopback(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	o := options{base: base, collection: "c", rate: 50, duration: 4 * time.Second, warmupFor: time.Second, sample: 250 * time.Millisecond, pool: 10, reportWarmup: 0.2, tolerance: 0.02}
	sum, err := run(o)
	if err != nil {
		t.Fatal(err)
	}
	if busyScrapes.Load() != 0 {
		t.Fatalf("%d of %d scrapes ran while a request was in flight", busyScrapes.Load(), scrapes.Load())
	}
	if extraConns.Load() != 0 {
		t.Fatalf("%d of %d scrapes found other connections open besides their own", extraConns.Load(), scrapes.Load())
	}
	if sum.Samples < 16 || sum.Requests < 150 || served.Load() < 150 || sum.Errors != 0 {
		t.Fatalf("traffic did not flow: %d samples, %d requests (%d served), %d errors (%s)", sum.Samples, sum.Requests, served.Load(), sum.Errors, sum.FirstError)
	}
}

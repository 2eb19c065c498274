//go:build pproflocal

// Opt-in memory profiling for measuring the server (never in a release
// build): `go build -tags pproflocal ./cmd/quarry`, then
//
//	QUARRY_PPROF=127.0.0.1:6061   serves net/http/pprof on that loopback address
//	QUARRY_PPROF_DIR=/some/dir    writes, after each collection that raises the
//	                              heap goal to a new maximum, peak.heap (the heap
//	                              profile then; the previous one is kept as
//	                              peak2.heap) and a line in goals.log, and in
//	                              mem.log the runtime's memory classes each time
//	                              the resident heap reaches a new maximum
//
// This is how the upload's memory was measured (docs/benchmarks.md, issue
// 15: upload memory, fourth pass).

package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

func init() {
	if a := os.Getenv("QUARRY_PPROF"); a != "" {
		if host, _, err := net.SplitHostPort(a); err != nil || !net.ParseIP(host).IsLoopback() {
			fmt.Fprintf(os.Stderr, "quarry: QUARRY_PPROF must be a loopback host:port, got %q\n", a)
			os.Exit(2)
		}
		go http.ListenAndServe(a, nil)
	}
	dir := os.Getenv("QUARRY_PPROF_DIR")
	if dir == "" {
		return
	}
	runtime.MemProfileRate = 32 << 10 // finer than the default 512 KiB
	go logResident(dir)
	go logGoals(dir)
}

// logResident logs the memory classes whenever the resident heap (total
// minus released) grows by 256 KiB past its maximum.
func logResident(dir string) {
	names := []string{
		"/memory/classes/total:bytes", "/memory/classes/heap/released:bytes",
		"/memory/classes/heap/objects:bytes", "/memory/classes/heap/free:bytes",
		"/memory/classes/heap/unused:bytes", "/gc/heap/goal:bytes", "/gc/cycles/total:gc-cycles",
	}
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	f, err := os.Create(filepath.Join(dir, "mem.log"))
	if err != nil {
		return
	}
	var best uint64
	mb := func(i int) float64 { return float64(s[i].Value.Uint64()) / 1e6 }
	for {
		time.Sleep(2 * time.Millisecond)
		metrics.Read(s)
		resident := s[0].Value.Uint64() - s[1].Value.Uint64()
		if resident > best+256<<10 {
			best = resident
			fmt.Fprintf(f, "%d resident=%.1f objects=%.1f free=%.1f unused=%.1f goal=%.1f gc=%d\n",
				time.Now().UnixMilli(), float64(resident)/1e6, mb(2), mb(3), mb(4), mb(5), s[6].Value.Uint64())
		}
	}
}

// logGoals logs every collection's heap goal and live heap, and writes the
// heap profile after each one that sets a new maximum goal.
func logGoals(dir string) {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	f, err := os.Create(filepath.Join(dir, "goals.log"))
	if err != nil {
		return
	}
	var best, last uint64
	for {
		time.Sleep(5 * time.Millisecond)
		metrics.Read(s)
		goal, n, live := s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
		if n == last {
			continue
		}
		last = n
		fmt.Fprintf(f, "%d gc=%d goal=%.1fMB live=%.1fMB\n", time.Now().UnixMilli(), n, float64(goal)/1e6, float64(live)/1e6)
		if goal <= best || n <= 3 {
			continue
		}
		best = goal
		_ = os.Rename(filepath.Join(dir, "peak.heap"), filepath.Join(dir, "peak2.heap"))
		if h, err := os.Create(filepath.Join(dir, "peak.heap")); err == nil {
			_ = pprof.Lookup("heap").WriteTo(h, 0)
			h.Close()
		}
		fmt.Fprintf(f, "  new max goal %.1fMB\n", float64(goal)/1e6)
	}
}

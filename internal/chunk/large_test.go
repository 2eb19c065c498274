package chunk

import (
	"flag"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/quarry-rag/quarry/internal/base"
)

var large = flag.Bool("large", false, "TestLargeDocuments: use 50 MB documents instead of 10 MB")

// TestLargeDocuments chunks large documents (10 MB, or 50 MB with
// -large) of several pathological shapes. Each must take time linear in
// its length (no more than 3× slower per byte than a document a tenth the
// size; a quadratic rescan would be 10× or more) and, measured with the
// garbage collector kept tight, need no more live memory than the text,
// the chunks returned and a bounded remainder.
func TestLargeDocuments(t *testing.T) {
	if testing.Short() {
		t.Skip("large documents; skipped with -short")
	}
	big := 10 << 20
	if *large {
		big = 50 << 20
	}
	prose := bigText(t, 4<<20)
	shapes := []struct {
		name string
		unit string
	}{
		{"prose", prose},
		{"one line, no stops", "lorem ipsum dolor sit amet "},
		{"CJK without stops", "東京大学の研究者が新しい方法を開発"},
		{"blank lines only", "x\n\n\n"},
		{"tiny sentences", "A. B! "},
		{"punctuation, no words", "-- ** !! "},
	}
	for _, sh := range shapes {
		for _, cfg := range []Config{{}, {Overlap: 32}, {Strategy: StrategyFixed}} {
			c := mustNew(t, cfg)
			small := &base.Document{ID: "s", Text: repeatTo(sh.unit, big/10)}
			doc := &base.Document{ID: "l", Text: repeatTo(sh.unit, big)}
			// Best of three, interleaved: a load spike on a shared machine
			// must not pass for quadratic time.
			tSmall, tLarge := time.Duration(1<<62), time.Duration(1<<62)
			for range 3 {
				tSmall = min(tSmall, timeChunk(c, small))
				tLarge = min(tLarge, timeChunk(c, doc))
				if tLarge <= 10*tSmall || tLarge <= time.Second {
					break // clearly linear (or fast) already
				}
			}
			extra, chunks := peakExtra(c, doc)
			cfg.EnsureDefaults()
			t.Logf("%-22s %-9s overlap=%-3d %d MB in %v (%.0f MB/s), %d chunks, peak live memory beyond text and chunks %.1f MB",
				sh.name, cfg.Strategy, cfg.Overlap, big>>20, tLarge.Round(time.Millisecond), float64(big)/tLarge.Seconds()/1e6,
				chunks, float64(extra)/1e6)
			if tLarge > 30*tSmall && tLarge > time.Second {
				t.Errorf("%s %+v: %d MB took %v, a tenth of it %v: not linear", sh.name, cfg, big>>20, tLarge, tSmall)
			}
			if extra > 16<<20 {
				t.Errorf("%s %+v: peak live memory %d bytes beyond the text and chunks", sh.name, cfg, extra)
			}
		}
	}
}

func timeChunk(c Chunker, doc *base.Document) time.Duration {
	runtime.GC()
	start := time.Now()
	c.Chunk(doc)
	return time.Since(start)
}

// peakExtra chunks doc with GOGC=5 while sampling the live heap after every
// collection, and returns the peak minus the heap before (which holds the
// text) minus what the returned chunks account for.
func peakExtra(c Chunker, doc *base.Document) (extra int64, chunks int) {
	old := debug.SetGCPercent(5)
	defer debug.SetGCPercent(old)
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	base0 := int64(sample[0].Value.Uint64())
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(s)
			if v := int64(s[0].Value.Uint64()); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	cs := c.Chunk(doc)
	runtime.GC()
	close(stop)
	<-done
	return peak.Load() - base0 - int64(len(cs))*chunkOverhead, len(cs)
}

// chunkOverhead bounds the bytes a returned chunk costs: the struct, as
// much again for the growth of the result slice, and its ID string.
const chunkOverhead = 2*int64(unsafe.Sizeof(base.Chunk{})) + 32

func repeatTo(s string, n int) string {
	return strings.Repeat(s, n/len(s)+1)[:n]
}

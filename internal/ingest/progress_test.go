package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressNotTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	p := NewProgress(f, "ingest", 10)
	for i := 0; i < 10; i++ {
		p.Add(1)
	}
	p.Done()
	f.Close()
	if b, _ := os.ReadFile(f.Name()); len(b) != 0 {
		t.Fatalf("wrote %q to a non-terminal", b)
	}
	if p.Count() != 10 {
		t.Fatalf("count %d", p.Count())
	}
	NewProgress(nil, "x", 0).Add(1) // nil file: silent
}

func TestProgressDraw(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var out syncBuf
	p := newProgress(&out, "docs", 100, 60, clk.now)

	clk.advance(time.Second)
	p.Add(10) // first Add draws
	first := out.String()
	if !strings.HasPrefix(first, "\rdocs [") || !strings.Contains(first, " 10/100  10.0% 10.0/s ETA 9s") {
		t.Fatalf("first draw %q", first)
	}
	if n := len(strings.TrimSuffix(strings.TrimPrefix(first, "\r"), "\x1b[K")); n > 60 {
		t.Errorf("line of %d columns exceeds width 60", n)
	}
	// Throttled: more Adds within 100ms draw nothing.
	for i := 0; i < 50; i++ {
		clk.advance(time.Millisecond)
		p.Add(1)
	}
	if out.String() != first {
		t.Fatalf("redrew within the throttle interval: %q", out.String())
	}
	clk.advance(100 * time.Millisecond)
	p.Add(1)
	if strings.Count(out.String(), "\r") != 2 || !strings.Contains(out.String(), " 61/100") {
		t.Fatalf("second draw missing: %q", out.String())
	}
	p.Done()
	p.Done()
	p.Add(1) // after Done: nothing
	s := out.String()
	if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 || !strings.Contains(s, "61/100") {
		t.Fatalf("final output %q", s)
	}
}

func TestProgressUnknownTotal(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	var out syncBuf
	p := newProgress(&out, "lines", 0, 80, clk.now)
	clk.advance(2 * time.Second)
	p.Add(5000)
	p.Done()
	if s := out.String(); !strings.Contains(s, "lines 5000 2500/s 2s") || strings.Contains(s, " [") || strings.Contains(s, "ETA") {
		t.Fatalf("output %q", s)
	}
}

func TestProgressConcurrent(t *testing.T) {
	var out syncBuf
	p := newProgress(&out, "c", 8000, 80, time.Now)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				p.Add(1)
			}
		}()
	}
	wg.Wait()
	p.Done()
	if p.Count() != 8000 || !strings.HasSuffix(out.String(), "\n") {
		t.Fatalf("count %d, output %q", p.Count(), out.String())
	}
}

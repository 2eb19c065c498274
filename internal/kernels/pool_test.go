package kernels

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestPoolRunsEveryIndexOnce(t *testing.T) {
	p := NewPool(4)
	defer p.Close()
	for _, n := range []int{0, 1, 3, 4, 5, 1000} {
		hits := make([]atomic.Int32, n)
		p.ParallelFor(n, func(i int) { hits[i].Add(1) })
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("n=%d: index %d ran %d times", n, i, h)
			}
		}
	}
}

func TestPoolNestedAndConcurrent(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	var total atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.ParallelFor(8, func(i int) {
				p.ParallelFor(8, func(j int) { total.Add(1) })
			})
		}()
	}
	wg.Wait()
	if total.Load() != 4*8*8 {
		t.Fatalf("total %d", total.Load())
	}
}

func TestPoolUsesWorkers(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	// Two items that each wait for the other can only finish if they run
	// on two goroutines at once.
	for try := 0; ; try++ {
		var arrived atomic.Int32
		ok := make(chan bool, 2)
		p.ParallelFor(2, func(i int) {
			arrived.Add(1)
			for spin := 0; spin < 1e7; spin++ {
				if arrived.Load() == 2 {
					ok <- true
					return
				}
			}
			ok <- false
		})
		if <-ok && <-ok {
			return
		}
		if try == 20 {
			t.Fatal("items never ran concurrently")
		}
	}
}

func TestPoolCloseAndNil(t *testing.T) {
	p := NewPool(3)
	if p.Size() != 3 {
		t.Fatalf("size %d", p.Size())
	}
	p.Close()
	p.Close() // idempotent
	n := 0
	p.ParallelFor(5, func(int) { n++ }) // serial after Close: no race on n
	if n != 5 {
		t.Fatalf("after close ran %d", n)
	}
	var nilPool *Pool
	nilPool.ParallelFor(3, func(int) { n++ })
	if n != 8 || nilPool.Size() != 1 {
		t.Fatalf("nil pool ran %d", n)
	}
}

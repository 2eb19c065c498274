package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool is a bounded set of worker goroutines that run the index ranges of
// ParallelFor. It is owned by its creator, who must call Close; Close stops
// every worker and waits for it to exit.
//
// The goroutine calling ParallelFor always takes part in the work, and work is
// only handed to workers that are idle at that moment. A ParallelFor issued
// from inside another ParallelFor (nested parallelism) therefore never
// deadlocks: when every worker is busy the caller simply runs all items
// itself. At most Size() goroutines per concurrent caller run items.
//
// A nil *Pool is valid and runs everything on the calling goroutine.
type Pool struct {
	size    int
	tasks   chan *job // unbuffered: a send succeeds only when a worker is idle
	wg      sync.WaitGroup
	closeMu sync.Mutex // closeMu protects closed and serialises Close.
	closed  bool
	done    chan struct{}
}

// job is one ParallelFor call. Items are claimed with next; wg counts items
// not yet finished. A worker that picks the job up after every item has been
// claimed returns at once.
type job struct {
	n    int
	next atomic.Int64
	fn   func(i int)
	wg   sync.WaitGroup
}

func (j *job) run() {
	for {
		i := int(j.next.Add(1) - 1)
		if i >= j.n {
			return
		}
		j.fn(i)
		j.wg.Done()
	}
}

// NewPool starts a pool that runs up to n items at once (the caller plus n-1
// workers). n <= 0 means runtime.GOMAXPROCS(0).
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &Pool{size: n, tasks: make(chan *job), done: make(chan struct{})}
	for w := 1; w < n; w++ {
		p.wg.Add(1)
		go p.worker()
	}
	return p
}

func (p *Pool) worker() {
	defer p.wg.Done()
	for {
		select {
		case j := <-p.tasks:
			j.run()
		case <-p.done:
			return
		}
	}
}

// Size is the pool's parallelism (workers plus the calling goroutine); 1 for
// a nil pool.
func (p *Pool) Size() int {
	if p == nil {
		return 1
	}
	return p.size
}

// ParallelFor calls fn(i) for every i in [0, n), spread over the idle
// workers and the calling goroutine, and returns when all calls have
// returned. fn must be safe to call concurrently for distinct i. After Close,
// or on a nil pool, the items run on the calling goroutine.
func (p *Pool) ParallelFor(n int, fn func(i int)) {
	if n <= 0 {
		return
	}
	if p == nil || p.size == 1 || n == 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	j := &job{n: n, fn: fn}
	j.wg.Add(n)
	helpers := min(n, p.size) - 1
offer:
	for h := 0; h < helpers; h++ {
		select {
		case p.tasks <- j:
		case <-p.done:
			break offer
		default:
			break offer // nobody idle: the caller does the rest
		}
	}
	j.run()
	j.wg.Wait()
}

// Close stops the workers and waits for them to exit. It is idempotent.
// Items already handed to a worker finish first.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	close(p.done)
	p.wg.Wait()
}

package embed

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ErrOverloaded: a Batcher's queue is full. The call was not queued; the
// caller should retry after OverloadedError.RetryAfter.
var ErrOverloaded = errors.New("embed: overloaded")

// OverloadedError is the error a full Batcher returns. It matches
// ErrOverloaded with errors.Is and tells the caller when to retry.
type OverloadedError struct {
	Queue      int           // the queue bound that was hit
	RetryAfter time.Duration // a hint for the client
}

func (e *OverloadedError) Error() string {
	return fmt.Sprintf("embed: overloaded: %d requests already queued; retry after %v", e.Queue, e.RetryAfter)
}

// Is makes errors.Is(err, ErrOverloaded) true.
func (e *OverloadedError) Is(target error) bool { return target == ErrOverloaded }

// Overloaded reports that the error is a back-pressure refusal; the HTTP
// server recognises errors by this method (it does not import embed).
func (e *OverloadedError) Overloaded() time.Duration { return e.RetryAfter }

// BatchOptions configure a Batcher. The zero value is valid; every zero
// field means its default.
type BatchOptions struct {
	// Window is the longest a batch waits for more calls after its first
	// arrives. Default 2ms. A batch waits only while recent batches held
	// more than one call, so that a lone caller never waits.
	Window time.Duration
	// MaxBatch is the most texts sent to the embedder at once; calls with
	// more texts than this bypass the queue. Default 16: since the local
	// encoder packs a batch without padding, a batch costs no more per text
	// than its texts one by one, and 16 gave the best throughput and p99 at
	// 32 clients (1.39–1.45× unbatched, against 1.37–1.40× at 8; 32 was
	// slower; docs/benchmarks.md, "Dynamic batching with packed batches").
	MaxBatch int
	// MaxQueue bounds the calls waiting for a batch; beyond it Embed
	// returns an *OverloadedError at once. Default 256.
	MaxQueue int
	// RetryAfter is the hint returned with an *OverloadedError. Default 1s.
	RetryAfter time.Duration
	// Workers is how many batches may run at once. Default GOMAXPROCS:
	// the local encoder's cost per text does not fall with the batch size
	// and a 16-token query now runs at full speed on one core, so one
	// batch at a time left a core idle (0.58× the unbatched throughput at
	// 32 clients); one batch per core keeps both busy and halves p99
	// (docs/benchmarks.md, "Dynamic batching after the 16-row kernel").
	Workers int
}

func (o *BatchOptions) ensureDefaults() {
	if o.Window <= 0 {
		o.Window = 2 * time.Millisecond
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 16
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = 256
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
}

// Batcher wraps an Embedder so that concurrent small calls (query
// embeddings) are run together: calls queue, a worker collects them for
// at most Window or until MaxBatch texts, embeds each kind in one call to
// the inner embedder and hands every caller its vectors. A full queue
// refuses new calls with an *OverloadedError instead of letting latency
// grow without bound.
//
// It is safe for concurrent use. NewBatcher starts one goroutine; Close
// stops it after the queued calls are served. Close does not close the
// inner embedder.
type Batcher struct {
	inner Embedder
	opts  BatchOptions

	queue    chan *batchCall
	quit     chan struct{}
	done     chan struct{}
	closeMu  sync.RWMutex // held for reading while enqueueing; Close takes it to stop enqueues
	closed   bool         // protected by closeMu
	inFlight atomic.Int64 // calls inside Embed that use the queue
	workers  sync.WaitGroup

	batches atomic.Int64
	calls   atomic.Int64
}

type batchCall struct {
	ctx   context.Context
	texts []string
	kind  Kind
	done  chan batchResult // buffered 1: the worker never blocks on it
}

type batchResult struct {
	vecs [][]float32
	err  error
}

var _ Embedder = (*Batcher)(nil)

// NewBatcher wraps inner.
func NewBatcher(inner Embedder, opts BatchOptions) *Batcher {
	opts.ensureDefaults()
	b := &Batcher{
		inner: inner,
		opts:  opts,
		queue: make(chan *batchCall, opts.MaxQueue),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for range opts.Workers {
		b.workers.Go(b.run)
	}
	go func() {
		b.workers.Wait()
		close(b.done)
	}()
	return b
}

// Embed implements Embedder.
func (b *Batcher) Embed(ctx context.Context, texts []string, kind Kind) ([][]float32, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	if len(texts) == 0 || len(texts) > b.opts.MaxBatch {
		return b.inner.Embed(ctx, texts, kind)
	}
	c := &batchCall{ctx: ctx, texts: texts, kind: kind, done: make(chan batchResult, 1)}
	b.closeMu.RLock()
	if b.closed {
		b.closeMu.RUnlock()
		return nil, ErrClosed
	}
	b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	select {
	case b.queue <- c:
		b.closeMu.RUnlock()
	default:
		b.closeMu.RUnlock()
		return nil, &OverloadedError{Queue: b.opts.MaxQueue, RetryAfter: b.opts.RetryAfter}
	}
	select {
	case r := <-c.done:
		return r.vecs, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run is the worker: it collects a batch, embeds it, and repeats until
// Close, then serves what is still queued.
func (b *Batcher) run() {
	last := 0 // size of this worker's last batch
	batch := make([]*batchCall, 0, b.opts.MaxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var first *batchCall
		select {
		case first = <-b.queue:
		case <-b.quit:
			for {
				select {
				case c := <-b.queue:
					b.exec([]*batchCall{c})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		n := len(first.texts)
		// Take what is already queued, then wait for more only if recent
		// batches were shared or callers are on their way in.
	collect:
		for n < b.opts.MaxBatch {
			select {
			case c := <-b.queue:
				if n+len(c.texts) > b.opts.MaxBatch {
					b.exec(batch)
					batch, n = append(batch[:0], c), len(c.texts)
					continue
				}
				batch, n = append(batch, c), n+len(c.texts)
				continue
			default:
			}
			if last <= 1 && b.inFlight.Load() <= int64(len(batch)) {
				break // a lone caller: do not make it wait
			}
			if len(batch) >= last && b.inFlight.Load() <= int64(len(batch)) {
				break // as many as last time and nobody else on the way
			}
			timer.Reset(b.opts.Window)
			for n < b.opts.MaxBatch {
				select {
				case c := <-b.queue:
					if n+len(c.texts) > b.opts.MaxBatch {
						timer.Stop()
						b.exec(batch)
						batch, n = append(batch[:0], c), len(c.texts)
						continue collect
					}
					batch, n = append(batch, c), n+len(c.texts)
				case <-timer.C:
					break collect
				}
			}
			timer.Stop()
		}
		last = len(batch)
		b.exec(batch)
	}
}

// exec embeds one batch, one inner call per kind, and answers its calls.
// Calls whose context is already done are answered with its error and
// not embedded.
func (b *Batcher) exec(batch []*batchCall) {
	b.batches.Add(1)
	b.calls.Add(int64(len(batch)))
	for _, kind := range []Kind{Query, Passage} {
		var texts []string
		var calls []*batchCall
		for _, c := range batch {
			if c.kind != kind {
				continue
			}
			if err := c.ctx.Err(); err != nil {
				c.done <- batchResult{err: err}
				continue
			}
			calls = append(calls, c)
			texts = append(texts, c.texts...)
		}
		if len(calls) == 0 {
			continue
		}
		// The batch outlives any one caller: run it without their
		// deadlines (each caller still stops waiting at its own).
		vecs, err := b.inner.Embed(context.Background(), texts, kind)
		if err == nil && len(vecs) != len(texts) {
			err = fmt.Errorf("embed: %s returned %d vectors for %d texts", b.inner.Name(), len(vecs), len(texts))
		}
		off := 0
		for _, c := range calls {
			if err != nil {
				c.done <- batchResult{err: err}
				continue
			}
			c.done <- batchResult{vecs: vecs[off : off+len(c.texts) : off+len(c.texts)]}
			off += len(c.texts)
		}
	}
}

// BatchStats count a Batcher's work.
type BatchStats struct {
	Batches int64 // inner calls made for queued calls
	Calls   int64 // calls served from the queue
}

// BatchStats returns the counters; Calls/Batches is the mean batch size.
func (b *Batcher) BatchStats() BatchStats {
	return BatchStats{Batches: b.batches.Load(), Calls: b.calls.Load()}
}

// Dim implements Embedder.
func (b *Batcher) Dim() int { return b.inner.Dim() }

// Name implements Embedder: the inner embedder's name.
func (b *Batcher) Name() string { return b.inner.Name() }

// MaxTokens implements Embedder.
func (b *Batcher) MaxTokens() int { return b.inner.MaxTokens() }

// Close stops accepting calls, serves the queued ones and stops the
// worker. It does not close the inner embedder. Later calls return
// ErrClosed.
func (b *Batcher) Close() error {
	b.closeMu.Lock()
	if b.closed {
		b.closeMu.Unlock()
		return nil
	}
	b.closed = true
	b.closeMu.Unlock()
	close(b.quit)
	<-b.done
	return nil
}

package quarry

import (
	"fmt"
	"time"

	"github.com/quarry-rag/quarry/internal/embed"
)

// ErrOverloaded is returned (wrapped) by a search or question whose query
// embedding was refused because the model's queue was full; retry later.
// The server answers it 503 with a Retry-After header.
var ErrOverloaded = embed.ErrOverloaded

// QueryBatching configures the dynamic batching of query embeddings: the
// query-side calls of all collections that share an embedding model wait
// at most Window for each other and run as batches of at most MaxBatch
// texts, one batch per core per model. A lone caller never waits. The
// zero value is on with the defaults, which docs/benchmarks.md ("Dynamic
// batching with packed batches") measured with all-MiniLM-L6-v2 on two
// cores: 1.39–1.51× the throughput of unbatched calls at 32 and 128
// concurrent query embeddings with a quarter of their p99, equal at 1.
// Passage embedding (ingestion) is never batched this way.
type QueryBatching struct {
	// Off turns batching off: every query is embedded by its own call.
	Off bool
	// Window is how long a batch waits for more calls. Default 2ms.
	Window time.Duration
	// MaxBatch is the most texts in one batch. Default 16.
	MaxBatch int
	// MaxQueue bounds the calls waiting per model; beyond it a search
	// fails at once with ErrOverloaded. Default 256.
	MaxQueue int
	// RetryAfter is the delay suggested to a refused caller. Default 1s.
	RetryAfter time.Duration
}

// query returns spec's embedder for query-side calls: the shared model
// behind a Batcher unless batching is off.
func (c *embedderCache) query(spec string) (embed.Embedder, error) {
	e, err := c.get(spec)
	if err != nil || c.batch.Off {
		return e, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil { // closed meanwhile
		return nil, fmt.Errorf("%w: engine closed", ErrClosed)
	}
	if b, ok := c.q[spec]; ok {
		return b, nil
	}
	if c.q == nil {
		c.q = make(map[string]*embed.Batcher)
	}
	b := embed.NewBatcher(e, embed.BatchOptions{Window: c.batch.Window, MaxBatch: c.batch.MaxBatch,
		MaxQueue: c.batch.MaxQueue, RetryAfter: c.batch.RetryAfter})
	c.q[spec] = b
	return b, nil
}

// queryEmbedder is the pipeline's embedder: the collection's model, batched
// across concurrent queries (Options.QueryBatching).
func (c *Collection) queryEmbedder() (embed.Embedder, error) {
	if c.cfg.Embedding == "" {
		return nil, nil
	}
	emb, err := c.engine.embedders.query(c.cfg.Embedding)
	if err != nil {
		return nil, fmt.Errorf("quarry: collection %q: embedding model %q: %w", c.name, c.cfg.Embedding, err)
	}
	return emb, nil
}

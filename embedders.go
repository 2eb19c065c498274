package quarry

import (
	"errors"
	"io"
	"sync"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/outbound"
	"github.com/quarry-rag/quarry/internal/rerank"
)

// embedderCache shares one loaded embedder per model spec across the
// engine's collections: a local model holds its weights once.
type embedderCache struct {
	apiKey string           // for HTTP embedders; from Options.EmbeddingAPIKey
	urls   *outbound.Policy // the URLs apiKey may go to; nil = any
	batch  QueryBatching    // for query-side calls; from Options.QueryBatching
	mu     sync.Mutex
	m      map[string]embed.Embedder
	q      map[string]*embed.Batcher // query-side batchers, by spec
}

func (c *embedderCache) get(spec string) (embed.Embedder, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[spec]; ok {
		return e, nil
	}
	e, err := embed.ParseWith(spec, &embed.ParseOptions{HTTP: embed.HTTPOptions{APIKey: credentialFor(c.urls, specURL(spec), c.apiKey)}})
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = make(map[string]embed.Embedder)
	}
	c.m[spec] = e
	return e, nil
}

func (c *embedderCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, b := range c.q {
		errs = append(errs, b.Close()) // before the models they call
	}
	c.q = nil
	for _, e := range c.m {
		if cl, ok := e.(io.Closer); ok {
			errs = append(errs, cl.Close())
		}
	}
	c.m = nil
	return errors.Join(errs...)
}

// rerankerCache shares one loaded cross-encoder per model across
// collections.
type rerankerCache struct {
	mu sync.Mutex
	m  map[string]*rerank.CrossEncoder
}

func (c *rerankerCache) get(name string) (*rerank.CrossEncoder, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.m[name]; ok {
		return r, nil
	}
	r, err := rerank.Load(name)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = make(map[string]*rerank.CrossEncoder)
	}
	c.m[name] = r
	return r, nil
}

func (c *rerankerCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, r := range c.m {
		errs = append(errs, r.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

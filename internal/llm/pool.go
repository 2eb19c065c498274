package llm

import (
	"github.com/quarry-rag/quarry/internal/outbound"

	"net/http"
	"sync"
	"time"
)

// Pool shares one client per provider, server, model, key and timeout
// among an engine's collections: a client's state is its circuit breaker,
// which must see every call to its server and model. The clients share
// the pool's HTTP transport, whose idle connections Close releases.
type Pool struct {
	http *http.Client // no overall timeout: Options.Timeout bounds each call
	// mu protects the following fields.
	mu struct {
		sync.Mutex
		m      map[poolKey]Chat
		closed bool // after Close, clients are made per call and not kept
	}
}

type poolKey struct {
	provider      Provider
	url           string
	model, apiKey string
	timeout       time.Duration
}

// NewPool returns an empty pool with its own transport.
func NewPool() *Pool {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &Pool{http: &http.Client{Transport: tr, CheckRedirect: outbound.CheckRedirect}} // redirects stay on the configured host
}

// Get returns the client for s, creating it on first use. s must have
// its defaults (Settings.EnsureDefaults).
func (p *Pool) Get(s *Settings) Chat {
	k := poolKey{s.Provider, BaseURL(s.URL), s.Model, s.APIKey, s.Timeout}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.mu.m[k]; ok {
		return c
	}
	opts := &Options{Timeout: s.Timeout, APIKey: s.APIKey, HTTPClient: p.http}
	var c Chat
	if s.Provider == ProviderOllama {
		c = NewOllama(k.url, opts)
	} else {
		c = NewOpenAI(k.url, opts)
	}
	if p.mu.closed {
		return c
	}
	if p.mu.m == nil {
		p.mu.m = make(map[poolKey]Chat)
	}
	p.mu.m[k] = c
	return c
}

// Len is the number of clients kept.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.mu.m)
}

// Close forgets the clients and closes the transport's idle connections.
// A call still running keeps its connection until it ends.
func (p *Pool) Close() {
	p.mu.Lock()
	p.mu.m, p.mu.closed = nil, true
	p.mu.Unlock()
	p.http.CloseIdleConnections()
}

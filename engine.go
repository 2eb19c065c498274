package quarry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/quarry-rag/quarry/internal/outbound"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/obs"
	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/vfs"
)

// Engine owns a data directory of collections. Create it with Open and
// release it with Close.
type Engine struct {
	dir     string
	opts    *Options
	metrics *obs.Metrics

	// mu protects the following fields. It is never held across I/O:
	// opening a collection (disk, network) runs outside it, registered in
	// opening so that concurrent requests for that collection share it.
	mu struct {
		sync.Mutex
		cols    map[string]*Collection
		opening map[string]*openCall
		// broken holds the collections whose store Open found damaged
		// (ErrCorrupt): they answer ErrUnavailable until deleted.
		broken map[string]error
		closed bool
	}
	opens     sync.WaitGroup // opens in flight; Close waits for them
	embedders embedderCache
	rerankers rerankerCache
	// guardLocal is the prompt-injection detector's own encoder, opened
	// on first use (guardconfig.go).
	guardLocal localGuard

	urls *outbound.Policy // from Options.AllowURLs; nil = unrestricted

	llm        *obs.LLM  // generation collectors, registered once with opts.Registerer
	llmClients *llm.Pool // language-model clients shared by the collections
}

// Open opens (creating it if needed) the data directory dir and every
// collection in it. A nil opts means defaults. A collection whose store is
// damaged (ErrCorrupt: bbolt cannot open it) does not fail Open: it
// answers ErrUnavailable and is listed by Unavailable.
func Open(dir string, opts *Options) (*Engine, error) {
	if opts != nil {
		o := *opts
		opts = &o
	}
	opts = opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Store == nil {
		opts.Store, _ = opts.storeOf() // checked by Validate
	}
	if err := os.MkdirAll(filepath.Join(dir, "collections"), 0o755); err != nil {
		return nil, fmt.Errorf("quarry: open %s: %w", dir, err)
	}
	e := &Engine{dir: dir, opts: opts, metrics: obs.New(opts.Registerer),
		llm: obs.NewLLM(opts.Registerer), llmClients: llm.NewPool()}
	e.embedders.apiKey = opts.EmbeddingAPIKey
	e.embedders.batch = opts.QueryBatching
	urls, err := opts.urlPolicy()
	if err != nil {
		return nil, err
	}
	e.urls = urls
	e.embedders.urls = e.urls
	e.mu.cols = make(map[string]*Collection)
	e.mu.opening = make(map[string]*openCall)
	e.mu.broken = make(map[string]error)
	entries, err := os.ReadDir(filepath.Join(dir, "collections"))
	if err != nil {
		return nil, fmt.Errorf("quarry: open %s: %w", dir, err)
	}
	ctx := context.Background()
	for _, ent := range entries {
		if !ent.IsDir() || validateCollectionName(ent.Name()) != nil {
			continue
		}
		cfg, err := readCollectionConfig(e.collectionDir(ent.Name()))
		if err != nil {
			e.Close()
			return nil, err
		}
		c, err := openCollection(ctx, e, ent.Name(), cfg)
		if errors.Is(err, store.ErrCorrupt) || errors.Is(err, ErrCorrupt) {
			// One damaged store does not keep the others from serving.
			e.mu.broken[ent.Name()] = err
			continue
		}
		if err != nil {
			e.Close()
			return nil, err
		}
		e.mu.cols[ent.Name()] = c
	}
	return e, nil
}

func (e *Engine) collectionDir(name string) string {
	return filepath.Join(e.dir, "collections", name)
}

// Close closes every collection, writing index snapshots so the next Open
// is fast. It waits for collection opens in flight. It is safe to call
// more than once.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.mu.closed {
		e.mu.Unlock()
		return nil
	}
	e.mu.closed = true
	e.mu.Unlock()
	e.opens.Wait() // an open that ends now closes what it opened
	e.mu.Lock()
	cols := e.mu.cols
	e.mu.cols = map[string]*Collection{}
	e.mu.Unlock()
	var errs []error
	for _, c := range cols {
		errs = append(errs, c.close())
	}
	errs = append(errs, e.embedders.close(), e.rerankers.close(), e.guardLocal.close())
	e.llmClients.Close()
	return errors.Join(errs...)
}

// Ready returns nil while the engine is open and ErrClosed after Close.
func (e *Engine) Ready() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.closed {
		return ErrClosed
	}
	return nil
}

// ReadyContext is Ready plus a probe of every open collection's storage
// backend that can be probed (Weaviate's readiness endpoint): it reports the
// first backend that does not answer within ctx. The embedded backend is
// always ready while the engine is open.
func (e *Engine) ReadyContext(ctx context.Context) error {
	e.mu.Lock()
	if e.mu.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	var probes []store.ReadyProber
	var names []string
	for name, c := range e.mu.cols {
		if p, ok := c.backend.(store.ReadyProber); ok {
			probes, names = append(probes, p), append(names, name)
		}
	}
	e.mu.Unlock()
	for i, p := range probes {
		if err := p.Ready(ctx); err != nil {
			return fmt.Errorf("quarry: collection %q: storage backend not ready: %w", names[i], err)
		}
	}
	return nil
}

// openCall is one open of a collection in flight: concurrent requests for
// that collection wait for it rather than open it again.
type openCall struct {
	done    chan struct{}
	create  bool // the open creates the collection when it does not exist
	c       *Collection
	created bool
	err     error
}

// openFunc opens (or with create, creates) a collection; it returns a nil
// Collection when there is none to open.
type openFunc func(ctx context.Context) (c *Collection, created bool, err error)

// acquire returns the open collection name or opens it with open, outside
// the engine's lock: one open per collection at a time, which every
// concurrent caller shares (a caller that needs the collection created
// retries after an open that only looked). Each caller waits within its
// own ctx; the open itself is not cancelled by a caller going away, so
// the others still get it. created is true for the caller whose open
// created the collection.
func (e *Engine) acquire(ctx context.Context, name string, create bool, open openFunc) (*Collection, bool, error) {
	for {
		e.mu.Lock()
		if e.mu.closed {
			e.mu.Unlock()
			return nil, false, ErrClosed
		}
		if c, ok := e.mu.cols[name]; ok {
			e.mu.Unlock()
			return c, false, nil
		}
		if err, ok := e.mu.broken[name]; ok {
			e.mu.Unlock()
			return nil, false, e.unavailable(name, err)
		}
		call, inFlight := e.mu.opening[name]
		mine := !inFlight
		if mine {
			call = &openCall{done: make(chan struct{}), create: create}
			e.mu.opening[name] = call
			e.opens.Add(1)
			go e.runOpen(context.WithoutCancel(ctx), name, call, open)
		}
		e.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		if call.err != nil || call.c != nil || !create || call.create {
			return call.c, mine && call.created, call.err
		}
		// The open in flight only looked for the collection and found none;
		// this caller creates it.
	}
}

// runOpen runs one open and publishes its result. It is the goroutine
// acquire starts; Close waits for it.
func (e *Engine) runOpen(ctx context.Context, name string, call *openCall, open openFunc) {
	defer e.opens.Done()
	c, created, err := open(ctx)
	e.mu.Lock()
	delete(e.mu.opening, name)
	if c != nil && e.mu.closed {
		err = errors.Join(ErrClosed, c.close())
		c, created = nil, false
	}
	if c != nil {
		e.mu.cols[name] = c
	}
	call.c, call.created, call.err = c, created, err
	e.mu.Unlock()
	close(call.done)
}

// Collection returns an existing collection or an error wrapping ErrNotFound.
// On a shared backend (WeaviateStore) a collection another process created
// is looked up and adopted; that lookup runs outside the engine's lock and
// ends with ctx.
func (e *Engine) Collection(ctx context.Context, name string) (*Collection, error) {
	c, _, err := e.acquire(ctx, name, false, func(ctx context.Context) (*Collection, bool, error) {
		c, err := e.adoptShared(ctx, name)
		return c, false, err
	})
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("collection %q: %w", name, ErrNotFound)
	}
	return c, nil
}

// unavailable is the error of a collection whose store could not be
// opened: ErrUnavailable, with the cause's message, the collection's
// folder left out (the message reaches HTTP clients).
func (e *Engine) unavailable(name string, cause error) error {
	msg := strings.ReplaceAll(cause.Error(), e.collectionDir(name), "the collection's folder")
	return fmt.Errorf("collection %q: %w: its store could not be opened (%s); delete the collection or restore it from a backup", name, ErrUnavailable, msg)
}

// Unavailable returns the collections that exist but could not be opened
// (their stores are damaged), by name, each with its error (wrapping
// ErrUnavailable). They are not in Collections.
func (e *Engine) Unavailable() map[string]error {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]error, len(e.mu.broken))
	for n, err := range e.mu.broken {
		out[n] = e.unavailable(n, err)
	}
	return out
}

// Collections returns the names of all collections, sorted.
func (e *Engine) Collections() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.mu.cols))
	for n := range e.mu.cols {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// EnsureCollection returns the named collection, creating it with the
// engine's default configuration if it does not exist (writes create
// collections implicitly, as in Elasticsearch and Weaviate).
func (e *Engine) EnsureCollection(ctx context.Context, name string) (*Collection, error) {
	c, _, err := e.createCollection(ctx, name, nil)
	return c, err
}

// CreateCollection creates a collection with cfg (nil = defaults). If it
// exists already, cfg must equal its configuration (after defaults) or the
// call fails with ErrInvalid naming the differing field: settings that
// shape the index cannot change under existing data. created reports
// whether the collection is new.
func (e *Engine) CreateCollection(ctx context.Context, name string, cfg *CollectionConfig) (c *Collection, created bool, err error) {
	if cfg == nil {
		cfg = &CollectionConfig{}
	}
	return e.createCollection(ctx, name, cfg)
}

func (e *Engine) createCollection(ctx context.Context, name string, cfg *CollectionConfig) (*Collection, bool, error) {
	if err := validateCollectionName(name); err != nil {
		return nil, false, err
	}
	var want CollectionConfig
	if cfg != nil {
		want = *cfg
		if err := want.Validate(); err != nil {
			return nil, false, err
		}
	} else {
		want = e.opts.DefaultCollection
	}
	want.EnsureDefaults()
	if err := e.checkOutbound(&want); err != nil {
		return nil, false, err
	}
	c, created, err := e.acquire(ctx, name, true, func(ctx context.Context) (*Collection, bool, error) {
		// Another process may have created it in the shared backend:
		// take its configuration rather than impose this one's default.
		if c, err := e.adoptShared(ctx, name); c != nil || err != nil {
			return c, false, err
		}
		c, err := e.newCollection(ctx, name, want)
		return c, c != nil, err
	})
	if err != nil {
		return nil, false, err
	}
	if !created && cfg != nil && c.cfg != want {
		return nil, false, invalidf("config", "collection %q exists with a different configuration (%s); delete and recreate it to change settings", name, describeDiff(c.cfg, want))
	}
	return c, created, nil
}

// newCollection creates a collection's folder, configuration and store.
// It runs outside the engine's lock (see acquire).
func (e *Engine) newCollection(ctx context.Context, name string, want CollectionConfig) (*Collection, error) {
	if want.Embedding != "" {
		// Load the model now, so that a missing model is an error at
		// creation, not at the first write.
		if _, err := e.embedders.get(want.Embedding); err != nil {
			return nil, invalidf("embedding", "%v", err)
		}
	}
	if want.Reranker != "" {
		if _, err := e.rerankers.get(want.Reranker); err != nil {
			return nil, invalidf("reranker", "%v", err)
		}
	}
	dir := e.collectionDir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeCollectionConfig(dir, want); err != nil {
		return nil, err
	}
	return openCollection(ctx, e, name, want)
}

// describeDiff names the first field of CollectionConfig that differs, by
// its JSON name, with the nested field for a settings group:
// `llm differs (llm.model: "a" here, "b" asked)`. It walks every field, so
// a field added later is named without a change here.
func describeDiff(have, want CollectionConfig) string {
	h, w := reflect.ValueOf(have), reflect.ValueOf(want)
	for i := range h.NumField() {
		f := h.Type().Field(i)
		hv, wv := h.Field(i), w.Field(i)
		if hv.Equal(wv) {
			continue
		}
		name := jsonName(f)
		if f.Type.Kind() != reflect.Struct {
			return fmt.Sprintf("%s differs (%#v here, %#v asked)", name, hv, wv)
		}
		for j := range hv.NumField() {
			if !hv.Field(j).Equal(wv.Field(j)) {
				return fmt.Sprintf("%s differs (%s.%s: %#v here, %#v asked)", name, name, jsonName(f.Type.Field(j)),
					hv.Field(j), wv.Field(j))
			}
		}
		return name + " differs"
	}
	return "configuration differs"
}

// jsonName is a struct field's JSON key.
func jsonName(f reflect.StructField) string {
	if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n != "" && n != "-" {
		return n
	}
	return strings.ToLower(f.Name)
}

const configFile = "collection.json"

func readCollectionConfig(dir string) (CollectionConfig, error) {
	var cfg CollectionConfig
	b, err := os.ReadFile(filepath.Join(dir, configFile))
	if errors.Is(err, os.ErrNotExist) {
		cfg.EnsureDefaults()
		return cfg, nil
	}
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("%w: %s: %v", ErrCorrupt, filepath.Join(dir, configFile), err)
	}
	cfg.EnsureDefaults()
	return cfg, cfg.Validate()
}

func writeCollectionConfig(dir string, cfg CollectionConfig) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return vfs.WriteFile(vfs.Default, filepath.Join(dir, configFile), append(b, '\n'))
}

// ingestParallelism is Options.IngestParallelism, GOMAXPROCS when 0.
func (e *Engine) ingestParallelism() int {
	if n := e.opts.IngestParallelism; n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

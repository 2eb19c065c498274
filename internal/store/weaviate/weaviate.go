package weaviate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/text"
)

// Consistency levels of Weaviate's replication.
const (
	One    = "ONE"
	Quorum = "QUORUM"
	All    = "ALL"
)

// Config configures a backend. URL is required; zero fields take defaults.
type Config struct {
	// URL is the Weaviate REST endpoint, e.g. http://127.0.0.1:8089, or a
	// comma-separated list of a cluster's nodes: a request that cannot
	// reach one node is retried on the next.
	URL string
	// APIKey is sent as a bearer token when set.
	APIKey string
	// Consistency is ONE, QUORUM (default) or ALL, for reads and writes.
	Consistency string
	// Replication is the replication factor of new classes. Default 1.
	Replication int
	// K1 and B are BM25's parameters (default 0.9 and 0.4, Quarry's).
	K1, B float64
	// TitleBoost weighs title terms (default 1), as in the embedded BM25F.
	TitleBoost float64
	// Language forces one analyzer language; "" analyses each chunk in its
	// own language and queries in their detected one.
	Language string
	// Ef is the HNSW search effort of new classes (-1 = Weaviate's dynamic
	// ef, the default).
	Ef int
	// Flat makes new chunk classes use Weaviate's flat (brute-force) vector
	// index instead of its HNSW.
	Flat bool
	// Quantization of new chunk classes' vectors, with Weaviate's own
	// quantizers: "" none, "int8" its scalar quantizer (sq, HNSW only;
	// trained once the class holds its training limit of vectors, exact
	// until then), "binary" its binary quantizer (bq, flat only). Both
	// rescore with the full vectors.
	Quantization string
	// BatchSize is the number of objects per batch request (default 256);
	// BatchWorkers the number of batch requests in flight (default 2).
	BatchSize, BatchWorkers int
	// Retries bounds the retries of a failing request (default 5, with
	// backoff from 100 ms): an unreachable server fails after about 3 s.
	Retries int
	// Timeout bounds one HTTP request (default 60 s).
	Timeout time.Duration
	// PollInterval is how often the shared generation is re-read so that
	// other processes' writes invalidate this one's caches (default 1 s;
	// <0 disables polling).
	PollInterval time.Duration
	Logger       *slog.Logger
}

func (c *Config) ensureDefaults() error {
	if c.URL == "" {
		return errors.New("weaviate: url is required (QUARRY_WEAVIATE_URL or --weaviate-url)")
	}
	for _, u := range splitURLs(c.URL) {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("weaviate: url %q must start with http:// or https://", u)
		}
	}
	if len(splitURLs(c.URL)) == 0 {
		return errors.New("weaviate: url is required (QUARRY_WEAVIATE_URL or --weaviate-url)")
	}
	switch c.Consistency = strings.ToUpper(c.Consistency); c.Consistency {
	case "":
		c.Consistency = Quorum
	case One, Quorum, All:
	default:
		return fmt.Errorf("weaviate: consistency %q: want ONE, QUORUM or ALL", c.Consistency)
	}
	if c.Replication <= 0 {
		c.Replication = 1
	}
	if c.K1 == 0 {
		c.K1 = 0.9
	}
	if c.B == 0 {
		c.B = 0.4
	}
	if c.TitleBoost == 0 {
		c.TitleBoost = 1
	}
	if c.Ef == 0 {
		c.Ef = -1
	}
	switch {
	case c.Quantization == "" || c.Quantization == "int8" && !c.Flat || c.Quantization == "binary" && c.Flat:
	case c.Quantization == "sq8":
		return fmt.Errorf("weaviate: quantization sq8 is Quarry's embedded HNSW only (Weaviate offers int8 and binary)")
	case c.Quantization == "int8" || c.Quantization == "binary":
		return fmt.Errorf("weaviate: quantization %q is not available with the %s index (int8: hnsw; binary: flat)", c.Quantization, map[bool]string{true: "flat", false: "hnsw"}[c.Flat])
	default:
		return fmt.Errorf("weaviate: unknown quantization %q (want \"\", int8 or binary)", c.Quantization)
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 256
	}
	if c.BatchWorkers <= 0 {
		c.BatchWorkers = 2
	}
	if c.Retries == 0 {
		c.Retries = 5
	}
	if c.Timeout == 0 {
		c.Timeout = 60 * time.Second
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Backend is a store.Backend in Weaviate. Create it with Open.
type Backend struct {
	name   string // Quarry collection name
	cfg    Config
	c      *client
	chunks string // chunk class
	docs   string // document class
	metaID string // UUID of the collection's QuarryMeta object

	an *text.AnalyzerCache

	writeMu  sync.Mutex // serialises this process's writes
	schemaMu sync.Mutex // protects props
	props    map[string]property

	langs      langCache
	replicated bool // the chunk class's replication factor is > 1

	gen    atomic.Uint64
	dim    atomic.Int64
	closed atomic.Bool
	stop   chan struct{}
	done   chan struct{}
}

var (
	_ store.Backend  = (*Backend)(nil)
	_ store.Hybrider = (*Backend)(nil)
)

// Open connects to Weaviate (waiting up to the retry budget for it to be
// ready), creates or checks the collection's classes, and reads the shared
// generation.
func Open(ctx context.Context, collection string, cfg Config) (*Backend, error) {
	if err := cfg.ensureDefaults(); err != nil {
		return nil, err
	}
	if collection == "" {
		return nil, errors.New("weaviate: collection name is required")
	}
	b := &Backend{
		name: collection, cfg: cfg,
		c:      newClient(&cfg),
		chunks: chunkClass(collection), docs: docClass(collection),
		metaID: uuid5("meta", collection),
		an:     text.NewAnalyzerCache(cfg.Language),
		stop:   make(chan struct{}), done: make(chan struct{}),
	}
	if err := b.waitReady(ctx); err != nil {
		return nil, err
	}
	if _, err := b.ensureClass(ctx, b.classDef(metaClass, metaProps(), false)); err != nil {
		return nil, err
	}
	props, err := b.ensureClass(ctx, b.classDef(b.chunks, chunkProps(), true))
	if err != nil {
		return nil, err
	}
	b.props = props
	if _, err := b.ensureClass(ctx, b.classDef(b.docs, docProps(), false)); err != nil {
		return nil, err
	}
	m, err := b.readMeta(ctx)
	if err != nil {
		return nil, err
	}
	b.gen.Store(m.gen)
	b.dim.Store(int64(m.dim))
	if cfg.PollInterval > 0 {
		go b.poll()
	} else {
		close(b.done)
	}
	return b, nil
}

// waitReady polls the readiness endpoint within the retry budget.
func (b *Backend) waitReady(ctx context.Context) error {
	wait := 100 * time.Millisecond
	var err error
	for attempt := 0; attempt <= b.cfg.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait = min(wait*2, 5*time.Second)
		}
		if err = b.c.ready(ctx); err == nil {
			return nil
		}
	}
	return err
}

// Ready reports whether Weaviate answers its readiness probe.
func (b *Backend) Ready(ctx context.Context) error {
	if b.closed.Load() {
		return store.ErrClosed
	}
	return b.c.ready(ctx)
}

// poll re-reads the shared generation until Close.
func (b *Backend) poll() {
	defer close(b.done)
	t := time.NewTicker(b.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), b.cfg.PollInterval*5)
		m, err := b.readMetaOnce(ctx)
		cancel()
		if err != nil {
			continue
		}
		b.observe(m)
	}
}

// observe raises the local view of the shared state.
func (b *Backend) observe(m meta) {
	for {
		g := b.gen.Load()
		if m.gen <= g || b.gen.CompareAndSwap(g, m.gen) {
			break
		}
	}
	if m.dim > 0 {
		b.dim.Store(int64(m.dim))
	}
}

// Generation implements store.Backend: the last shared generation this
// process wrote or observed.
func (b *Backend) Generation() uint64 { return b.gen.Load() }

// Close stops the poller. Weaviate keeps the data.
func (b *Backend) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	close(b.stop)
	<-b.done
	b.c.http.CloseIdleConnections()
	return nil
}

func (b *Backend) checkOpen() error {
	if b.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// Drop deletes the collection's classes and meta object from Weaviate.
func (b *Backend) Drop(ctx context.Context) error {
	var errs []error
	for _, c := range []string{b.chunks, b.docs} {
		if err := b.c.do(ctx, http.MethodDelete, "/v1/schema/"+c, nil, nil); err != nil && !isStatus(err, http.StatusNotFound) {
			errs = append(errs, err)
		}
	}
	if err := b.c.do(ctx, http.MethodDelete, "/v1/objects/"+metaClass+"/"+b.metaID, nil, nil); err != nil && !isStatus(err, http.StatusNotFound) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Config returns the engine configuration stored with the collection ("" if
// none was stored).
func (b *Backend) StoredConfig(ctx context.Context) (string, error) {
	m, err := b.readMeta(ctx)
	return m.config, err
}

// SetStoredConfig stores the engine's collection configuration with the
// collection, for other processes opening it.
func (b *Backend) SetStoredConfig(ctx context.Context, cfg string) error {
	return b.patchMeta(ctx, map[string]any{"config": cfg})
}

// chunkTerms is the analysed text BM25 searches: title terms TitleBoost
// times, then the body's, as the embedded BM25F folds them.
func (b *Backend) chunkTerms(d *base.Document, c *base.Chunk) string {
	lang := c.Language
	if lang == "" {
		lang = d.Language
	}
	an := b.an.Get(lang)
	title := d.Title
	if c.Section != "" && c.Section != title {
		title += "\n" + c.Section
	}
	tt := an.AppendTerms(nil, title)
	var out []string
	for i := 0; i < int(b.cfg.TitleBoost+0.5); i++ {
		out = append(out, tt...)
	}
	out = an.AppendTerms(out, c.Text)
	return strings.Join(out, " ")
}

// StoredConfigOf reads the engine configuration stored with collection in
// the Weaviate at cfg.URL, without creating anything. found is false when
// no Quarry process has opened that collection there.
func StoredConfigOf(ctx context.Context, cfg Config, collection string) (config string, found bool, err error) {
	if err := cfg.ensureDefaults(); err != nil {
		return "", false, err
	}
	b := &Backend{name: collection, cfg: cfg, metaID: uuid5("meta", collection),
		c: newClient(&cfg)}
	var have class
	err = b.c.do(ctx, http.MethodGet, "/v1/schema/"+metaClass, nil, &have)
	if isStatus(err, http.StatusNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	m, err := b.readMeta(ctx)
	if err != nil || !m.exists || m.config == "" {
		return "", false, err
	}
	return m.config, true, nil
}

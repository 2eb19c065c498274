package quarry

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/quarry-rag/quarry/internal/store"
)

// Options configure an Engine. A nil *Options is valid and means defaults.
type Options struct {
	// Logger receives operational logs. Default: discard.
	Logger *slog.Logger
	// Registerer receives the engine's Prometheus metrics (stage latencies,
	// document counts). Default: nil, no metrics are registered.
	Registerer prometheus.Registerer
	// EmbeddingAPIKey is sent to HTTP embedding servers (OpenAI-compatible,
	// TEI) named by a collection's Embedding spec. Default "": none. The
	// engine never reads it from the environment; the CLI does
	// (QUARRY_EMBED_API_KEY).
	EmbeddingAPIKey string
	// DefaultCollection is the configuration of collections created
	// implicitly by their first write. Zero fields take their defaults.
	DefaultCollection CollectionConfig
	// LLM is the language model that writes answers. Default: none, Ask
	// answers extractively. See LLMConfig.
	LLM LLMConfig
	// Store opens each collection's storage backend: EmbeddedStore() (the
	// default, files under the data directory) or WeaviateStore(...) (a
	// Weaviate server shared by any number of Quarry processes).
	Store StoreOpener
	// Backend and the Weaviate* fields are the older way to choose the
	// store, read only when Store is nil: Backend "embedded" (default) or
	// "weaviate" with WeaviateURL, WeaviateAPIKey, WeaviateConsistency
	// (ONE, QUORUM — the default — or ALL) and WeaviateReplication (the
	// replication factor of new classes, default 1). The engine never
	// reads the environment; the CLI does (QUARRY_WEAVIATE_URL, …).
	Backend                     string
	WeaviateURL, WeaviateAPIKey string
	WeaviateConsistency         string
	WeaviateReplication         int
	// AllowURLs, when non-nil, is the operator's list of URL prefixes that
	// collections may name for embedding servers and language models (see
	// internal/outbound for how a prefix matches); LLM.URL is always
	// allowed. A configuration naming another URL, or a model folder
	// instead of a cached model name, is refused with ErrInvalid, and the
	// engine's credentials (EmbeddingAPIKey, LLM.APIKey) are sent only to
	// allowed URLs. Default nil: no restriction, for callers who are the
	// operator (the CLI); the server sets it.
	AllowURLs []string
	// TracerProvider, when set, receives a span per query-pipeline stage
	// (quarry.retrieve, quarry.embed, …; see internal/trace), children of
	// the span in the request's context. Default nil: no spans.
	TracerProvider oteltrace.TracerProvider
	// Drift, when set, returns the drift recorder of a collection (quarry
	// serve passes a drift.Monitor's Recorder): every search's query
	// embedding and top-1 fused score and every answer's abstained and
	// grounded flags are recorded. Default nil: nothing is recorded.
	Drift func(collection string) DriftRecorder
	// QueryBatching batches concurrent query embeddings per model (on by
	// default; see QueryBatching). A full queue fails a search with
	// ErrOverloaded, which the server answers 503 with Retry-After.
	QueryBatching QueryBatching
	// IngestParallelism is how many goroutines one write spreads its work
	// over: language identification and chunking per document, and the
	// embedding of its chunks by a local model (split into that many parts,
	// at most 4, of similar length embedded at once, so that each core runs
	// whole batches rather than every batch waiting on all cores). The result is
	// the same as a serial write's: one commit, in the batch's order.
	// Default 0: GOMAXPROCS at the time of the write; 1 embeds the chunks
	// in one call (the model's own kernels still use every core).
	IngestParallelism int
	// Guard is the server-wide default of the prompt-injection guardrails;
	// a collection's own Guard fields override it. Default: questions
	// flag, chunks exclude.
	Guard GuardConfig
}

// EnsureDefaults fills zero fields with defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o == nil {
		o = &Options{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.DefaultCollection.EnsureDefaults()
	return o
}

// Validate reports the first invalid field.
func (o *Options) Validate() error {
	if err := o.LLM.Validate(); err != nil {
		return err
	}
	st := o.Store
	if st == nil {
		var err error
		if st, err = o.storeOf(); err != nil {
			return err
		}
	}
	if v, ok := st.(store.Validator); ok {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	if o.IngestParallelism < 0 {
		return &FieldError{Field: "ingest_parallelism", Msg: fmt.Sprintf("must be ≥ 0 (0: GOMAXPROCS), got %d", o.IngestParallelism), Err: ErrInvalid}
	}
	if err := o.Guard.validate("guard."); err != nil {
		return err
	}
	return o.DefaultCollection.Validate()
}

// CollectionConfig configures one collection. It is stored with the
// collection; the zero value means defaults.
type CollectionConfig struct {
	Chunking ChunkingConfig `json:"chunking"`
	BM25     BM25Config     `json:"bm25"`
	// Language forces one analyzer language (ISO 639-1) for the whole
	// collection. Default "": each document is analysed in its own
	// (detected or given) language, and queries in their detected language.
	Language string `json:"language,omitempty"`
	// MaxDocumentBytes limits the text of one document. Default 64 MiB.
	MaxDocumentBytes int64 `json:"max_document_bytes,omitempty"`
	// Embedding names the embedding model for dense and hybrid retrieval:
	// a model short name (all-MiniLM-L6-v2, multilingual-e5-small), a model
	// folder, or an HTTP embedder spec (see internal/embed.Parse). Default
	// "": BM25 only. A local model may end in ?quantization=int8 (e.g.
	// "all-MiniLM-L6-v2?quantization=int8") to run its Linear layers in
	// int8: about 2× the embedding throughput on CPUs with AVX-512 VNNI,
	// vectors within cosine 0.99 of float32 (docs/benchmarks.md, "Issue
	// 19: int8 encoder"); default float32.
	Embedding string `json:"embedding,omitempty"`
	// Reranker names a cross-encoder (a model folder or cached model name)
	// that reorders the best RerankDepth candidates of every search.
	// Default "": no reranking.
	Reranker string `json:"reranker,omitempty"`
	// LLM overrides the engine's language-model settings (Options.LLM)
	// for this collection. Default: the engine's.
	LLM CollectionLLM `json:"llm,omitzero"`
	// Vector configures the dense index of a collection with an embedding
	// model. Default: HNSW, float32, M 16, ef_construction 200, ef_search 64.
	Vector VectorConfig `json:"vector"`
	// Guard sets the prompt-injection guardrails of this collection.
	// Default: the engine's (Options.Guard).
	Guard GuardConfig `json:"guard,omitzero"`
	// PII sets what happens to personal data (e-mails, phone numbers,
	// cards, IBANs, …) at indexing and before text leaves for a language
	// model. Default: kept.
	PII PIIConfig `json:"pii,omitzero"`
}

// VectorConfig selects and tunes the dense (vector) index.
type VectorConfig struct {
	// Index is "hnsw" (default: approximate, fast), "flat" (exact scan of
	// every vector) or "ivf" (k-means cells, trained once the collection
	// has 16·nlist vectors; exact scan until then).
	Index string `json:"index,omitempty"`
	// M is the number of HNSW links per node (2M on the base level).
	// Default 16, 2..128.
	M int `json:"m,omitempty"`
	// EfConstruction is the HNSW candidate list while inserting. Default
	// 200, M..4096.
	EfConstruction int `json:"ef_construction,omitempty"`
	// EfSearch is the default HNSW candidate list of a search (a request
	// may set its own). Default 64, 1..4096.
	EfSearch int `json:"ef_search,omitempty"`
	// Quantization is "" (float32 vectors in memory), "int8" (hnsw or ivf:
	// one byte per component in memory, full vectors read from disk to
	// rescore the best candidates), "sq8" (hnsw: float32 vectors plus one
	// byte per component that the search walks, its candidates re-ranked
	// in float32, so scores are exact) or "binary" (flat: one bit per component,
	// a Hamming scan of every code, then the best candidates — a request's
	// ef, default max(10k, 100) — rescored from disk).
	Quantization string `json:"quantization,omitempty"`
	// NList and NProbe tune an IVF index: cells (default 256, 1..65536)
	// and cells searched (default 8, 1..nlist; a request's ef overrides it).
	NList  int `json:"nlist,omitempty"`
	NProbe int `json:"nprobe,omitempty"`
}

// ChunkingConfig selects and sizes the chunker. Sizes are in word tokens.
type ChunkingConfig struct {
	// Strategy is "recursive" (default: paragraph → sentence → word),
	// "fixed" (windows of Size tokens overlapping by Overlap) or "semantic"
	// (split where the embedding similarity of adjacent sentences drops;
	// needs Embedding).
	Strategy string `json:"strategy,omitempty"`
	// Size is the target chunk size in tokens. Default 256.
	Size int `json:"size,omitempty"`
	// Overlap is the number of tokens shared by consecutive chunks.
	// Default: the chunker's (see internal/chunk).
	Overlap int `json:"overlap,omitempty"`
}

// BM25Config sets the BM25 scoring parameters.
type BM25Config struct {
	K1         float64 `json:"k1,omitempty"`          // default 0.9
	B          float64 `json:"b,omitempty"`           // default 0.4
	TitleBoost float64 `json:"title_boost,omitempty"` // default 1
}

// EnsureDefaults fills zero fields with defaults.
func (c *CollectionConfig) EnsureDefaults() {
	if c.Chunking.Strategy == "" {
		c.Chunking.Strategy = "recursive"
	}
	if c.Chunking.Size == 0 {
		c.Chunking.Size = 256
	}
	if c.BM25.K1 == 0 {
		c.BM25.K1 = 0.9
	}
	if c.BM25.B == 0 {
		c.BM25.B = 0.4
	}
	if c.BM25.TitleBoost == 0 {
		c.BM25.TitleBoost = 1
	}
	if c.MaxDocumentBytes == 0 {
		c.MaxDocumentBytes = 64 << 20
	}
	c.Vector.ensureDefaults()
}

func (v *VectorConfig) ensureDefaults() {
	s := v.settings()
	s.EnsureDefaults()
	*v = VectorConfig{Index: string(s.Index), M: s.M, EfConstruction: s.EfConstruction, EfSearch: s.EfSearch,
		Quantization: string(s.Quantization), NList: s.NList, NProbe: s.NProbe}
}

// settings maps the configuration onto the vector package's, which owns
// the kinds, defaults and validation.
func (v VectorConfig) settings() store.VectorSettings {
	return store.VectorSettings{Index: store.VectorKind(v.Index), M: v.M, EfConstruction: v.EfConstruction,
		EfSearch: v.EfSearch, Quantization: store.VectorQuantization(v.Quantization), NList: v.NList, NProbe: v.NProbe}
}

// validate reports the first invalid field of the vector configuration,
// named from the collection config ("vector.m").
func (v *VectorConfig) validate() error {
	err := v.settings().Validate()
	if fe := (*store.VectorFieldError)(nil); errors.As(err, &fe) {
		return prefixField("vector", invalidf(fe.Field, "%s", fe.Msg))
	}
	return err
}

var langCode = regexp.MustCompile(`^[a-z]{2,3}$`)

// Validate reports the first invalid field, named by its JSON path.
func (c *CollectionConfig) Validate() error {
	if err := c.Guard.validate("guard."); err != nil {
		return err
	}
	if err := c.PII.validate(); err != nil {
		return err
	}
	switch c.Chunking.Strategy {
	case "", "recursive", "fixed":
	case "semantic":
		if c.Embedding == "" {
			return invalidf("chunking.strategy", "semantic chunking needs an embedding model: set \"embedding\"")
		}
	default:
		return invalidf("chunking.strategy", "unknown strategy %q (want recursive, fixed or semantic)", c.Chunking.Strategy)
	}
	if c.Chunking.Size < 0 || c.Chunking.Size > 8192 {
		return invalidf("chunking.size", "must be between 1 and 8192, got %d", c.Chunking.Size)
	}
	if c.Chunking.Overlap < 0 || (c.Chunking.Size > 0 && c.Chunking.Overlap >= c.Chunking.Size) {
		return invalidf("chunking.overlap", "must be ≥ 0 and smaller than size, got %d", c.Chunking.Overlap)
	}
	if c.BM25.K1 < 0 || c.BM25.K1 > 10 || c.BM25.K1 != c.BM25.K1 {
		return invalidf("bm25.k1", "must be between 0 and 10, got %v", c.BM25.K1)
	}
	if c.BM25.B < 0 || c.BM25.B > 1 || c.BM25.B != c.BM25.B {
		return invalidf("bm25.b", "must be between 0 and 1, got %v", c.BM25.B)
	}
	if c.BM25.TitleBoost < 0 || c.BM25.TitleBoost > 100 || c.BM25.TitleBoost != c.BM25.TitleBoost {
		return invalidf("bm25.title_boost", "must be between 0 and 100, got %v", c.BM25.TitleBoost)
	}
	if c.Language != "" && !langCode.MatchString(c.Language) {
		return invalidf("language", "must be an ISO 639-1 code such as \"en\", got %q", c.Language)
	}
	if c.MaxDocumentBytes < 0 {
		return invalidf("max_document_bytes", "must be ≥ 0, got %d", c.MaxDocumentBytes)
	}
	if err := c.LLM.validate(); err != nil {
		return err
	}
	if err := c.Vector.validate(); err != nil {
		return err
	}
	return nil
}

var collectionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func validateCollectionName(name string) error {
	if !collectionName.MatchString(name) {
		return fmt.Errorf("%w", invalidf("collection", "name %q must be 1-64 characters of letters, digits, '_', '-', '.', starting with a letter or digit", name))
	}
	return nil
}

package quarry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/chunk"
	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/guardstage"
	"github.com/quarry-rag/quarry/internal/ingest"
	"github.com/quarry-rag/quarry/internal/obs"
	"github.com/quarry-rag/quarry/internal/query"
	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/text"
)

// Collection is a named set of documents with its own configuration,
// store and indexes.
type Collection struct {
	name    string
	cfg     CollectionConfig
	engine  *Engine
	backend store.Backend
	chunker chunk.ContextChunker

	writeMu sync.Mutex // serialises the version check and the write it decides

	// answers are the answer caches; nil when caching is off and after
	// close, which releases them.
	answers atomic.Pointer[query.AnswerCache]

	// pipeline runs the collection's searches and questions.
	pipeline *query.Pipeline
	// guard holds the prompt-injection stages (guardconfig.go).
	guard *guardstage.Stages
}

// chunkEmbedder adapts the collection's embedding model to the semantic
// chunker, resolving the model on first use.
func (c *Collection) chunkEmbedder() chunk.Embedder {
	return chunk.EmbedFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		emb, err := c.embedder()
		if err != nil {
			return nil, err
		}
		vecs, err := emb.Embed(ctx, texts, embed.Passage)
		if err == nil {
			c.engine.metrics.Embedded("chunking", len(texts))
		}
		return vecs, err
	})
}

// embedder returns the collection's embedding model, or nil when it has
// none. The model is loaded on first use and shared across collections.
func (c *Collection) embedder() (embed.Embedder, error) {
	if c.cfg.Embedding == "" {
		return nil, nil
	}
	emb, err := c.engine.embedders.get(c.cfg.Embedding)
	if err != nil {
		return nil, fmt.Errorf("quarry: collection %q: embedding model %q: %w", c.name, c.cfg.Embedding, err)
	}
	return emb, nil
}

// passageText is what gets embedded for a chunk: the document title, as
// BEIR and sentence-transformers do, then the chunk.
func passageText(d *Document, ch *Chunk) string {
	if d.Title == "" {
		return ch.Text
	}
	return d.Title + " " + ch.Text
}

// embedChunks embeds every chunk of writes: one call for a remote model,
// or, for a local one, ingestParallelism parts embedded at once.
func (c *Collection) embedChunks(ctx context.Context, writes []store.DocChunks) error {
	emb, err := c.embedder()
	if err != nil || emb == nil {
		return err
	}
	var texts []string
	for i := range writes {
		for j := range writes[i].Chunks {
			texts = append(texts, passageText(&writes[i].Doc, &writes[i].Chunks[j]))
		}
	}
	if len(texts) == 0 {
		return nil
	}
	parts := 1
	if _, local := emb.(*embed.Local); local {
		parts = c.engine.ingestParallelism()
	}
	vecs, err := embedParts(ctx, emb, texts, parts)
	if err != nil {
		return fmt.Errorf("%w: embedding %d chunks: %w", ErrUpstream, len(texts), err)
	}
	c.engine.metrics.Embedded("passage", len(texts))
	if len(vecs) != len(texts) {
		return fmt.Errorf("quarry: embedder returned %d vectors for %d chunks", len(vecs), len(texts))
	}
	k := 0
	for i := range writes {
		writes[i].Vectors = vecs[k : k+len(writes[i].Chunks) : k+len(writes[i].Chunks)]
		k += len(writes[i].Chunks)
	}
	return nil
}

// minPartTexts is the fewest texts worth a part of their own in
// embedParts: below it a part's batches get small and the model's kernels
// (which parallelise within a batch) do as well on their own.
const minPartTexts = 16

// maxEmbedParts bounds the parts embedded at once: each holds a model
// workspace (up to ~126 MB for MiniLM's 8192-token batches), and beyond a
// few parts the model's own kernels spread each batch over the remaining
// cores anyway.
const maxEmbedParts = 4

// embedParts embeds texts (as passages) in up to parts concurrent calls
// and returns the vectors in the order of texts. Texts are dealt to the
// parts longest first, round robin, so that each part holds a similar
// amount of work and batches of similar length. A vector does not depend
// on the batch it ran in, so the result equals one call's. The first
// failure cancels the other parts.
func embedParts(ctx context.Context, emb embed.Embedder, texts []string, parts int) ([][]float32, error) {
	parts = min(parts, maxEmbedParts, len(texts)/minPartTexts)
	if parts <= 1 {
		vecs, err := emb.Embed(ctx, texts, embed.Passage)
		if err == nil && len(vecs) != len(texts) {
			err = fmt.Errorf("quarry: embedder returned %d vectors for %d texts", len(vecs), len(texts))
		}
		return vecs, err
	}
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(texts[b]) - len(texts[a]) })
	idx := make([][]int, parts)
	for r, i := range order {
		idx[r%parts] = append(idx[r%parts], i)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([][]float32, len(texts))
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := make([]string, len(idx[p]))
			for j, i := range idx[p] {
				in[j] = texts[i]
			}
			vecs, err := emb.Embed(ctx, in, embed.Passage)
			if err == nil && len(vecs) != len(in) {
				err = fmt.Errorf("quarry: embedder returned %d vectors for %d texts", len(vecs), len(in))
			}
			if err != nil {
				errs[p] = err
				cancel()
				return
			}
			for j, i := range idx[p] {
				out[i] = vecs[j]
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func openCollection(ctx context.Context, e *Engine, name string, cfg CollectionConfig) (*Collection, error) {
	c := &Collection{name: name, cfg: cfg, engine: e}
	cc := e.opts.LLM.Cache
	c.answers.Store(query.NewAnswerCache(query.CacheConfig{Size: cc.Size, TTL: cc.TTL, SemanticThreshold: cc.SemanticThreshold},
		cfg.Embedding != ""))
	ccfg := chunk.Config{Strategy: cfg.Chunking.Strategy, Size: cfg.Chunking.Size, Overlap: cfg.Chunking.Overlap}
	if ccfg.Strategy == chunk.StrategySemantic {
		ccfg.Embed = c.chunkEmbedder()
	}
	ch, err := chunk.New(ccfg)
	if err != nil {
		return nil, invalidf("chunking", "%v", err)
	}
	cch, ok := ch.(chunk.ContextChunker)
	if !ok {
		return nil, fmt.Errorf("quarry: chunker %q cannot be cancelled", ccfg.Strategy)
	}
	c.chunker = cch
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	scfg := store.Config{Dir: e.collectionDir(name), K1: cfg.BM25.K1, B: cfg.BM25.B, TitleBoost: cfg.BM25.TitleBoost,
		Language: cfg.Language, Logger: e.opts.Logger.With("collection", name), Record: string(raw),
		Vector: cfg.Vector.settings()}
	if ch, ok := e.opts.Store.(store.ConfigChecker); ok {
		if err := ch.Check(scfg); err != nil {
			return nil, err
		}
	}
	be, err := e.opts.Store.Open(ctx, name, scfg)
	if err != nil {
		return nil, fmt.Errorf("quarry: collection %q: %w", name, store.MapErr(err))
	}
	c.backend = be
	c.pipeline = c.newPipeline()
	return c, nil
}

// newPipeline wires the collection's query pipeline: its store, models,
// language-model settings and caches.
func (c *Collection) newPipeline() *query.Pipeline {
	e := c.engine
	p := &query.Pipeline{
		Store: c.backend, Name: c.name, Language: c.cfg.Language,
		LLM: llmSettings(&e.opts.LLM, &c.cfg.LLM, e.urls), Chat: e.llmClients,
		Cache: c.answers.Load, Generation: c.backend.Generation,
		Metrics: e.metrics, LLMMetrics: e.llm,
	}
	if c.cfg.Embedding != "" {
		p.Embedder = c.queryEmbedder
	}
	if c.cfg.Reranker != "" {
		p.Reranker = func() (query.Reranker, error) { return e.rerankers.get(c.cfg.Reranker) }
	}
	p.Hooks.Tracer = c.opsTracer()
	c.installGuards(&p.Hooks)
	return p
}

// Name returns the collection's name.
func (c *Collection) Name() string { return c.name }

// Config returns the collection's configuration.
func (c *Collection) Config() CollectionConfig { return c.cfg }

func (c *Collection) close() error {
	c.answers.Store(nil)
	return c.backend.Close()
}

// Flush writes an index snapshot so that the next Open replays nothing.
func (c *Collection) Flush(ctx context.Context) error {
	if f, ok := c.backend.(store.Flusher); ok {
		return f.Flush(ctx)
	}
	return nil
}

// Verify checks that the store is whole and the index agrees with it.
func (c *Collection) Verify(ctx context.Context) error {
	if v, ok := c.backend.(store.Verifier); ok {
		return store.MapErr(v.Verify(ctx))
	}
	return nil
}

// Generation increases with every committed write; caches key on it.
func (c *Collection) Generation() uint64 { return c.backend.Generation() }

// UpsertStatus says what an upsert did to one document.
type UpsertStatus string

const (
	StatusCreated   UpsertStatus = "created"
	StatusUpdated   UpsertStatus = "updated"
	StatusUnchanged UpsertStatus = "unchanged"
)

// UpsertResult reports the outcome for one document.
type UpsertResult struct {
	ID      string       `json:"id"`
	Status  UpsertStatus `json:"status"`
	Version uint64       `json:"version"`
	Chunks  int          `json:"chunks"`
}

// WriteOptions are per-call options for Upsert. A nil value means defaults.
type WriteOptions struct {
	// Scope, when non-nil, limits the write to one tenant's documents that
	// its principals may read (the scope of an API key): every document
	// must have Scope.Tenant, and a stored document with the same id that
	// the scope cannot read is left alone and fails the whole batch with
	// ErrForbidden, before anything is compared or written, so an outsider
	// never learns from an "unchanged" status that a guess of its content
	// was exact. Default nil: unscoped (the operator).
	Scope *WriteScope
}

// WriteScope is the tenant and principals a scoped write acts as.
type WriteScope struct {
	Tenant     string
	Principals []string
}

// checkScopeLocked refuses a scoped write that names a document outside the
// scope. stored are the batch's stored versions. c.writeMu is held.
func (c *Collection) checkScopeLocked(ctx context.Context, docs []Document, stored map[string]store.Version, sc *WriteScope) error {
	for i := range docs {
		if docs[i].Tenant != sc.Tenant {
			return &FieldError{Field: fmt.Sprintf("documents[%d].tenant", i), Msg: "must be the tenant of the caller's key", Err: ErrForbidden}
		}
		if _, ok := stored[docs[i].ID]; !ok {
			continue
		}
		d, err := c.backend.Get(ctx, docs[i].ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return store.MapErr(err)
		}
		if !base.Visible(d.Tenant, d.ACL, sc.Tenant, sc.Principals) {
			return &FieldError{Field: fmt.Sprintf("documents[%d].id", i), Msg: "names a document outside the caller's tenant and principals", Err: ErrForbidden}
		}
	}
	return nil
}

const maxIDBytes = 512

// Limits of a document's fields other than its text (MaxDocumentBytes).
const (
	maxTitleBytes     = 4096
	maxSourceBytes    = 4096
	maxTenantBytes    = 256
	maxACL            = 256
	maxPrincipalBytes = 256
	maxMetadataKeys   = 128
	maxMetaKeyBytes   = 256
	maxMetaValueBytes = 64 << 10
)

// validateDocument checks one incoming document. Field names are JSON paths
// relative to the document.
func (c *Collection) validateDocument(d *Document) error {
	if d.ID == "" {
		return invalidf("id", "is required")
	}
	if len(d.ID) > maxIDBytes {
		return invalidf("id", "is %d bytes; the limit is %d", len(d.ID), maxIDBytes)
	}
	if int64(len(d.Text)) > c.cfg.MaxDocumentBytes {
		return &FieldError{Field: "text", Msg: fmt.Sprintf("is %d bytes; the collection's limit is %d", len(d.Text), c.cfg.MaxDocumentBytes), Err: ErrTooLarge}
	}
	for field, s := range map[string]string{"id": d.ID, "title": d.Title, "text": d.Text, "source": d.Source, "language": d.Language, "tenant": d.Tenant} {
		if !utf8.ValidString(s) {
			return invalidf(field, "is not valid UTF-8 (at byte %d)", invalidUTF8At(s))
		}
	}
	if strings.TrimSpace(d.Text) == "" {
		return invalidf("text", "is empty")
	}
	for _, l := range []struct {
		field  string
		n, max int
	}{{"title", len(d.Title), maxTitleBytes}, {"source", len(d.Source), maxSourceBytes}, {"tenant", len(d.Tenant), maxTenantBytes},
		{"acl", len(d.ACL), maxACL}, {"metadata", len(d.Metadata), maxMetadataKeys}} {
		if l.n > l.max {
			return invalidf(l.field, "has size %d; the limit is %d", l.n, l.max)
		}
	}
	if d.Language != "" && !langCode.MatchString(d.Language) {
		return invalidf("language", "must be an ISO 639-1 code such as \"en\", got %q", d.Language)
	}
	for i, p := range d.ACL {
		if p == "" || !utf8.ValidString(p) || len(p) > maxPrincipalBytes {
			return invalidf(fmt.Sprintf("acl[%d]", i), "must be a non-empty UTF-8 string of at most %d bytes", maxPrincipalBytes)
		}
	}
	for k, v := range d.Metadata {
		if k == "" || !utf8.ValidString(k) || len(k) > maxMetaKeyBytes {
			return invalidf("metadata", "keys must be non-empty UTF-8 strings of at most %d bytes", maxMetaKeyBytes)
		}
		if v.Kind == base.KindString && len(v.Str) > maxMetaValueBytes {
			return invalidf("metadata."+k, "is %d bytes; the limit is %d", len(v.Str), maxMetaValueBytes)
		}
		if v.Kind == base.KindString && !utf8.ValidString(v.Str) {
			return invalidf("metadata."+k, "is not valid UTF-8")
		}
		if v.Kind == base.KindNumber && (v.Num != v.Num || v.Num > 1e308 || v.Num < -1e308) {
			return invalidf("metadata."+k, "must be a finite number")
		}
	}
	for i, s := range d.Sections {
		if s.Start < 0 || s.End > len(d.Text) || s.Start > s.End {
			return invalidf(fmt.Sprintf("sections[%d]", i), "range [%d,%d) is outside the text", s.Start, s.End)
		}
	}
	return nil
}

func invalidUTF8At(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return i
			}
		}
	}
	return len(s)
}

// Upsert writes documents. A document whose content (title, text, language,
// tenant, ACL, metadata, sections) is unchanged is left alone; a changed one
// replaces the stored version and all its chunks atomically. The whole batch
// is validated first: if any document is invalid, nothing is written and the
// error names it (documents[i].field). On success every document is durable
// and searchable.
func (c *Collection) Upsert(ctx context.Context, docs []Document, opts *WriteOptions) ([]UpsertResult, error) {
	m := c.engine.metrics
	t := time.Now()
	for i := range docs {
		if err := c.validateDocument(&docs[i]); err != nil {
			return nil, prefixField(fmt.Sprintf("documents[%d]", i), err)
		}
	}
	// Hash the caller's content before anything is derived from it, so an
	// unchanged re-ingest is recognised without detection or chunking.
	hashes := make([]string, len(docs))
	ids := make([]string, len(docs))
	for i := range docs {
		hashes[i] = ingest.ContentHash(&docs[i])
		ids[i] = docs[i].ID
	}
	t = m.Since(obs.StageValidate, t)

	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	stored, err := c.backend.Versions(ctx, ids)
	if err != nil {
		return nil, store.MapErr(err)
	}
	if opts != nil && opts.Scope != nil {
		if err := c.checkScopeLocked(ctx, docs, stored, opts.Scope); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	results := make([]UpsertResult, len(docs))
	var writes []store.DocChunks
	for i := range docs {
		d := docs[i] // copy: never mutate the caller's documents
		prev, exists := stored[d.ID]
		if exists && prev.Hash == hashes[i] {
			results[i] = UpsertResult{ID: d.ID, Status: StatusUnchanged, Version: prev.Version}
			continue
		}
		d.Hash = hashes[i]
		d.ACL = append([]string(nil), d.ACL...)
		d.Metadata = d.Metadata.Clone()
		d.Sections = append([]Section(nil), d.Sections...)
		d.Updated = now
		if exists {
			d.Version, d.Created = prev.Version+1, prev.Created
			results[i].Status = StatusUpdated
		} else {
			d.Version, d.Created = 1, now
			results[i].Status = StatusCreated
		}
		results[i].ID, results[i].Version = d.ID, d.Version
		writes = append(writes, store.DocChunks{Doc: d})
		// A later duplicate of the same id in this batch must compare against
		// this version, not the stored one.
		stored[d.ID] = store.Version{Hash: d.Hash, Version: d.Version, Created: d.Created}
	}
	// Language identification (per document, then per chunk) and chunking
	// run on every core: documents in parallel, then the chunks of all of
	// them, so that a batch of a few large documents (an upload's 768 KiB)
	// keeps every core busy on its chunks, the larger part of the work.
	errs := make([]error, len(writes))
	detected := make([]bool, len(writes))
	parallel(c.engine.ingestParallelism(), len(writes), func(j int) {
		w := &writes[j]
		c.redactForIndex(&w.Doc.Text, &w.Doc.Title)
		detected[j] = w.Doc.Language == ""
		if detected[j] {
			w.Doc.Language = text.ConfidentLanguage(w.Doc.Text) // "" (neutral) when unsure
		}
		w.Chunks, errs[j] = c.chunker.ChunkContext(ctx, &w.Doc)
		fillRuneStarts(w.Doc.Text, w.Chunks)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("quarry: chunking: %w", err)
	}
	if c.cfg.Language == "" {
		var todo []chunkRef // the chunks of documents whose language was detected
		for j := range writes {
			if detected[j] {
				for k := range writes[j].Chunks {
					todo = append(todo, chunkRef{int32(j), int32(k)})
				}
			}
		}
		parallel(c.engine.ingestParallelism(), len(todo), func(i int) {
			w := &writes[todo[i].doc]
			chunk.DetectLanguage(&w.Doc, &w.Chunks[todo[i].chunk])
		})
	}
	for i, j := 0, 0; i < len(results); i++ {
		if results[i].Status != StatusUnchanged {
			results[i].Chunks = len(writes[j].Chunks)
			j++
		}
	}
	t = m.Since(obs.StageChunk, t)
	if err := c.embedChunks(ctx, writes); err != nil {
		return nil, err
	}
	if err := c.scoreChunks(ctx, writes); err != nil {
		return nil, err
	}
	t = m.Since(obs.StageEmbed, t)
	if err := c.backend.Upsert(ctx, writes); err != nil {
		return nil, store.MapErr(err)
	}
	m.Since(obs.StageIndex, t)
	nChunks := 0
	for _, r := range results {
		m.Documents(string(r.Status), 1)
		nChunks += r.Chunks
	}
	m.Chunks(nChunks)
	return results, nil
}

// chunkRef names a chunk of a batch: writes[doc].Chunks[chunk].
type chunkRef struct{ doc, chunk int32 }

// parallel calls fn(0) … fn(n-1) on up to workers goroutines, the caller
// being one of them.
func parallel(workers, n int, fn func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
			fn(i)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

// fillRuneStarts sets each chunk's RuneStart in one pass over the text.
func fillRuneStarts(text string, chunks []Chunk) {
	pos, runes := 0, 0
	for i := range chunks {
		if st := chunks[i].Start; st < pos { // overlapping chunks step back
			runes -= utf8.RuneCountInString(text[st:pos])
		} else {
			runes += utf8.RuneCountInString(text[pos:st])
		}
		pos = chunks[i].Start
		chunks[i].RuneStart = runes
	}
}

// Get returns a stored document.
func (c *Collection) Get(ctx context.Context, id string) (Document, error) {
	d, err := c.backend.Get(ctx, id)
	return d, store.MapErr(err)
}

// GetScoped returns a stored document if a request for tenant with
// principals may read it, and an error wrapping ErrNotFound otherwise (a
// document outside the caller's scope is indistinguishable from a missing
// one).
func (c *Collection) GetScoped(ctx context.Context, id, tenant string, principals []string) (Document, error) {
	d, err := c.Get(ctx, id)
	if err != nil {
		return Document{}, err
	}
	if !base.Visible(d.Tenant, d.ACL, tenant, principals) {
		return Document{}, fmt.Errorf("document %q: %w", id, ErrNotFound)
	}
	return d, nil
}

// Chunks returns a stored document's chunks in order.
func (c *Collection) Chunks(ctx context.Context, id string) ([]Chunk, error) {
	cs, err := c.backend.Chunks(ctx, id)
	return cs, store.MapErr(err)
}

// Delete removes a document, its chunks and its postings. Deleting a
// document that does not exist returns an error wrapping ErrNotFound.
func (c *Collection) Delete(ctx context.Context, id string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	found, err := c.backend.Delete(ctx, id)
	if err != nil {
		return store.MapErr(err)
	}
	if !found {
		return fmt.Errorf("document %q: %w", id, ErrNotFound)
	}
	c.engine.metrics.Documents("deleted", 1)
	return nil
}

// DeleteScoped deletes a document if the scope may read it; a document
// outside the scope is left alone and reported as not found, like a
// missing one.
func (c *Collection) DeleteScoped(ctx context.Context, id string, sc WriteScope) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	d, err := c.backend.Get(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.MapErr(err)
	}
	if err != nil || !base.Visible(d.Tenant, d.ACL, sc.Tenant, sc.Principals) {
		return fmt.Errorf("document %q: %w", id, ErrNotFound)
	}
	found, err := c.backend.Delete(ctx, id)
	if err != nil {
		return store.MapErr(err)
	}
	if !found {
		return fmt.Errorf("document %q: %w", id, ErrNotFound)
	}
	c.engine.metrics.Documents("deleted", 1)
	return nil
}

// Stats describes a collection's contents.
type Stats struct {
	Collection string `json:"collection"`
	store.Stats
}

// Stats reports document, chunk and index sizes.
func (c *Collection) Stats(ctx context.Context) (Stats, error) {
	s, err := c.backend.Stats(ctx)
	return Stats{Collection: c.name, Stats: s}, store.MapErr(err)
}

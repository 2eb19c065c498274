package quarry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/weaviate"
)

// DeleteCollection removes a collection and all its data: documents,
// chunks, indexes and configuration, and its classes on Weaviate. It is
// atomic on disk: the directory is first renamed out of the data
// directory (a crash after that leaves only a tombstone, removed at the
// next delete), then removed. Requests still running on the collection
// fail with ErrClosed. A missing collection is ErrNotFound.
func (e *Engine) DeleteCollection(ctx context.Context, name string) error {
	if err := validateCollectionName(name); err != nil {
		return err
	}
	e.mu.Lock()
	if _, ok := e.mu.broken[name]; ok && !e.mu.closed {
		// Its store never opened: nothing to close, only the folder to go.
		delete(e.mu.broken, name)
		e.mu.Unlock()
		return e.removeCollectionDir(name)
	}
	e.mu.Unlock()
	c, err := e.Collection(ctx, name) // opens or adopts it, outside the engine lock
	if err != nil {
		return err
	}
	e.mu.Lock()
	if e.mu.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	if e.mu.cols[name] != c { // deleted (and perhaps recreated) meanwhile
		e.mu.Unlock()
		return fmt.Errorf("collection %q: %w", name, ErrNotFound)
	}
	delete(e.mu.cols, name)
	e.mu.Unlock()

	c.writeMu.Lock() // let a running write finish before the store closes
	var errs []error
	if d, ok := c.backend.(store.Dropper); ok {
		errs = append(errs, store.MapErr(d.Drop(ctx)))
	}
	errs = append(errs, c.close())
	c.writeMu.Unlock()
	return errors.Join(append(errs, e.removeCollectionDir(name))...)
}

// removeCollectionDir removes a closed collection's folder: renamed to a
// tombstone first (atomic), then removed.
func (e *Engine) removeCollectionDir(name string) error {
	dir := e.collectionDir(name)
	tomb := filepath.Join(e.dir, "collections", ".deleted-"+name+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.Rename(dir, tomb); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("quarry: delete collection %q: %w", name, err)
	}
	syncDir(filepath.Join(e.dir, "collections"))
	e.removeTombstones()
	return nil
}

// removeTombstones removes what deletes left behind.
func (e *Engine) removeTombstones() {
	ents, _ := os.ReadDir(filepath.Join(e.dir, "collections"))
	for _, ent := range ents {
		if n := ent.Name(); len(n) > 9 && n[:9] == ".deleted-" {
			os.RemoveAll(filepath.Join(e.dir, "collections", n))
		}
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// SettingsPatch lists the collection settings that can change under
// existing data (they do not shape the index). Nil fields are left alone.
type SettingsPatch struct {
	Reranker         *string        `json:"reranker,omitempty"`
	LLM              *CollectionLLM `json:"llm,omitempty"`
	MaxDocumentBytes *int64         `json:"max_document_bytes,omitempty"`
	EfSearch         *int           `json:"ef_search,omitempty"`
	NProbe           *int           `json:"nprobe,omitempty"`
}

// UpdateSettings applies patch to a collection's configuration, validates
// it, stores it and reopens the collection with it. Requests running on
// the collection during the swap fail with ErrClosed; later ones see the
// new settings. It returns the reopened collection.
func (e *Engine) UpdateSettings(ctx context.Context, name string, patch SettingsPatch) (*Collection, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.closed {
		return nil, ErrClosed
	}
	old, ok := e.mu.cols[name]
	if !ok {
		return nil, fmt.Errorf("collection %q: %w", name, ErrNotFound)
	}
	cfg := old.cfg
	if patch.Reranker != nil {
		cfg.Reranker = *patch.Reranker
	}
	if patch.LLM != nil {
		cfg.LLM = *patch.LLM
	}
	if patch.MaxDocumentBytes != nil {
		cfg.MaxDocumentBytes = *patch.MaxDocumentBytes
	}
	if patch.EfSearch != nil {
		cfg.Vector.EfSearch = *patch.EfSearch
	}
	if patch.NProbe != nil {
		cfg.Vector.NProbe = *patch.NProbe
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.EnsureDefaults()
	if cfg == old.cfg {
		return old, nil
	}
	if cfg.Reranker != "" && cfg.Reranker != old.cfg.Reranker {
		if _, err := e.rerankers.get(cfg.Reranker); err != nil {
			return nil, invalidf("reranker", "%v", err)
		}
	}
	if wb, ok := old.backend.(*weaviate.Backend); ok {
		raw, _ := json.Marshal(cfg)
		if err := wb.SetStoredConfig(ctx, string(raw)); err != nil {
			return nil, store.MapErr(err)
		}
	}
	if err := writeCollectionConfig(e.collectionDir(name), cfg); err != nil {
		return nil, err
	}
	old.writeMu.Lock()
	err := old.close()
	old.writeMu.Unlock()
	if err != nil {
		return nil, err
	}
	c, err := openCollection(ctx, e, name, cfg)
	if err != nil {
		delete(e.mu.cols, name)
		return nil, err
	}
	e.mu.cols[name] = c
	return c, nil
}

// ListOptions select a page of ListDocuments.
type ListOptions struct {
	// After is the cursor from the previous page's Next; "" starts at the
	// beginning.
	After string
	// Limit is the page size. Default 100, at most 1000.
	Limit int
	// Tenant and Principals scope the listing as they scope a search.
	Tenant     string
	Principals []string
	// Filter keeps the documents whose metadata (or language, source,
	// doc_id, title) matches.
	Filter Filter
}

// DocumentPage is one page of documents; Next is "" after the last page.
type DocumentPage struct {
	Documents []Document
	Next      string
}

// ListDocuments returns a page of the collection's documents (whole, text
// included) in a stable order: id order on the embedded backend, object
// order on Weaviate.
func (c *Collection) ListDocuments(ctx context.Context, opts ListOptions) (DocumentPage, error) {
	if opts.Limit == 0 {
		opts.Limit = 100
	}
	if opts.Limit < 1 || opts.Limit > store.MaxListLimit {
		return DocumentPage{}, invalidf("limit", "must be 1..%d, got %d", store.MaxListLimit, opts.Limit)
	}
	if err := opts.Filter.Validate(); err != nil {
		return DocumentPage{}, invalidf("filter", "%v", err)
	}
	l, ok := c.backend.(store.Lister)
	if !ok {
		return DocumentPage{}, fmt.Errorf("quarry: collection %q: its backend cannot list documents", c.name)
	}
	p, err := l.List(ctx, store.ListQuery{After: opts.After, Limit: opts.Limit,
		Scope: store.Scope{Tenant: opts.Tenant, Principals: opts.Principals, Filter: opts.Filter}})
	if err != nil {
		return DocumentPage{}, store.MapErr(err)
	}
	return DocumentPage{Documents: p.Docs, Next: p.Next}, nil
}

// Dir returns the engine's data directory.
func (e *Engine) Dir() string { return e.dir }

package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quarry-rag/quarry"
)

// Options configure the default tool set. A nil *Options is valid.
type Options struct {
	// Collection is used when a call names none. Default "default".
	Collection string
	// Collections, when non-empty, are the only collections the tools may
	// touch (an agent run over one collection passes just that one).
	Collections []string
	// MaxDocumentChars bounds the text get_document returns. Default 8000.
	MaxDocumentChars int
	// MaxHitChars bounds each search hit's text. Default 1200.
	MaxHitChars int
	// Now is the clock of current_time. Default time.Now.
	Now func() time.Time
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Collection == "" {
		r.Collection = "default"
	}
	if r.MaxDocumentChars <= 0 {
		r.MaxDocumentChars = 8000
	}
	if r.MaxHitChars <= 0 {
		r.MaxHitChars = 1200
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}

// Tool names.
const (
	NameSearch          = "search"
	NameGetDocument     = "get_document"
	NameAsk             = "ask"
	NameListCollections = "list_collections"
	NameIngestText      = "ingest_text"
	NameDeleteDocument  = "delete_document"
	NameCalculator      = "calculator"
	NameCurrentTime     = "current_time"
)

// SearchArgs are the parameters of search.
type SearchArgs struct {
	Query      string `json:"query" jsonschema:"minLength=1,maxLength=2000,description=what to look for"`
	K          int    `json:"k,omitempty" jsonschema:"minimum=1,maximum=50,description=number of passages to return (default 5)"`
	Collection string `json:"collection,omitempty" jsonschema:"maxLength=128,description=collection to search (default: the current one)"`
	Mode       string `json:"mode,omitempty" jsonschema:"enum=bm25,enum=dense,enum=hybrid,description=retrieval mode (default: the collection's)"`
}

// GetDocumentArgs are the parameters of get_document.
type GetDocumentArgs struct {
	ID         string `json:"id" jsonschema:"minLength=1,maxLength=512,description=document id as returned by search"`
	Collection string `json:"collection,omitempty" jsonschema:"maxLength=128"`
}

// AskArgs are the parameters of ask.
type AskArgs struct {
	Question   string `json:"question" jsonschema:"minLength=1,maxLength=2000,description=a question answered with citations from the collection"`
	K          int    `json:"k,omitempty" jsonschema:"minimum=1,maximum=20,description=passages used as context (default 5)"`
	Collection string `json:"collection,omitempty" jsonschema:"maxLength=128"`
}

// ListCollectionsArgs are the parameters of list_collections (none).
type ListCollectionsArgs struct{}

// IngestTextArgs are the parameters of ingest_text.
type IngestTextArgs struct {
	ID         string `json:"id" jsonschema:"minLength=1,maxLength=512"`
	Text       string `json:"text" jsonschema:"minLength=1,maxLength=1000000"`
	Title      string `json:"title,omitempty" jsonschema:"maxLength=512"`
	Collection string `json:"collection,omitempty" jsonschema:"maxLength=128"`
}

// DeleteDocumentArgs are the parameters of delete_document.
type DeleteDocumentArgs struct {
	ID         string `json:"id" jsonschema:"minLength=1,maxLength=512"`
	Collection string `json:"collection,omitempty" jsonschema:"maxLength=128"`
}

// Hit is one search result as the tools report it.
type Hit struct {
	DocID   string  `json:"doc_id"`
	ChunkID string  `json:"chunk_id"`
	Title   string  `json:"title,omitempty"`
	Score   float64 `json:"score"`
	Text    string  `json:"text"`
}

type retrieval struct {
	cat  Catalog
	opts Options
}

func (r *retrieval) collection(ctx context.Context, name string, create bool) (*quarry.Collection, error) {
	if name == "" {
		name = r.opts.Collection
	}
	if len(r.opts.Collections) > 0 && !contains(r.opts.Collections, name) {
		return nil, fmt.Errorf("collection %q is not available here (available: %s)", name, strings.Join(r.opts.Collections, ", "))
	}
	var c *quarry.Collection
	var err error
	if create {
		c, err = r.cat.EnsureCollection(ctx, name)
	} else {
		c, err = r.cat.Collection(ctx, name)
	}
	if errors.Is(err, quarry.ErrNotFound) {
		return nil, fmt.Errorf("no collection named %q; available: %s", name, strings.Join(r.names(ctx), ", "))
	}
	return c, err
}

func (r *retrieval) names(ctx context.Context) []string {
	if len(r.opts.Collections) > 0 {
		return r.opts.Collections
	}
	return r.cat.Collections(ctx)
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

func (r *retrieval) search(ctx context.Context, sc Scope, a SearchArgs) (Result, error) {
	c, err := r.collection(ctx, a.Collection, false)
	if err != nil {
		return Result{}, err
	}
	if a.K == 0 {
		a.K = 5
	}
	resp, err := c.Search(ctx, quarry.SearchRequest{Query: a.Query, K: a.K, Mode: a.Mode, Tenant: sc.Tenant, Principals: sc.Principals})
	if err != nil {
		return Result{}, err
	}
	hits := make([]Hit, len(resp.Results))
	srcs := make([]Source, len(resp.Results))
	var b strings.Builder
	if len(hits) == 0 {
		b.WriteString("no passages matched")
	}
	for i, h := range resp.Results {
		text := clipRunes(h.Text, r.opts.MaxHitChars)
		hits[i] = Hit{DocID: h.DocID, ChunkID: h.ChunkID, Title: h.Title, Score: h.Score, Text: text}
		srcs[i] = Source{DocID: h.DocID, ChunkID: h.ChunkID, Title: h.Title, Text: h.Text}
		fmt.Fprintf(&b, "[doc_id=%s chunk_id=%s title=%q]\n%s\n\n", h.DocID, h.ChunkID, h.Title, text)
	}
	return Result{Text: strings.TrimSpace(b.String()), Data: map[string]any{"results": hits}, Sources: srcs}, nil
}

func (r *retrieval) getDocument(ctx context.Context, sc Scope, a GetDocumentArgs) (Result, error) {
	c, err := r.collection(ctx, a.Collection, false)
	if err != nil {
		return Result{}, err
	}
	d, err := c.GetScoped(ctx, a.ID, sc.Tenant, sc.Principals)
	if err != nil {
		if errors.Is(err, quarry.ErrNotFound) {
			return Result{}, fmt.Errorf("no document with id %q", clip(a.ID, 64))
		}
		return Result{}, err
	}
	text := clipRunes(d.Text, r.opts.MaxDocumentChars)
	note := ""
	if len(text) < len(d.Text) {
		note = fmt.Sprintf("\n[truncated: %d of %d characters shown]", utf8.RuneCountInString(text), utf8.RuneCountInString(d.Text))
	}
	return Result{Text: fmt.Sprintf("[doc_id=%s title=%q]\n%s%s", d.ID, d.Title, text, note),
		Data:    map[string]any{"id": d.ID, "title": d.Title, "text": text, "truncated": note != ""},
		Sources: []Source{{DocID: d.ID, Title: d.Title, Text: d.Text}}}, nil
}

func (r *retrieval) ask(ctx context.Context, sc Scope, a AskArgs) (Result, error) {
	c, err := r.collection(ctx, a.Collection, false)
	if err != nil {
		return Result{}, err
	}
	ans, err := c.Ask(ctx, quarry.AskRequest{Question: a.Question, K: a.K, Tenant: sc.Tenant, Principals: sc.Principals})
	if err != nil {
		return Result{}, err
	}
	var b strings.Builder
	b.WriteString(ans.Answer)
	srcs := make([]Source, 0, len(ans.Citations))
	for _, cit := range ans.Citations {
		fmt.Fprintf(&b, "\n[%d] doc_id=%s chunk_id=%s: %s", cit.Marker, cit.DocID, cit.ChunkID, clipRunes(cit.Text, 300))
		srcs = append(srcs, Source{DocID: cit.DocID, ChunkID: cit.ChunkID, Title: cit.Title, Text: cit.Text})
	}
	return Result{Text: b.String(), Data: map[string]any{"answer": ans.Answer, "citations": ans.Citations, "method": ans.Method},
		Sources: srcs}, nil
}

func (r *retrieval) listCollections(ctx context.Context, _ Scope, _ ListCollectionsArgs) (Result, error) {
	names := r.names(ctx)
	return Result{Text: "collections: " + strings.Join(names, ", "), Data: map[string]any{"collections": names}}, nil
}

func (r *retrieval) ingestText(ctx context.Context, sc Scope, a IngestTextArgs) (Result, error) {
	c, err := r.collection(ctx, a.Collection, true)
	if err != nil {
		return Result{}, err
	}
	// An existing document of another tenant (or one this key may not
	// read) must not be replaced: ids are per collection, not per tenant.
	if d, err := c.Get(ctx, a.ID); err == nil && (d.Tenant != sc.Tenant) {
		return Result{}, fmt.Errorf("document id %q is taken", clip(a.ID, 64))
	} else if err != nil && !errors.Is(err, quarry.ErrNotFound) {
		return Result{}, err
	}
	res, err := c.Upsert(ctx, []quarry.Document{{ID: a.ID, Title: a.Title, Text: a.Text, Tenant: sc.Tenant, Source: "agent"}}, nil)
	if err != nil {
		return Result{}, err
	}
	return Result{Text: fmt.Sprintf("document %s %s (%d chunks)", res[0].ID, res[0].Status, res[0].Chunks), Data: res[0]}, nil
}

func (r *retrieval) deleteDocument(ctx context.Context, sc Scope, a DeleteDocumentArgs) (Result, error) {
	c, err := r.collection(ctx, a.Collection, false)
	if err != nil {
		return Result{}, err
	}
	if _, err := c.GetScoped(ctx, a.ID, sc.Tenant, sc.Principals); err != nil {
		if errors.Is(err, quarry.ErrNotFound) {
			return Result{}, fmt.Errorf("no document with id %q", clip(a.ID, 64))
		}
		return Result{}, err
	}
	if err := c.Delete(ctx, a.ID); err != nil {
		return Result{}, err
	}
	return Result{Text: fmt.Sprintf("document %s deleted", a.ID), Data: map[string]any{"id": a.ID, "deleted": true}}, nil
}

// clipRunes shortens s to at most n runes.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// Retrieval returns the retrieval tools over cat: search, get_document,
// ask, list_collections, ingest_text and delete_document.
func Retrieval(cat Catalog, opts *Options) []*Tool {
	r := &retrieval{cat: cat, opts: opts.withDefaults()}
	return []*Tool{
		New(NameSearch, "Search the knowledge base; returns passages with their doc_id and chunk_id.", false, r.search),
		New(NameGetDocument, "Read one document by id.", false, r.getDocument),
		New(NameAsk, "Answer a question from the knowledge base with cited passages.", false, r.ask),
		New(NameListCollections, "List the collections that can be searched.", false, r.listCollections),
		New(NameIngestText, "Store a text document in a collection (needs write access).", true, r.ingestText),
		New(NameDeleteDocument, "Delete a document by id (needs write access).", true, r.deleteDocument),
	}
}

// Default returns every built-in tool: the retrieval tools, calculator and
// current_time.
func Default(cat Catalog, opts *Options) *Set {
	o := opts.withDefaults()
	ts := Retrieval(cat, &o)
	ts = append(ts, Calculator(), CurrentTime(o.Now))
	return NewSet(ts...)
}

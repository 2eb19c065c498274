package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/web"
)

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	return s.writeJSON(w, http.StatusOK, statusOut{Status: "ok"})
}

// readyz reports whether the server should receive traffic: the engine is
// open, no shutdown has begun, and remote storage backends (Weaviate) answer
// their readiness probe within readyTimeout.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		return &apiError{Code: codeUnavailable, Message: "the server is shutting down"}
	}
	if err := s.eng.Ready(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.eng.ReadyContext(ctx); err != nil {
		return &apiError{Code: codeUnavailable, Message: err.Error()}
	}
	return s.writeJSON(w, http.StatusOK, statusOut{Status: "ready"})
}

// readyTimeout bounds the readiness probe of remote backends.
const readyTimeout = 2 * time.Second

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	s.write(w, openAPISpec)
	return nil
}

// contentSecurityPolicy allows the page only its own script and styles.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Server) index(w http.ResponseWriter, _ *http.Request) error {
	return s.serveWebFile(w, "index.html")
}

func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if name == "index.html" || !fs.ValidPath(name) {
		return &apiError{Code: codeNotFound, Message: "no such file"}
	}
	return s.serveWebFile(w, name)
}

var webTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

func (s *Server) serveWebFile(w http.ResponseWriter, name string) error {
	b, err := fs.ReadFile(web.Files, name)
	ct, known := webTypes[path.Ext(name)]
	if err != nil || !known {
		return &apiError{Code: codeNotFound, Message: "no such file"}
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	s.write(w, b)
	return nil
}

// collection returns the collection named in the path, or a 404.
func (s *Server) collection(r *http.Request) (*quarry.Collection, error) {
	name := r.PathValue("c")
	col, err := s.eng.Collection(r.Context(), name)
	if errors.Is(err, quarry.ErrNotFound) {
		return nil, withMessage(err, "collection %q does not exist", name)
	}
	return col, err
}

func (s *Server) listCollections(w http.ResponseWriter, _ *http.Request) error {
	names := s.eng.Collections()
	if names == nil {
		names = []string{}
	}
	out := collectionsOut{Collections: names}
	broken := s.eng.Unavailable()
	for _, n := range slices.Sorted(maps.Keys(broken)) {
		out.Unavailable = append(out.Unavailable, unavailableOut{Name: n, Error: broken[n].Error()})
	}
	return s.writeJSON(w, http.StatusOK, out)
}

// putCollection creates a collection with the given configuration (an empty
// body means defaults) or, if it exists, checks that its configuration is
// the same: 201 when created, 200 when it existed.
func (s *Server) putCollection(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.opts.MaxQueryBodyBytes, true)
	if err != nil {
		return err
	}
	var cfg *quarry.CollectionConfig
	if body != nil {
		var in configJSON
		if err := decodeBody(body, &in); err != nil {
			return err
		}
		if in.Chunking.Size != 0 && in.Chunking.Size < minChunkSize {
			return invalid("chunking.size", "must be at least %d tokens, got %d", minChunkSize, in.Chunking.Size)
		}
		cfg = in.toEngine()
	}
	if err := s.mayCreate(r, r.PathValue("c")); err != nil {
		return err
	}
	col, created, err := s.eng.CreateCollection(r.Context(), r.PathValue("c"), cfg)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return s.writeJSON(w, status, collectionOut{Name: col.Name(), Config: fromConfig(col.Config()), Created: created})
}

func (s *Server) getCollection(w http.ResponseWriter, r *http.Request) error {
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	st, err := col.Stats(r.Context())
	if err != nil {
		return err
	}
	if scopedKey(r) {
		// Counts and languages span every tenant: a tenant's key sees
		// none of them.
		st = quarry.Stats{Collection: st.Collection}
	}
	return s.writeJSON(w, http.StatusOK, collectionInfo{Name: col.Name(), Config: fromConfig(col.Config()), Stats: fromStats(st)})
}

// upsertDocuments writes one document or a batch, creating the collection
// with defaults on its first write.
func (s *Server) upsertDocuments(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.opts.MaxBodyBytes, false)
	if err != nil {
		return err
	}
	docs, single, err := decodeUpsert(body)
	if err != nil {
		return err
	}
	res, err := s.upsert(r, docs)
	if single {
		err = unbatchField(err)
	}
	if err != nil {
		return err
	}
	return s.writeJSON(w, http.StatusOK, upsertResponse{Results: fromUpsertResults(res)})
}

func (s *Server) upsert(r *http.Request, docs []quarry.Document) ([]quarry.UpsertResult, error) {
	if err := scopeDocuments(r, docs); err != nil {
		return nil, err
	}
	if err := s.mayCreate(r, r.PathValue("c")); err != nil {
		return nil, err
	}
	col, err := s.eng.EnsureCollection(r.Context(), r.PathValue("c"))
	if err != nil {
		return nil, err
	}
	return col.Upsert(r.Context(), docs, writeOptions(r))
}

// unbatchField rewrites the engine's field path documents[0].x to x for a
// request that sent one document, not a batch.
func unbatchField(err error) error {
	var fe *quarry.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	rest, ok := strings.CutPrefix(fe.Field, "documents[0]")
	if !ok {
		return err
	}
	return &quarry.FieldError{Field: strings.TrimPrefix(rest, "."), Msg: fe.Msg, Err: fe.Err}
}

// docID returns the document id of the path; ids may contain '/'.
func docID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if id == "" {
		return "", invalid("id", "the document id in the path is empty")
	}
	return id, nil
}

// getDocument returns a stored document. Reads are scoped like searches: a
// document is visible only to its own tenant (?tenant=, absent = the shared
// tenant) and, if it has an ACL, to a request naming one of its principals
// (?principal=, repeatable). Anything else is a 404, which does not reveal
// that the id exists.
func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) error {
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	id, err := docID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	withChunks := false
	if v := q.Get("chunks"); v != "" {
		if withChunks, err = strconv.ParseBool(v); err != nil {
			return invalid("chunks", "must be true or false, got %q", v)
		}
	}
	notFound := func(err error) error {
		return withMessage(err, "document %q does not exist in collection %q (for this tenant and principals)", id, col.Name())
	}
	sc := scopeIn{Tenant: q.Get("tenant"), Principals: q["principal"]}
	if err := readScope(r, &sc); err != nil {
		return renameFields(err, func(f string) string {
			if f == "principals" || strings.HasPrefix(f, "principals[") {
				return "principal"
			}
			return f
		})
	}
	d, err := col.GetScoped(r.Context(), id, sc.Tenant, sc.Principals)
	if errors.Is(err, quarry.ErrNotFound) {
		return notFound(err)
	}
	if err != nil {
		return err
	}
	out := fromDocument(&d)
	if withChunks {
		cs, err := col.Chunks(r.Context(), id)
		if errors.Is(err, quarry.ErrNotFound) { // deleted in between
			return notFound(err)
		}
		if err != nil {
			return err
		}
		out.Chunks = fromChunks(cs)
	}
	return s.writeJSON(w, http.StatusOK, out)
}

// putDocument writes the document whose id is in the path.
func (s *Server) putDocument(w http.ResponseWriter, r *http.Request) error {
	id, err := docID(r)
	if err != nil {
		return err
	}
	var in documentIn
	if err := readJSON(w, r, s.opts.MaxBodyBytes, &in); err != nil {
		return err
	}
	if in.ID != "" && in.ID != id {
		return invalid("id", "%q does not match the id in the path (%q); omit it or make them equal", in.ID, id)
	}
	in.ID = id
	res, err := s.upsert(r, []quarry.Document{in.toEngine()})
	if err != nil {
		return unbatchField(err)
	}
	return s.writeJSON(w, http.StatusOK, fromUpsertResults(res)[0])
}

func (s *Server) deleteDocument(w http.ResponseWriter, r *http.Request) error {
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	id, err := docID(r)
	if err != nil {
		return err
	}
	del := col.Delete
	if wo := writeOptions(r); wo != nil {
		del = func(ctx context.Context, id string) error { return col.DeleteScoped(ctx, id, *wo.Scope) }
	}
	if err := del(r.Context(), id); err != nil {
		if errors.Is(err, quarry.ErrNotFound) {
			return withMessage(err, "document %q does not exist in collection %q", id, col.Name())
		}
		return err
	}
	return s.writeJSON(w, http.StatusOK, deletedOut{Deleted: id})
}

// searchBatch answers a search request carrying queries: every query is
// searched with the request's other fields, spread over the cores, and the
// responses come back in order. An error names the query: queries[i].
func (s *Server) searchBatch(w http.ResponseWriter, r *http.Request, col *quarry.Collection, in *searchRequest) error {
	switch {
	case in.Query != "":
		return invalid("queries", "cannot be combined with query: send one query in query, or several in queries")
	case len(in.Queries) == 0:
		return invalid("queries", "must hold 1 to %d queries", quarry.MaxSearchBatch)
	case len(in.Queries) > quarry.MaxSearchBatch:
		return invalid("queries", "has %d queries; the limit is %d", len(in.Queries), quarry.MaxSearchBatch)
	}
	t := time.Now()
	reqs := make([]quarry.SearchRequest, len(in.Queries))
	for i, q := range in.Queries {
		reqs[i] = in.toEngine()
		reqs[i].Query = q
	}
	res, err := col.SearchBatch(r.Context(), reqs)
	if err != nil {
		var be *quarry.BatchError
		if !errors.As(err, &be) {
			return err
		}
		ae, internal := toAPIError(be.Err)
		if internal {
			return err // logged with its full text by the caller
		}
		out := *ae
		if out.Field == "" || out.Field == "query" {
			out.Field = fmt.Sprintf("queries[%d]", be.Index)
		}
		return &out
	}
	out := batchSearchResponse{Batch: make([]searchResponse, len(res))}
	for i, x := range res {
		out.Batch[i] = searchResponse{Results: fromHits(x.Results), Mode: x.Mode, TookMS: millis(x.Took), Guard: fromGuard(x.Guard)}
	}
	out.TookMS = millis(time.Since(t))
	return s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	var in searchRequest
	if err := readJSON(w, r, s.opts.MaxQueryBodyBytes, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	if err := readScope(r, &in.scopeIn); err != nil {
		return err
	}
	if in.Queries != nil {
		return s.searchBatch(w, r, col, &in)
	}
	res, err := col.Search(r.Context(), in.toEngine())
	if err != nil {
		return err
	}
	return s.writeJSON(w, http.StatusOK, searchResponse{Results: fromHits(res.Results), Mode: res.Mode, TookMS: millis(res.Took), Guard: fromGuard(res.Guard)})
}

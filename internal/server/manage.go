package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/base"
)

// registerManage declares the collection management and upload routes.
func (s *Server) registerManage() {
	s.handle("DELETE /v1/collections/{c}", s.deleteCollection)
	s.handle("PATCH /v1/collections/{c}", s.patchCollection)
	s.handle("GET /v1/collections/{c}/documents", s.listDocuments)
	s.handle("GET /v1/collections/{c}/export", s.exportCollection)
	s.handle("GET /v1/collections/{c}/backup", s.backupCollection)
	s.handle("POST /v1/collections/{c}/check", s.checkCollection)
	s.handle("POST /v1/collections/{c}/files", s.uploadFiles)
	s.handle("POST /v1/embeddings", s.embeddings) // openai_compat.go
}

// deleteCollection removes a collection with all its data.
func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("c")
	if err := s.eng.DeleteCollection(r.Context(), name); err != nil {
		return err
	}
	return s.writeJSON(w, http.StatusOK, deletedOut{Deleted: name})
}

// fixedSettings shape the index: a PATCH naming one is refused with the
// setting as field.
var fixedSettings = map[string]bool{
	"chunking": true, "bm25": true, "language": true, "embedding": true,
}

var vectorFixed = map[string]bool{"index": true, "m": true, "ef_construction": true, "quantization": true, "nlist": true}

type patchIn struct {
	Reranker         *string  `json:"reranker"`
	LLM              *llmJSON `json:"llm"`
	MaxDocumentBytes *int64   `json:"max_document_bytes"`
	Vector           *struct {
		EfSearch *int `json:"ef_search"`
		NProbe   *int `json:"nprobe"`
	} `json:"vector"`
}

// patchCollection changes the settings that can change under existing
// data: reranker, llm, max_document_bytes, vector.ef_search and
// vector.nprobe. A setting that shapes the index (chunking, bm25,
// language, embedding, the vector index kind and build parameters) or an
// unknown one is a 400 naming it.
func (s *Server) patchCollection(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.collection(r); err != nil {
		return err
	}
	body, err := readBody(w, r, s.opts.MaxQueryBodyBytes, false)
	if err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := decodeBody(body, &keys); err != nil {
		return err
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if fixedSettings[k] {
			return invalid(k, "cannot change under existing data (it shapes the index); delete and recreate the collection, or create a new one and re-ingest")
		}
		if k == "vector" {
			var v map[string]json.RawMessage
			if err := json.Unmarshal(keys[k], &v); err == nil {
				for vk := range v {
					if vectorFixed[vk] {
						return invalid("vector."+vk, "cannot change under existing data (it shapes the index); only vector.ef_search and vector.nprobe can")
					}
				}
			}
		}
	}
	var in patchIn
	if err := decodeBody(body, &in); err != nil {
		return err
	}
	p := quarry.SettingsPatch{Reranker: in.Reranker, MaxDocumentBytes: in.MaxDocumentBytes}
	if in.LLM != nil {
		l := in.LLM.toEngine()
		p.LLM = &l
	}
	if in.Vector != nil {
		p.EfSearch, p.NProbe = in.Vector.EfSearch, in.Vector.NProbe
	}
	col, err := s.eng.UpdateSettings(r.Context(), r.PathValue("c"), p)
	if err != nil {
		return err
	}
	return s.writeJSON(w, http.StatusOK, collectionOut{Name: col.Name(), Config: fromConfig(col.Config())})
}

type documentPageOut struct {
	Documents []documentOut `json:"documents"`
	// Next is the cursor of the next page (pass it as ?after=); "" on
	// the last page.
	Next string `json:"next"`
}

// listOptions reads ?after, ?limit, ?tenant, ?principal (repeatable) and
// ?filter (a JSON filter, as in search).
func listOptions(r *http.Request) (quarry.ListOptions, error) {
	q := r.URL.Query()
	o := quarry.ListOptions{After: q.Get("after"), Tenant: q.Get("tenant"), Principals: q["principal"]}
	sc := scopeIn{Tenant: o.Tenant, Principals: o.Principals}
	if err := readScope(r, &sc); err != nil { // a scoped key lists its own tenant and principals only
		return o, err
	}
	o.Tenant, o.Principals = sc.Tenant, sc.Principals
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return o, invalid("limit", "must be an integer 1..1000, got %q", v)
		}
		o.Limit = n
	}
	if v := q.Get("filter"); v != "" {
		var f base.Filter
		if err := json.Unmarshal([]byte(v), &f); err != nil {
			return o, invalid("filter", "invalid filter: %v", err)
		}
		o.Filter = f
	}
	return o, nil
}

// listDocuments returns a page of documents without their text (with
// ?text=true, whole).
func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request) error {
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	o, err := listOptions(r)
	if err != nil {
		return err
	}
	withText := r.URL.Query().Get("text") == "true"
	page, err := col.ListDocuments(r.Context(), o)
	if err != nil {
		return err
	}
	out := documentPageOut{Documents: make([]documentOut, 0, len(page.Documents)), Next: page.Next}
	for i := range page.Documents {
		d := fromDocument(&page.Documents[i])
		if !withText {
			d.Text = ""
		}
		out.Documents = append(out.Documents, d)
	}
	return s.writeJSON(w, http.StatusOK, out)
}

// exportRecord is one line of an export: the JSONL record `quarry ingest`
// and POST …/documents read back.
type exportRecord struct {
	ID       string                `json:"id"`
	Title    string                `json:"title,omitempty"`
	Text     string                `json:"text"`
	Source   string                `json:"source,omitempty"`
	Language string                `json:"language,omitempty"`
	Tenant   string                `json:"tenant,omitempty"`
	ACL      []string              `json:"acl,omitempty"`
	Metadata map[string]base.Value `json:"metadata,omitempty"`
}

// exportCollection streams every document (scoped and filtered like the
// listing) as JSONL, page by page: memory stays at one page whatever the
// collection's size. An error after the first line can only end the
// stream early (it is logged); a count of lines against the stats tells.
func (s *Server) exportCollection(w http.ResponseWriter, r *http.Request) error {
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	o, err := listOptions(r)
	if err != nil {
		return err
	}
	o.Limit = 500
	page, err := col.ListDocuments(r.Context(), o)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", col.Name()+".jsonl"))
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for {
		for _, d := range page.Documents {
			rec := exportRecord{ID: d.ID, Title: d.Title, Text: d.Text, Source: d.Source, Language: d.Language,
				Tenant: d.Tenant, ACL: d.ACL, Metadata: map[string]base.Value(d.Metadata)}
			if err := enc.Encode(rec); err != nil {
				return nil // the client went away
			}
		}
		if page.Next == "" {
			return nil
		}
		o.After = page.Next
		if page, err = col.ListDocuments(r.Context(), o); err != nil {
			s.log.Error("export failed", "collection", col.Name(), "err", err)
			return nil
		}
	}
}

// backupCollection streams a consistent copy of the collection, taken
// while it serves, as a tar archive (quarry backup --server, quarry
// restore).
func (s *Server) backupCollection(w http.ResponseWriter, r *http.Request) error {
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	// Errors before the first byte are JSON errors; a failure later cuts
	// the archive, which restore rejects as truncated.
	pw := &lazyWriter{w: w, header: func() {
		w.Header().Set("Content-Type", "application/x-tar")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", col.Name()+".tar"))
	}}
	err = s.eng.BackupCollection(r.Context(), col.Name(), pw)
	if err != nil && !pw.started {
		return err
	}
	if err != nil {
		s.log.Error("backup failed mid-stream", "collection", col.Name(), "err", err)
	}
	return nil
}

// checkOut is the outcome of a consistency check.
type checkOut struct {
	Collection string `json:"collection"`
	Consistent bool   `json:"consistent"`
	// Problem says what is inconsistent; empty when Consistent.
	Problem string `json:"problem,omitempty"`
}

// checkCollection verifies that the collection's store is whole and its
// index agrees with it (`quarry check` against a server). Damage found is
// a 200 with consistent false and the problem, which an admin may read;
// any other failure is an error response.
func (s *Server) checkCollection(w http.ResponseWriter, r *http.Request) error {
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	out := checkOut{Collection: col.Name(), Consistent: true}
	if err := col.Verify(r.Context()); err != nil {
		if !errors.Is(err, quarry.ErrCorrupt) {
			return err
		}
		s.log.Error("check found damage", "collection", col.Name(), "err", err)
		out.Consistent, out.Problem = false, err.Error()
	}
	return s.writeJSON(w, http.StatusOK, out)
}

// lazyWriter sets the headers on the first write.
type lazyWriter struct {
	w       http.ResponseWriter
	header  func()
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.header()
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}

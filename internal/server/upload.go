package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/quarry-rag/quarry"
)

// defaultMaxUploadBytes bounds a multipart upload when Options.MaxBodyBytes
// is smaller: uploads carry whole files.
const defaultMaxUploadBytes = 1 << 30

// uploadBatchBytes bounds the text of one write batch of an upload. The
// files of a request share batches (one commit, one fsync, per batch
// instead of per file: 1,118 files of ~90 KB took 1.26–1.41× the CLI's
// time with a commit each), and a batch is held at several times its text
// while it is chunked, analysed and committed. At the end of a large
// upload the server's heap is its index plus one batch, and the collector
// lets it grow by 75 % of that (serve's GC target, cmd/quarry). Measured
// with scripts/bench_upload.sh 100 (docs/benchmarks.md, issue 15): each
// batch costs a commit and a pass of the pipeline, which on a machine with
// a busy core is paid in waiting: 256 KiB batches took 1.20–1.36× the
// CLI's time beside a CPU hog, 768 KiB ones 1.03–1.13× (session 8), for
// the same peak (56–61 MB above the start, against 67–74 MB with 1 MiB
// batches at Go's default GC target).
const uploadBatchBytes = 768 << 10

// fileResult is the outcome of one uploaded file.
type fileResult struct {
	File string `json:"file"`
	quarry.StreamResult
	Error *errorDetail `json:"error,omitempty"`
}

type uploadResponse struct {
	Results []fileResult `json:"results"`
	// Error is set when the request body itself broke (a malformed or
	// truncated multipart stream); the files before it are in Results.
	Error *errorDetail `json:"error,omitempty"`
}

// uploadFiles ingests the files of a multipart/form-data request with the
// CLI's loaders: each part with a file name is copied to a temporary file
// (never held in memory), then loaded and upserted, and gets its own result.
// A file that cannot be loaded fails alone; a file cut off mid-stream is
// not written at all, since it is complete on disk before it is read.
// Form fields "tenant" and "acl" (repeatable) before the files give the
// documents that lack them a tenant and an ACL.
func (s *Server) uploadFiles(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/form-data" {
		return &apiError{Code: codeUnsupportedMedia, Message: fmt.Sprintf("Content-Type must be multipart/form-data, got %q", ct)}
	}
	if params["boundary"] == "" {
		return invalid("", "the multipart/form-data Content-Type has no boundary")
	}
	limit := max(s.opts.MaxBodyBytes, defaultMaxUploadBytes)
	if r.ContentLength > limit {
		return &apiError{Code: codeTooLarge, Message: fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit)}
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr := multipart.NewReader(r.Body, params["boundary"])
	if err := s.mayCreate(r, r.PathValue("c")); err != nil {
		return err
	}
	col, err := s.eng.EnsureCollection(r.Context(), r.PathValue("c"))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "quarry-upload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var opts quarry.StreamOptions
	opts.TempDir = tmp
	opts.BatchBytes = uploadBatchBytes
	opts.Overlap = true          // a batch is written while the next is loaded
	opts.Write = writeOptions(r) // a scoped key's documents take its tenant; others are refused
	resp := uploadResponse{Results: []fileResult{}}
	status := http.StatusOK
	// The files share write batches (quarry.Ingester); their results are
	// complete once the ingester is flushed. A form field after a file
	// starts a new ingester, so it applies to the files after it only.
	var g *quarry.Ingester
	var added []int // resp.Results index of each file added to g
	finish := func() {
		if g == nil {
			return
		}
		g.Flush(r.Context())
		srs, errs := g.Results()
		for j, k := range added {
			resp.Results[k].StreamResult = srs[j]
			if errs[j] != nil {
				resp.Results[k].Error = s.fileError(resp.Results[k].File, errs[j])
			}
		}
		g, added = nil, added[:0]
	}
	// The body is read ahead by readParts, which spools each file part to
	// disk while the part before it is loaded and written here: reading the
	// network and writing the spool overlap the loaders and the commits.
	// Every read of the body happens in readParts, and it has returned
	// before this handler does.
	parts := make(chan upPart, partsAhead)
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		readParts(mr, tmp, parts, stop)
	}()
	defer func() {
		close(stop)
		for range parts { // unblock a send; the spool folder goes with tmp
		}
		<-readerDone
	}()
	for p := range parts {
		if p.bodyErr != nil && p.name == "" {
			e := bodyError(p.bodyErr, p.index == 0)
			resp.Error, status = &errorDetail{Code: e.Code, Message: e.Message}, e.status()
			break
		}
		if p.name == "" {
			finish()
			if err := applyFormField(p, &opts); err != nil {
				return err
			}
			continue
		}
		res := fileResult{File: p.name}
		switch {
		case p.bodyErr != nil:
			res.Error = &errorDetail{Code: codeInvalid, Message: fmt.Sprintf("the upload of %s broke off: %v", p.name, p.bodyErr)}
		case p.err != nil:
			res.Error = s.fileError(p.name, p.err)
		default:
			if g == nil {
				g = col.NewIngester(&opts)
			}
			g.AddFile(r.Context(), p.path, p.name) // its error is in g.Results
			os.Remove(p.path)
			added = append(added, len(resp.Results))
		}
		resp.Results = append(resp.Results, res)
		if p.bodyErr != nil {
			e := bodyError(p.bodyErr, false)
			resp.Error, status = &errorDetail{Code: e.Code, Message: e.Message}, e.status()
			break
		}
	}
	finish()
	if len(resp.Results) == 0 && resp.Error == nil {
		return invalid("", "the upload holds no file parts (parts need a filename)")
	}
	if status == http.StatusRequestEntityTooLarge {
		w.Header().Set("Connection", "close")
	}
	return s.writeJSON(w, status, resp)
}

// partsAhead is how many parts readParts may have read beyond the one
// being loaded. They wait on disk, not in memory.
const partsAhead = 2

// upPart is one part of a multipart upload as readParts read it: a file
// spooled to path, or a form field's value.
type upPart struct {
	index int    // position in the body
	name  string // file name; "" for a form field (or a broken body)
	field string // form field name
	value []byte // form field value, up to 4097 bytes
	path  string // the spooled file
	err   error  // the part's own failure (spooling it, its field)
	// bodyErr is a failure reading the body itself: the part (if any) is
	// cut off and nothing follows it.
	bodyErr error
}

// readParts reads the parts of mr in order, spooling each file part to a
// new file in tmp, and sends them on out, which it closes when the body
// ends or breaks. It stops early once stop is closed.
func readParts(mr *multipart.Reader, tmp string, out chan<- upPart, stop <-chan struct{}) {
	defer close(out)
	for i := 0; ; i++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			return
		}
		p := upPart{index: i}
		if err != nil {
			p.bodyErr = err
		} else {
			p.name, p.field = part.FileName(), part.FormName()
			if p.name == "" {
				p.value, p.err = io.ReadAll(io.LimitReader(part, 4097))
			} else {
				p.path, p.err, p.bodyErr = spoolPart(part, tmp)
			}
			part.Close()
		}
		select {
		case out <- p:
		case <-stop:
			return
		}
		if p.bodyErr != nil {
			return
		}
	}
}

// spoolPart copies one file part to a new file in tmp. A failure reading
// the body is bodyErr (the request is broken); a failure of the file
// system is err.
func spoolPart(part io.Reader, tmp string) (path string, err, bodyErr error) {
	f, err := os.CreateTemp(tmp, "part-")
	if err != nil {
		return "", err, nil
	}
	if _, err := io.Copy(f, part); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", nil, err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err, nil
	}
	return f.Name(), nil, nil
}

// applyFormField applies a non-file form field.
func applyFormField(p upPart, opts *quarry.StreamOptions) error {
	if p.err != nil {
		return invalid(p.field, "reading the form field: %v", p.err)
	}
	if len(p.value) > 4096 {
		return invalid(p.field, "form field longer than 4096 bytes")
	}
	switch p.field {
	case "tenant":
		opts.Tenant = string(p.value)
	case "acl":
		opts.ACL = append(opts.ACL, string(p.value))
	default:
		return invalid(p.field, "unknown form field (want tenant, acl or files)")
	}
	return nil
}

// fileError is the result error of one uploaded file.
func (s *Server) fileError(name string, err error) *errorDetail {
	e, internal := toAPIError(err)
	if errors.Is(err, quarry.ErrUnsupportedFormat) {
		e = &apiError{Code: codeUnsupportedMedia, Message: fmt.Sprintf("%s: no loader reads %q files", name, strings.ToLower(filepath.Ext(name)))}
	}
	if internal {
		s.log.Error("upload failed", "file", name, "err", err)
	}
	return &errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}
}

// bodyError describes a broken multipart body.
func bodyError(err error, first bool) *apiError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &apiError{Code: codeTooLarge, Message: fmt.Sprintf("request body exceeds the limit of %d bytes", mbe.Limit)}
	}
	if first {
		return invalid("", "malformed multipart body (wrong boundary?): %v", err)
	}
	return invalid("", "malformed or truncated multipart body: %v", err)
}

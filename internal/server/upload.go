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
// time with a commit each), and a batch is held at many times its text
// while it is chunked, analysed and committed: a commit rewrites the
// bbolt leaves of the stored documents next to each new one, so its dirty
// pages are several times its text when uploads interleave with stored
// names. Measured with scripts/bench_upload.sh 100 (docs/benchmarks.md,
// issue 15, fifth pass), once language detection stopped allocating:
// 256 KiB grew the server by 61–62 MB at 0.82–1.24× the CLI's time;
// 512 KiB by 65–69 MB at 0.83–1.14×.
const uploadBatchBytes = 256 << 10

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
	for i := 0; ; i++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			e := bodyError(err, i == 0)
			resp.Error, status = &errorDetail{Code: e.Code, Message: e.Message}, e.status()
			break
		}
		name := part.FileName()
		if name == "" {
			finish()
			if err := readFormField(part, &opts); err != nil {
				part.Close()
				return err
			}
			part.Close()
			continue
		}
		if g == nil {
			g = col.NewIngester(&opts)
		}
		res, queued, bodyErr := s.uploadFile(r, g, part, name, tmp)
		part.Close()
		if queued {
			added = append(added, len(resp.Results))
		}
		resp.Results = append(resp.Results, res)
		if bodyErr != nil {
			e := bodyError(bodyErr, false)
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

// readFormField applies a non-file form field.
func readFormField(part *multipart.Part, opts *quarry.StreamOptions) error {
	v, err := io.ReadAll(io.LimitReader(part, 4097))
	if err != nil {
		return invalid(part.FormName(), "reading the form field: %v", err)
	}
	if len(v) > 4096 {
		return invalid(part.FormName(), "form field longer than 4096 bytes")
	}
	switch part.FormName() {
	case "tenant":
		opts.Tenant = string(v)
	case "acl":
		opts.ACL = append(opts.ACL, string(v))
	default:
		return invalid(part.FormName(), "unknown form field (want tenant, acl or files)")
	}
	return nil
}

// uploadFile copies one part to disk, then loads it into g. A failure
// reading the body is returned as bodyErr (the request is broken); any
// other failure is the file's own, in res.Error. queued reports whether the
// file went to g, whose flush completes res.
func (s *Server) uploadFile(r *http.Request, g *quarry.Ingester, part io.Reader, name, tmp string) (res fileResult, queued bool, bodyErr error) {
	res.File = name
	f, err := os.CreateTemp(tmp, "part-")
	if err != nil {
		res.Error = s.fileError(name, err)
		return res, false, nil
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, part); err != nil {
		res.Error = &errorDetail{Code: codeInvalid, Message: fmt.Sprintf("the upload of %s broke off: %v", name, err)}
		return res, false, err
	}
	if err := f.Close(); err != nil {
		res.Error = s.fileError(name, err)
		return res, false, nil
	}
	// Loaded where it lies: Add would copy it to a second temporary file.
	g.AddFile(r.Context(), f.Name(), name) // its error is in g.Results
	return res, true, nil
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

package ingest

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/quarry-rag/quarry/internal/base"
)

// Source names a stream that is not a file on disk: an upload, standard
// input or a downloaded URL.
type Source struct {
	// Name is the id and Source of the whole-file documents loaded from the
	// stream (made relative to Options.Root like a path), e.g. the upload's
	// file name or the URL. Its base name is the fallback title.
	Name string
	// Ext picks the loader (".pdf", ".html", ...). Default: Name's
	// extension.
	Ext string
}

func (s Source) ext() string {
	if s.Ext != "" {
		return strings.ToLower(s.Ext)
	}
	return strings.ToLower(filepath.Ext(s.Name))
}

// SupportedSource reports whether StreamReader has a loader for src.
func SupportedSource(src Source) bool { return Supported("x" + src.ext()) }

// StreamReader loads the documents read from r as LoadFile loads a file,
// calling fn for each: JSONL is streamed record by record; every other
// format is first copied to a temporary file (in dir, os.TempDir() when
// empty; removed before return) of at most opts.MaxDocBytes bytes, so an
// upload never sits in memory whole. Errors and the Skip policy are as in
// LoadFile; an unsupported extension fails with ErrUnsupported before r is
// read.
func StreamReader(ctx context.Context, r io.Reader, src Source, dir string, opts *Options, fn func(base.Document) error) error {
	o, ext, skipped, err := startStream(src, opts)
	if err != nil || skipped {
		return err
	}
	if ext == ".jsonl" {
		return streamJSONL(ctx, r, src.Name, o, jsonlStrict, fn)
	}
	tmp, err := os.MkdirTemp(dir, "quarry-ingest-")
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer os.RemoveAll(tmp)
	base := spoolName(src.Name, ext)
	p := filepath.Join(tmp, base)
	if err := spool(ctx, r, p, o.maxSpool(ext)); err != nil {
		return o.unlessSkipped(fileErr(src.Name, err))
	}
	return loadAs(ctx, p, src, o, fn)
}

// StreamFile loads the file at path as StreamReader loads a stream named
// src: the loader is picked by src's extension (path's own name does not
// matter), the documents are named by src.Name, and errors and the Skip
// policy are as in StreamReader. The file is read where it is, not copied:
// it is for a stream a caller has already spooled to disk (an upload's
// part), which StreamReader would copy a second time. A file over
// StreamReader's size bound fails with ErrTooLarge before it is read.
func StreamFile(ctx context.Context, path string, src Source, opts *Options, fn func(base.Document) error) error {
	o, ext, skipped, err := startStream(src, opts)
	if err != nil || skipped {
		return err
	}
	if ext == ".jsonl" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		defer f.Close()
		return streamJSONL(ctx, f, src.Name, o, jsonlStrict, fn)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if max := o.maxSpool(ext); fi.Size() > max {
		return o.unlessSkipped(fileErr(src.Name, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)))
	}
	o.spoolBase = spoolName(src.Name, ext)
	return loadAs(ctx, path, src, o, fn)
}

// startStream resolves opts for a stream named src and returns the
// extension that picks its loader. skipped reports an unsupported format
// that the Skip policy passed over; without Skip it is an ErrUnsupported
// error, before anything is read.
func startStream(src Source, opts *Options) (o *Options, ext string, skipped bool, err error) {
	o, err = resolve(opts)
	if err != nil {
		return nil, "", false, err
	}
	if src.Name == "" {
		return nil, "", false, fmt.Errorf("ingest: a stream needs a name")
	}
	ext = src.ext()
	if _, ok := loaders[ext]; !ok && ext != ".jsonl" {
		if err := o.unlessSkipped(fmt.Errorf("%s: %w: extension %q", src.Name, ErrUnsupported, ext)); err != nil {
			return nil, "", false, err
		}
		return o, ext, true, nil
	}
	return o, ext, false, nil
}

// loadAs loads the file at path with the loader of src's extension, naming
// its documents by src.Name, and calls fn for each.
func loadAs(ctx context.Context, path string, src Source, o *Options, fn func(base.Document) error) error {
	o.source = src.Name
	docs, err := loadExt(ctx, path, src.ext(), o)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// maxSpool bounds the bytes of a stream copied to disk: the document limit
// for text formats, the container limit for the zipped and PDF formats
// (whose text is a fraction of their size).
func (o *Options) maxSpool(ext string) int64 {
	switch ext {
	case ".txt", ".md", ".markdown", ".html", ".htm", ".csv", ".tsv":
		return o.MaxDocBytes
	}
	return max(o.MaxDocBytes, maxZipFileBytes)
}

// spoolName is a safe base name for the temporary copy of a stream: the
// name's last element (a URL's path), with ext when it lacks it.
func spoolName(name, ext string) string {
	if u, err := url.Parse(name); err == nil && u.Scheme != "" && u.Host != "" {
		name = u.Path
	}
	b := path.Base(strings.ReplaceAll(name, "\\", "/"))
	b = strings.Map(func(r rune) rune {
		if r < 0x20 || r == '/' || r == 0x7f {
			return '_'
		}
		return r
	}, b)
	if b == "." || b == "/" || b == ".." || b == "" {
		b = "document"
	}
	if len(b) > 200 {
		b = b[:200]
	}
	if !strings.EqualFold(filepath.Ext(b), ext) {
		b += ext
	}
	return b
}

// spool copies r to a new file at p, failing with ErrTooLarge past max
// bytes. The file is removed on failure.
func spool(ctx context.Context, r io.Reader, p string, max int64) (err error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("ingest: %w", cerr)
		}
		if err != nil {
			os.Remove(p)
		}
	}()
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, max+1))
	if err != nil {
		return fmt.Errorf("ingest: reading %s: %w", filepath.Base(p), err)
	}
	if n > max {
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return nil
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// contentTypeExt maps the media types the loaders read to an extension.
var contentTypeExt = map[string]string{
	"text/plain":                ".txt",
	"text/markdown":             ".md",
	"text/x-markdown":           ".md",
	"text/html":                 ".html",
	"application/xhtml+xml":     ".html",
	"application/pdf":           ".pdf",
	"text/csv":                  ".csv",
	"text/tab-separated-values": ".tsv",
	"application/jsonl":         ".jsonl",
	"application/x-ndjson":      ".jsonl",
	"application/epub+zip":      ".epub",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   ".docx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         ".xlsx",
}

// ExtForContentType returns the loader extension for a Content-Type header
// value, or "" when no loader reads it (application/octet-stream and the
// like: the caller falls back to the name's extension).
func ExtForContentType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return contentTypeExt[mt]
}

package quarry

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/quarry-rag/quarry/internal/ingest"
)

// ErrUnsupportedFormat: no loader reads the file's format (by extension or
// content type).
var ErrUnsupportedFormat = errors.New("quarry: unsupported file format")

// StreamOptions control Collection.IngestStream. A nil *StreamOptions means
// defaults.
type StreamOptions struct {
	// Tenant is given to documents that name none. Default "".
	Tenant string
	// ACL is given to documents that have no ACL of their own. Default
	// none.
	ACL []string
	// TempDir holds the temporary copy of a non-JSONL stream while it is
	// loaded. Default os.TempDir().
	TempDir string
	// BatchDocs is the number of documents per Upsert (one durable
	// commit). Default 64 with an embedding model, else 1024.
	BatchDocs int
	// BatchBytes bounds the text of one batch. Default 1 MiB: a batch is
	// held whole while it is chunked, analysed and committed, at many
	// times its text. A 100 MB JSONL upload of 21 KB records grew the
	// server by 365 MB with 32 MiB batches, 115 MB with 4 MiB and 66 MB
	// with 1 MiB, in the same time (docs/benchmarks.md, issue 15). A
	// single document larger than this is a batch of its own.
	BatchBytes int
	// Write are the options of every batch's Upsert: a scoped write
	// (WriteOptions.Scope) gives documents without a tenant the scope's
	// and refuses any other. Default nil, an unscoped write.
	Write *WriteOptions
}

// StreamResult counts what IngestStream wrote.
type StreamResult struct {
	Documents int `json:"documents"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Chunks    int `json:"chunks"`
}

// IngestStream loads the file read from r with the loaders of `quarry
// ingest` (name's extension picks the format: .pdf, .docx, .pptx, .xlsx,
// .epub, .csv, .md, .html, .txt, .jsonl, ...) and upserts its documents in
// batches. Whole-file documents take name as id and source. The stream is
// never held in memory whole: JSONL is read record by record and other
// formats are spooled to a temporary file.
//
// A file no loader reads fails with ErrUnsupportedFormat before r is read;
// a file that cannot be loaded (corrupt, encrypted, empty, invalid UTF-8)
// fails with ErrInvalid, one over a size limit with ErrTooLarge. When r is
// an io.ReadSeeker (an upload spooled to disk) these checks and the
// documents' validation run over the whole stream before anything is
// written, so such a file writes nothing. Otherwise, or when a write
// itself fails, batches committed before the error stay committed (each
// is atomic): the result counts them.
func (c *Collection) IngestStream(ctx context.Context, r io.Reader, name string, opts *StreamOptions) (StreamResult, error) {
	var o StreamOptions
	if opts != nil {
		o = *opts
	}
	if o.BatchDocs <= 0 {
		o.BatchDocs = 1024
		if c.cfg.Embedding != "" {
			o.BatchDocs = 64
		}
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 1 << 20
	}
	var res StreamResult
	var batch []Document
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rs, err := c.Upsert(ctx, batch, o.Write)
		if err != nil {
			return err
		}
		for _, r := range rs {
			res.Documents++
			res.Chunks += r.Chunks
			switch r.Status {
			case StatusCreated:
				res.Created++
			case StatusUpdated:
				res.Updated++
			default:
				res.Unchanged++
			}
		}
		// Drop the committed documents: the slice is reused, and its old
		// entries would keep their text alive while the next batch is read.
		clear(batch)
		batch, size = batch[:0], 0
		return nil
	}
	prep := func(d *Document) {
		if d.Tenant == "" {
			d.Tenant = o.Tenant
		}
		if d.Tenant == "" && o.Write != nil && o.Write.Scope != nil {
			d.Tenant = o.Write.Scope.Tenant
		}
		if len(d.ACL) == 0 && len(o.ACL) > 0 {
			d.ACL = append([]string(nil), o.ACL...)
		}
	}
	full := func() bool { return len(batch) >= o.BatchDocs || size >= o.BatchBytes }
	if rs, ok := r.(io.ReadSeeker); ok {
		// Read a seekable stream twice when it holds more than one batch:
		// first only loaded and validated, so that a file with a bad
		// record writes nothing, then ingested. A stream of one batch is
		// loaded once, its documents held.
		start, err := rs.Seek(0, io.SeekCurrent)
		if err != nil {
			return res, err
		}
		n, twice := 0, false
		err = ingest.StreamReader(ctx, rs, ingest.Source{Name: name}, o.TempDir, nil, func(d Document) error {
			prep(&d)
			if err := c.validateDocument(&d); err != nil {
				return prefixField(fmt.Sprintf("documents[%d]", n), err)
			}
			n++
			if twice {
				return nil
			}
			if full() {
				twice, batch, size = true, nil, 0
				return nil
			}
			batch = append(batch, d)
			size += len(d.Text)
			return nil
		})
		if err != nil {
			return res, mapIngestErr(err)
		}
		if !twice {
			return res, mapIngestErr(flush())
		}
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return res, err
		}
	}
	err := ingest.StreamReader(ctx, r, ingest.Source{Name: name}, o.TempDir, nil, func(d Document) error {
		prep(&d)
		batch = append(batch, d)
		size += len(d.Text)
		if full() {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return res, mapIngestErr(err)
}

// mapIngestErr gives a loader's error the engine's sentinel.
func mapIngestErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ingest.ErrUnsupported):
		return fmt.Errorf("%w: %v", ErrUnsupportedFormat, err)
	case errors.Is(err, ingest.ErrTooLarge):
		return &FieldError{Field: "file", Msg: err.Error(), Err: ErrTooLarge}
	case ingest.IsSkippable(err):
		return &FieldError{Field: "file", Msg: err.Error()}
	}
	return err
}

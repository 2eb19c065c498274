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
	// Overlap lets an Ingester write a full batch while the next one is
	// loaded (at most one write in flight), so reading and parsing the
	// files runs during the commit and its fsync instead of after them.
	// Memory holds up to two batches. A file whose write fails loses its
	// documents queued behind the failed batch too, as without Overlap it
	// would not have queued them. Default false: Add returns after a full
	// batch is written. Uploads set it (internal/server): with texts stored
	// apart from their records, scripts/bench_upload.sh 100 took 0.86-1.05x
	// the CLI's time with it against 1.08-1.30x without, for 1-2 MB more
	// at the peak (docs/benchmarks.md, issue 15, session 7).
	Overlap bool
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
	g := c.NewIngester(opts)
	if err := g.Add(ctx, r, name); err != nil {
		g.wait() // with Overlap, a batch of it may still be in flight
		return g.files[0], err
	}
	g.Flush(ctx)
	return g.files[0], g.errs[0]
}

// An Ingester ingests several files as IngestStream ingests one, but the
// files share write batches: each Upsert is one durable commit (an fsync),
// so an upload of many small files paid one commit per file. 1,118 files
// of ~90 KB each took 1.3–1.4× as long through the upload API as `quarry
// ingest` of the same folder, which batches across files (docs/
// benchmarks.md, issue 15). A file's own failures (unsupported, invalid,
// too large) still leave nothing of it queued; a batch whose write fails
// gives its error to every file with documents in it, and batches written
// before stay written, as with IngestStream. An Ingester is not safe for
// concurrent use.
type Ingester struct {
	c     *Collection
	o     StreamOptions
	batch []Document
	owner []int // the file of each queued document
	size  int
	files []StreamResult
	errs  []error

	// With Overlap: the write in flight, if any, and the buffers of the
	// last finished one, reused for the next batch.
	flight *ingestWrite
	spare  *ingestWrite
}

// ingestWrite is one batch's Upsert run by an overlapping Ingester.
type ingestWrite struct {
	done  chan struct{}
	batch []Document
	owner []int
	rs    []UpsertResult
	err   error
}

// NewIngester returns an Ingester writing to c with opts (nil: defaults).
func (c *Collection) NewIngester(opts *StreamOptions) *Ingester {
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
	return &Ingester{c: c, o: o}
}

// Results returns, per file in the order of Add, what was written and the
// file's error, if any. Complete after Flush.
func (g *Ingester) Results() ([]StreamResult, []error) { return g.files, g.errs }

// Flush writes the queued documents and waits for every write.
func (g *Ingester) Flush(ctx context.Context) {
	g.write(ctx)
	g.wait()
}

// write writes the queued documents: now, or with Overlap in the
// background once the write before has finished.
func (g *Ingester) write(ctx context.Context) {
	if !g.o.Overlap {
		if len(g.batch) == 0 {
			return
		}
		rs, err := g.c.Upsert(ctx, g.batch, g.o.Write)
		g.account(g.owner, rs, err)
		// Drop the written documents: the slices are reused, and their old
		// entries would keep the text alive while the next batch is read.
		clear(g.batch)
		g.batch, g.owner, g.size = g.batch[:0], g.owner[:0], 0
		return
	}
	g.wait()
	g.dropFailed()
	if len(g.batch) == 0 {
		return
	}
	w := g.spare
	if w == nil {
		w = new(ingestWrite)
	}
	g.spare = nil
	w.done = make(chan struct{})
	// The queued documents go to the write; the next batch fills the
	// buffers of the last one.
	w.batch, g.batch = g.batch, w.batch[:0]
	w.owner, g.owner = g.owner, w.owner[:0]
	g.size = 0
	g.flight = w
	go func() {
		defer close(w.done)
		defer func() {
			// net/http recovers a panic in a handler; this goroutine is
			// outside it, so a bug must not take the server down.
			if p := recover(); p != nil {
				w.rs, w.err = nil, fmt.Errorf("quarry: write of an ingest batch panicked: %v", p)
			}
		}()
		w.rs, w.err = g.c.Upsert(ctx, w.batch, g.o.Write)
		// Drop the documents now, not when the next batch is full: their
		// text would stay alive while it is read.
		clear(w.batch)
	}()
}

// wait waits for the write in flight, if any, and counts its results.
func (g *Ingester) wait() {
	w := g.flight
	if w == nil {
		return
	}
	<-w.done
	g.flight = nil
	g.account(w.owner, w.rs, w.err)
	w.batch, w.owner, w.rs, w.err = w.batch[:0], w.owner[:0], nil, nil
	g.spare = w
}

// dropFailed unqueues the documents of files whose write failed: the
// rest of a file stops at its first failed batch.
func (g *Ingester) dropFailed() {
	n := 0
	for i, d := range g.batch {
		if g.errs[g.owner[i]] != nil {
			g.size -= len(d.Text)
			continue
		}
		g.batch[n], g.owner[n] = d, g.owner[i]
		n++
	}
	clear(g.batch[n:])
	g.batch, g.owner = g.batch[:n], g.owner[:n]
}

// account adds a written batch's results to its files, or its error.
func (g *Ingester) account(owner []int, rs []UpsertResult, err error) {
	if err != nil {
		err = mapIngestErr(err)
		for _, f := range owner {
			if g.errs[f] == nil {
				g.errs[f] = err
			}
		}
	}
	for i, r := range rs {
		res := &g.files[owner[i]]
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
}

// Add loads the file read from r with the loaders of `quarry ingest` (name's
// extension picks the format) and queues its documents, writing batches as
// they fill. When r is an io.ReadSeeker (a file on disk) the file is
// loaded and validated whole before any of it is queued, so a file with a
// bad record queues nothing; a file of at most one batch is loaded once.
// The error returned is the file's own (ErrUnsupportedFormat, ErrInvalid,
// ErrTooLarge, a read error); it is in Results too. Errors of a batch's
// write are reported through Results.
func (g *Ingester) Add(ctx context.Context, r io.Reader, name string) error {
	src := ingest.Source{Name: name}
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return g.addFrom(ctx, func(fn func(Document) error) error {
			return ingest.StreamReader(ctx, r, src, g.o.TempDir, nil, fn)
		}, false)
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return g.addFrom(ctx, func(func(Document) error) error { return err }, false)
	}
	return g.addFrom(ctx, func(fn func(Document) error) error {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return err
		}
		return ingest.StreamReader(ctx, rs, src, g.o.TempDir, nil, fn)
	}, true)
}

// AddFile is Add for a stream already copied to the file at path (an
// upload's part spooled to disk): name, not path, picks the format and
// names the documents, and the file is read where it is instead of being
// copied to a temporary file first. As with a seekable stream, the file is
// validated whole before any of it is queued.
func (g *Ingester) AddFile(ctx context.Context, path, name string) error {
	return g.addFrom(ctx, func(fn func(Document) error) error {
		return ingest.StreamFile(ctx, path, ingest.Source{Name: name}, nil, fn)
	}, true)
}

// addFrom queues the documents load gives for a new file. again reports
// whether load can be called twice.
func (g *Ingester) addFrom(ctx context.Context, load func(fn func(Document) error) error, again bool) error {
	f := len(g.files)
	g.files = append(g.files, StreamResult{})
	g.errs = append(g.errs, nil)
	err := g.add(ctx, load, again, f)
	if err != nil {
		// Unqueue what this file queued since the last write (its documents
		// are the batch's tail).
		n := len(g.owner)
		for n > 0 && g.owner[n-1] == f {
			n--
			g.size -= len(g.batch[n].Text)
		}
		clear(g.batch[n:])
		g.batch, g.owner = g.batch[:n], g.owner[:n]
		err = mapIngestErr(err)
		g.errs[f] = err
	}
	return err
}

func (g *Ingester) add(ctx context.Context, load func(fn func(Document) error) error, again bool, f int) error {
	o := &g.o
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
	queue := func(d Document) error {
		g.batch = append(g.batch, d)
		g.owner = append(g.owner, f)
		g.size += len(d.Text)
		if len(g.batch) >= o.BatchDocs || g.size >= o.BatchBytes {
			g.write(ctx)
		}
		return g.errs[f] // a failed write stops the file
	}
	if again {
		// Load a file that can be read twice first only to validate it
		// when it holds more than one batch, so that a file with a bad
		// record queues nothing, then again to queue it. A file of one
		// batch is loaded once, its documents held.
		var held []Document
		n, size, twice := 0, 0, false
		err := load(func(d Document) error {
			prep(&d)
			if err := g.c.validateDocument(&d); err != nil {
				return prefixField(fmt.Sprintf("documents[%d]", n), err)
			}
			n++
			if twice {
				return nil
			}
			if len(held) >= o.BatchDocs || size >= o.BatchBytes {
				twice, held = true, nil
				return nil
			}
			held = append(held, d)
			size += len(d.Text)
			return nil
		})
		if err != nil {
			return err
		}
		if !twice {
			for _, d := range held {
				if err := queue(d); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return load(func(d Document) error {
		prep(&d)
		return queue(d)
	})
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

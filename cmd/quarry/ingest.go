package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
)

type ingestSummary struct {
	Documents int     `json:"documents"`
	Created   int     `json:"created"`
	Updated   int     `json:"updated"`
	Unchanged int     `json:"unchanged"`
	Skipped   int     `json:"skipped"`
	Chunks    int     `json:"chunks"`
	Seconds   float64 `json:"seconds"`
	// SkippedFiles lists the files a walk passed over, with the reason.
	SkippedFiles []skippedFile `json:"skipped_files,omitempty"`
}

// batcher groups documents into Upsert calls of bounded count and size. Each
// call is one atomic, durable commit.
type batcher struct {
	ctx      context.Context
	col      *quarry.Collection
	skip     bool
	warn     func(string)
	progress *ingest.Progress
	docs     []quarry.Document
	bytes    int
	sum      ingestSummary
	maxDocs  int // documents per Upsert; 0 = batchDocs

	stdinName string // id and format of the document read from "-"
}

const (
	batchDocs = 1024
	// batchBytes bounds the text of one Upsert. A batch is held whole at
	// many times its text while it is chunked, analysed and committed:
	// with 32 MiB, ingesting one 100 MB JSONL file peaked at 424 MB RSS
	// (docs/benchmarks.md, issue 15). The same bound as uploads
	// (StreamOptions.BatchBytes).
	batchBytes = 1 << 20
	// embedBatchDocs is the batch for collections with an embedding model:
	// embedding is slow, so smaller commits keep the progress bar moving
	// and lose less work to an interruption.
	embedBatchDocs = 64
)

// newBatcher returns a batcher sized for col.
func newBatcher(ctx context.Context, col *quarry.Collection, label string) *batcher {
	b := &batcher{ctx: ctx, col: col, progress: ingest.NewProgress(os.Stderr, label, 0), warn: func(string) {}}
	if col.Config().Embedding != "" {
		b.maxDocs = embedBatchDocs
	}
	return b
}

func (b *batcher) add(d quarry.Document) error {
	b.docs = append(b.docs, d)
	b.bytes += len(d.Text)
	limit := b.maxDocs
	if limit == 0 {
		limit = batchDocs
	}
	if len(b.docs) >= limit || b.bytes >= batchBytes {
		return b.flush()
	}
	return nil
}

func (b *batcher) flush() error {
	for len(b.docs) > 0 {
		res, err := b.col.Upsert(b.ctx, b.docs, nil)
		if err != nil {
			var fe *quarry.FieldError
			i := -1
			if errors.As(err, &fe) {
				fmt.Sscanf(fe.Field, "documents[%d]", &i)
			}
			if i < 0 || i >= len(b.docs) {
				return err
			}
			bad := b.docs[i]
			msg := fmt.Sprintf("document %q (%s): %s", bad.ID, bad.Source, strings.TrimPrefix(fe.Error(), "quarry: "))
			if !b.skip {
				return errors.New(msg)
			}
			b.warn("skipped " + msg)
			b.sum.Skipped++
			b.docs = append(b.docs[:i], b.docs[i+1:]...)
			continue
		}
		for _, r := range res {
			b.sum.Documents++
			b.sum.Chunks += r.Chunks
			switch r.Status {
			case quarry.StatusCreated:
				b.sum.Created++
			case quarry.StatusUpdated:
				b.sum.Updated++
			default:
				b.sum.Unchanged++
			}
		}
		b.progress.Add(len(res))
		b.docs, b.bytes = b.docs[:0], 0
	}
	return nil
}

func setupIngest(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var include, exclude stringList
	fs.Var(&include, "include", "glob of files to include (repeatable; default all supported types)")
	fs.Var(&exclude, "exclude", "glob of files to exclude (repeatable)")
	onError := fs.String("on-error", "abort", "what to do with a bad document or line: abort or skip")
	tenant := fs.String("tenant", "", "tenant for documents that do not name one")
	var acl stringList
	fs.Var(&acl, "acl", "principal allowed to read documents that have no ACL of their own (repeatable)")
	stdinName := fs.String("stdin-name", "stdin.txt", "id of the document read from \"-\" (standard input); its extension picks the format (notes.md, data.jsonl, report.pdf)")
	embedding := fs.String("embedding", "", "embedding model of the collection when ingest creates it (e.g. all-MiniLM-L6-v2), for dense and hybrid search; an existing collection must have the same")
	return func(ctx context.Context, paths []string) error {
		if len(paths) == 0 {
			return usagef("give at least one file or folder to ingest")
		}
		if *onError != "abort" && *onError != "skip" {
			return usagef("--on-error must be abort or skip, got %q", *onError)
		}
		cl, eng, err := openEngineOrRemote(ctx, env)
		if err != nil {
			return err
		}
		if cl != nil {
			if *embedding != "" {
				return usagef("--embedding needs the data directory; with a server, create the collection through its API (POST /v1/collections)")
			}
			return remoteIngest(ctx, env, cl, paths, include, exclude, *tenant, acl, *stdinName, *onError == "skip")
		}
		defer eng.Close()
		var col *quarry.Collection
		if *embedding != "" {
			col, _, err = eng.CreateCollection(ctx, env.collection, &quarry.CollectionConfig{Embedding: *embedding})
		} else {
			col, err = eng.EnsureCollection(ctx, env.collection)
		}
		if inUse(err) {
			err = fmt.Errorf("%v; if a quarry serve holds it, pass its URL with --server (or $QUARRY_SERVER)", oneLine(err))
		}
		if err != nil {
			return err
		}
		start := time.Now()
		b := newBatcher(ctx, col, "ingest")
		b.skip = *onError == "skip"
		b.stdinName = *stdinName
		b.warn = func(s string) { fmt.Fprintln(env.stderr, "quarry ingest: "+s) }
		lopts := &ingest.Options{OnError: ingest.Abort}
		if b.skip {
			lopts.OnError = ingest.Skip
			lopts.OnSkip = func(err error) {
				b.sum.Skipped++
				b.warn("skipped " + oneLine(err))
			}
		}
		add := func(d quarry.Document) error {
			if d.Tenant == "" {
				d.Tenant = *tenant
			}
			if len(d.ACL) == 0 && len(acl) > 0 {
				d.ACL = append([]string(nil), acl...)
			}
			return b.add(d)
		}
		for _, p := range paths {
			if err := ingestPath(ctx, p, include, exclude, lopts, add, b); err != nil {
				b.progress.Done()
				return err
			}
		}
		if err := b.flush(); err != nil {
			b.progress.Done()
			return err
		}
		b.progress.Done()
		if err := col.Flush(ctx); err != nil {
			return err
		}
		return printIngestSummary(env, b.sum, start)
	}
}

func ingestPath(ctx context.Context, p string, include, exclude []string, lopts *ingest.Options, add func(quarry.Document) error, b *batcher) error {
	if p == "-" || ingest.IsURL(p) {
		return ingestStream(ctx, p, lopts, add, b)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() && ingest.IsBEIR(p) {
		return ingest.LoadBEIRCorpus(ctx, p, add)
	}
	if !fi.IsDir() {
		return ingestFile(ctx, p, filepath.Dir(p), lopts, add, b)
	}
	// A walk takes the files Quarry can read and passes over the rest
	// (images, logs, binaries); a file named on the command line must be
	// readable.
	return ingest.Walk(ctx, p, &ingest.WalkOptions{Include: include, Exclude: exclude}, func(path string) error {
		if !ingest.Supported(path) {
			b.skipUnsupported(path)
			return nil
		}
		return ingestFile(ctx, path, p, lopts, add, b)
	})
}

func ingestFile(ctx context.Context, path, root string, lopts *ingest.Options, add func(quarry.Document) error, b *batcher) error {
	if strings.EqualFold(filepath.Ext(path), ".jsonl") {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return ingest.StreamJSONL(ctx, f, path, lopts, add)
	}
	o := *lopts
	o.Root = root
	docs, err := ingest.LoadFile(ctx, path, &o)
	if err != nil {
		if lopts.OnError == ingest.Skip {
			b.sum.Skipped++
			b.warn("skipped " + oneLine(err))
			return nil
		}
		return err
	}
	for _, d := range docs {
		if err := add(d); err != nil {
			return err
		}
	}
	return nil
}

func printIngestSummary(env *cliEnv, s ingestSummary, start time.Time) error {
	s.Seconds = time.Since(start).Seconds()
	if env.json {
		return printJSON(env.stdout, s)
	}
	fmt.Fprintf(env.stdout, "ingested %d documents into %q (%d created, %d updated, %d unchanged, %d skipped), %d chunks, in %.2fs\n",
		s.Documents, env.collection, s.Created, s.Updated, s.Unchanged, s.Skipped, s.Chunks, s.Seconds)
	return nil
}

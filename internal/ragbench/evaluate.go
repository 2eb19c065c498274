package ragbench

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
)

// Spec is one evaluation run from a dataset path to a report: what
// `quarry eval rag` and the server's evaluation jobs both run through
// Evaluate, so that the two cannot drift apart.
type Spec struct {
	// Path is an XQuAD-style folder (its corpus is indexed into a scratch
	// collection) or a JSONL question file (asked of Collection).
	Path string
	// Name, when set, replaces the dataset's name in the report (the name
	// baselines are matched on).
	Name string
	// Limit asks only the first Limit questions (0: all).
	Limit int
	// Collection is asked a JSONL question file's questions.
	Collection *quarry.Collection
	// Scratch opens an empty engine in dir for a folder's corpus; the
	// engine is closed and dir removed when Evaluate returns. Required for
	// folders.
	Scratch func(dir string) (*quarry.Engine, error)
	// ScratchDir is where the scratch engine's folder is made ("": the
	// system's temporary folder).
	ScratchDir string
	// ScratchName is the scratch collection's name. Default "eval-rag".
	ScratchName string
	// Embedding is the scratch collection's embedding model; "" is
	// all-MiniLM-L6-v2 for the dense and hybrid modes and none for BM25.
	Embedding string
	// ChunkSize is the scratch collection's chunk size. Default 512.
	ChunkSize int
	// Indexed, when set, is called after each batch of corpus documents
	// is indexed, with the batch's size.
	Indexed func(docs int)
	// Judge, when set, adds the judged metrics; an empty Embedding is the
	// asked collection's model.
	Judge *JudgeConfig
	// Opts are the Runner's options (Judge is set from the field above).
	Opts Options
}

// Default settings of a Spec.
const (
	DefaultChunkSize  = 512
	DefaultDenseModel = "all-MiniLM-L6-v2"
)

// Load reads the dataset at path: a folder is XQuAD-style, a file a JSONL
// question set.
func Load(path string) (*Dataset, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return LoadXQuAD(path)
	}
	return LoadJSONL(path)
}

// Evaluate loads s.Path, indexes a folder's corpus into a scratch
// collection (or uses s.Collection for a question file), asks the
// questions with a Runner and returns the report. A nil report with an
// error is a failure before the first question; a report with an error is
// a run stopped early (ctx ended), its results kept and marked Partial.
func Evaluate(ctx context.Context, s Spec) (*Report, error) {
	ds, err := Load(s.Path)
	if err != nil {
		return nil, err
	}
	if s.Name != "" {
		ds.Name = s.Name
	}
	if s.Limit > 0 && len(ds.Questions) > s.Limit {
		ds.Questions = ds.Questions[:s.Limit]
	}
	col := s.Collection
	if ds.Dir != "" {
		if !ingest.IsBEIR(ds.Dir) {
			return nil, fmt.Errorf("%s has no corpus.jsonl", ds.Dir)
		}
		if s.Scratch == nil {
			return nil, errors.New("ragbench: a dataset folder needs Spec.Scratch to index its corpus")
		}
		dir, err := os.MkdirTemp(s.ScratchDir, "quarry-evalrag-*")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		eng, err := s.Scratch(dir)
		if err != nil {
			return nil, err
		}
		defer eng.Close()
		if col, err = indexCorpus(ctx, eng, ds.Dir, s); err != nil {
			return nil, err
		}
	} else if col == nil {
		return nil, fmt.Errorf("%s is a question file: it needs a collection to ask", s.Path)
	}
	o := s.Opts
	if s.Judge != nil {
		jc := *s.Judge
		if jc.Embedding == "" {
			jc.Embedding = col.Config().Embedding
		}
		j, err := NewJudge(jc)
		if err != nil {
			return nil, fmt.Errorf("judge (--judge-url, --judge-model): %w", err)
		}
		defer j.Close()
		o.Judge = j
	}
	r := &Runner{Col: col, Opts: o}
	return r.Run(ctx, ds)
}

// Corpus batches: each Upsert is one durable commit; embedding is slow, so
// collections with a model commit smaller batches.
const (
	batchDocs      = 1024
	batchBytes     = 32 << 20
	embedBatchDocs = 64
)

// indexCorpus creates the scratch collection and indexes dir's
// corpus.jsonl into it.
func indexCorpus(ctx context.Context, eng *quarry.Engine, dir string, s Spec) (*quarry.Collection, error) {
	model := s.Embedding
	if model == "" && s.Opts.Mode != "" && s.Opts.Mode != quarry.ModeBM25 {
		model = DefaultDenseModel
	}
	size := s.ChunkSize
	if size <= 0 {
		size = DefaultChunkSize
	}
	name := s.ScratchName
	if name == "" {
		name = "eval-rag"
	}
	col, _, err := eng.CreateCollection(ctx, name, &quarry.CollectionConfig{
		Chunking: quarry.ChunkingConfig{Size: size}, Embedding: model})
	if err != nil {
		return nil, err
	}
	limit := batchDocs
	if model != "" {
		limit = embedBatchDocs
	}
	var docs []quarry.Document
	bytes := 0
	flush := func() error {
		if len(docs) == 0 {
			return nil
		}
		if _, err := col.Upsert(ctx, docs, nil); err != nil {
			var fe *quarry.FieldError
			i := -1
			if errors.As(err, &fe) {
				fmt.Sscanf(fe.Field, "documents[%d]", &i)
			}
			if i >= 0 && i < len(docs) {
				return fmt.Errorf("%s: document %q: %w", dir, docs[i].ID, err)
			}
			return err
		}
		if s.Indexed != nil {
			s.Indexed(len(docs))
		}
		docs, bytes = docs[:0], 0
		return nil
	}
	err = ingest.LoadBEIRCorpus(ctx, dir, func(d quarry.Document) error {
		docs = append(docs, d)
		bytes += len(d.Text)
		if len(docs) >= limit || bytes >= batchBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
	return col, nil
}

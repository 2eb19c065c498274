package main

import (
	"github.com/spf13/pflag"

	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
	"github.com/quarry-rag/quarry/internal/ragbench"
)

// regressionError is a run that dropped below its baseline: exit status 3.
type regressionError struct{ dropped []string }

func (e regressionError) Error() string {
	return "metrics dropped below the baseline: " + strings.Join(e.dropped, "; ")
}

func (regressionError) ExitCode() int { return 3 }

const evalRAGUsage = "usage: quarry eval rag --dataset DIR|FILE.jsonl [--method extractive|llm] [--mode bm25] [--k 5] [--limit N] [--judge-url URL --judge-model NAME] [--report DIR] [--baseline FILE --max-drop 0.02] [--json]"

// runEvalRAG is `quarry eval rag`: answer quality (and its cost) on a
// question set. Exit status 0 ok, 1 error, 2 usage, 3 regression against
// --baseline.
func setupEvalRAG(env *cliEnv, fs *pflag.FlagSet) runFunc {
	dataset := fs.String("dataset", "", "XQuAD-style folder (corpus.jsonl, queries.jsonl, answers.jsonl), or a JSONL of {\"question\",\"reference\",\"reference_contexts\"?} asked of --collection")
	method := fs.String("method", quarry.MethodExtractive, "answer method: extractive or llm")
	mode := fs.String("mode", quarry.ModeBM25, "retrieval mode: bm25, dense or hybrid")
	model := fs.String("model", "", "embedding model of the evaluation collection (dense and hybrid modes, default all-MiniLM-L6-v2 there; with bm25 it gives the extractive answerer an embedder and retrieval stays lexical)")
	k := fs.Int("k", 5, "chunks retrieved as context per question")
	limit := fs.Int("limit", 0, "ask only the first N questions (0: all)")
	maxSent := fs.Int("max-sentences", 1, "sentences in an extractive answer")
	lang := fs.String("lang", "", "answer normalisation language (ISO 639-1; default: detected from the questions)")
	chunkSize := fs.Int("chunk-size", 512, "chunk size in tokens for the evaluation index")
	judgeURL := fs.String("judge-url", "", "judge model server (OpenAI-compatible or Ollama; default the answering --llm-url)")
	judgeModel := fs.String("judge-model", "", "judge model name (default the answering --llm-model)")
	judgeTimeout := fs.Duration("judge-timeout", 2*time.Minute, "bound on one judge call")
	noJudge := fs.Bool("no-judge", false, "skip the judged metrics even when a model is configured")
	report := fs.String("report", "", "write a self-contained HTML report into this folder")
	baseline := fs.String("baseline", "", "a previous --json report; exit 3 if a metric dropped by more than --max-drop")
	maxDrop := fs.Float64("max-drop", 0.02, "largest allowed drop of a metric mean against --baseline")
	var lf llmFlags
	lf.bind(fs)
	return func(ctx context.Context, _ []string) error {
		return evalRAG(ctx, env, evalRAGFlags{dataset, method, mode, model, k, limit, maxSent, lang, chunkSize,
			judgeURL, judgeModel, judgeTimeout, noJudge, report, baseline, maxDrop, &lf})
	}
}

// evalRAGFlags are eval rag's flag values.
type evalRAGFlags struct {
	dataset, method, mode, model *string
	k, limit, maxSent            *int
	lang                         *string
	chunkSize                    *int
	judgeURL, judgeModel         *string
	judgeTimeout                 *time.Duration
	noJudge                      *bool
	report, baseline             *string
	maxDrop                      *float64
	lf                           *llmFlags
}

func evalRAG(ctx context.Context, env *cliEnv, f evalRAGFlags) error {
	dataset, method, mode, model, k, limit, maxSent, lang, chunkSize := f.dataset, f.method, f.mode, f.model, f.k, f.limit, f.maxSent, f.lang, f.chunkSize
	judgeURL, judgeModel, judgeTimeout, noJudge, report, baseline, maxDrop, lf := f.judgeURL, f.judgeModel, f.judgeTimeout, f.noJudge, f.report, f.baseline, f.maxDrop, *f.lf
	switch {
	case *dataset == "":
		return usagef("--dataset is required; " + evalRAGUsage)
	case *method != quarry.MethodExtractive && *method != quarry.MethodLLM:
		return usagef("--method must be extractive or llm, got %q", *method)
	case *method == quarry.MethodLLM && (lf.url == "" || lf.model == ""):
		return usagef("--method llm needs a language model: set --llm-url and --llm-model (or QUARRY_LLM_URL and QUARRY_LLM_MODEL)")
	case *k < 1 || *k > quarry.MaxK:
		return usagef("--k must be between 1 and %d", quarry.MaxK)
	case *limit < 0:
		return usagef("--limit must be ≥ 0")
	case *maxSent < 1 || *maxSent > 20:
		return usagef("--max-sentences must be between 1 and 20")
	case !(*maxDrop >= 0):
		return usagef("--max-drop must be ≥ 0")
	}
	var base *ragbench.Report
	if *baseline != "" {
		var err error
		if base, err = ragbench.LoadReport(*baseline); err != nil {
			return err
		}
	}
	fi, err := os.Stat(*dataset)
	if err != nil {
		return fmt.Errorf("--dataset: %w", err)
	}
	opts := engineOptions(env)
	lf.apply(opts)
	spec := ragbench.Spec{Path: *dataset, Limit: *limit, Embedding: *model, ChunkSize: *chunkSize,
		Opts: ragbench.Options{Method: *method, Mode: *mode, K: *k, MaxSentences: *maxSent, Lang: *lang}}
	if fi.IsDir() {
		name := evalCollection(&env.backend, *dataset, *model, *chunkSize)
		spec.ScratchName = name[:min(len(name), 60)] + "-rag" // a collection of its own, within the 64-byte name limit
		spec.Scratch = func(dir string) (*quarry.Engine, error) { return quarry.Open(dir, opts) }
		indexed := ingest.NewProgress(os.Stderr, "index", 0)
		defer indexed.Done()
		spec.Indexed = func(n int) { indexed.Add(n) }
	} else {
		eng, col, err := openCollectionLLM(ctx, env, &lf)
		if err != nil {
			return err
		}
		defer eng.Close()
		spec.Collection = col
	}
	if *method == quarry.MethodLLM {
		spec.Opts.Model = lf.model
	}
	if *judgeURL == "" {
		*judgeURL = lf.url
	}
	if *judgeModel == "" {
		*judgeModel = lf.model
	}
	if !*noJudge && *judgeURL != "" && *judgeModel != "" {
		spec.Judge = &ragbench.JudgeConfig{URL: *judgeURL, Model: *judgeModel, APIKey: lf.apiKey, Timeout: *judgeTimeout}
	}
	var progress *ingest.Progress
	spec.Opts.Progress = func(done, total int) {
		if progress == nil {
			progress = ingest.NewProgress(os.Stderr, "ask", int64(total))
		}
		progress.Add(1)
	}
	rep, runErr := ragbench.Evaluate(ctx, spec)
	if progress != nil {
		progress.Done()
	}
	if rep == nil {
		return runErr
	}
	if *report != "" {
		path, err := ragbench.WriteHTML(*report, rep)
		if err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		fmt.Fprintln(env.stderr, "report:", path)
	}
	if env.json {
		if err := printJSON(env.stdout, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(env.stdout, rep.Text())
	}
	if runErr != nil {
		return fmt.Errorf("stopped after %d questions (partial results above): %w", rep.Questions, runErr)
	}
	if base != nil {
		dropped, err := ragbench.Compare(base, rep, *maxDrop)
		if err != nil {
			return fmt.Errorf("--baseline %s: %w", *baseline, err)
		}
		if len(dropped) > 0 {
			return regressionError{dropped}
		}
	}
	if rep.Errors > 0 && rep.Errors == rep.Questions {
		return errors.New("every question failed; see the errors in the report")
	}
	return nil
}

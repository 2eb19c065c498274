package ragbench

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/eval"
	"github.com/quarry-rag/quarry/internal/text"
)

// Metric names a per-question score; the JSON keys of Report.Metrics.
type Metric string

// Metrics without a judge (internal/eval).
const (
	AnswerRecall      Metric = "answer_recall"
	ExactMatch        Metric = "exact_match"
	F1                Metric = "f1"
	CitationHitFirst  Metric = "citation_hit_first"
	CitationHitAny    Metric = "citation_hit_any"
	CitationPrecision Metric = "citation_precision"
	Abstention        Metric = "abstention_rate"
	HitAtK            Metric = "retrieval_hit"
	NonLLMCtxPrec     Metric = "context_precision_nonllm"
	NonLLMCtxRecall   Metric = "context_recall_nonllm"
)

// Judged metrics (RAGAS definitions, see judge.go).
const (
	Faithfulness     Metric = "faithfulness"
	AnswerRelevancy  Metric = "answer_relevancy"
	ContextPrecision Metric = "context_precision"
	ContextRecall    Metric = "context_recall"
)

// AllMetrics lists every metric in report order.
var AllMetrics = []Metric{AnswerRecall, ExactMatch, F1, CitationHitFirst, CitationHitAny, CitationPrecision,
	Abstention, HitAtK, NonLLMCtxPrec, NonLLMCtxRecall, Faithfulness, AnswerRelevancy, ContextPrecision, ContextRecall}

// LowerIsBetter reports metrics where an increase is a regression.
func (m Metric) LowerIsBetter() bool { return m == Abstention }

// Options configure a Runner.
type Options struct {
	// Method is quarry.MethodExtractive or quarry.MethodLLM.
	Method string
	// Mode is the retrieval mode (quarry.ModeBM25, …); "" the default.
	Mode string
	// Model is the language model for Method llm ("" the configured one).
	Model string
	// K is the number of chunks retrieved as context. Default 5.
	K int
	// MaxSentences bounds extractive answers. Default 1.
	MaxSentences int
	// Lang is the answer normalisation language (ISO 639-1); "" detects
	// it from the questions.
	Lang string
	// Judge, when set, adds the judged metrics.
	Judge *Judge
	// Progress, when set, is called after each question.
	Progress func(done, total int)
}

// Citation is one cited span of an answer.
type Citation struct {
	DocID string `json:"doc_id"`
	Text  string `json:"text"`
}

// Result is one question's outcome.
type Result struct {
	ID        string             `json:"id"`
	Question  string             `json:"question"`
	Golds     []string           `json:"golds"`
	Answer    string             `json:"answer"`
	Abstained bool               `json:"abstained"`
	Citations []Citation         `json:"citations"`
	Contexts  []Citation         `json:"contexts"` // retrieved chunks, best first
	Scores    map[Metric]float64 `json:"scores"`
	Timings   quarry.Timings     `json:"timings"`
	Tokens    int                `json:"completion_tokens,omitempty"`
	// Error is why the question could not be answered; it then has no
	// scores and counts in Report.Errors.
	Error string `json:"error,omitempty"`
	// JudgeErrors counts judged metrics left unscored because the judge
	// failed (timeouts, malformed or out-of-range replies after retries).
	JudgeErrors []string `json:"judge_errors,omitempty"`
}

// markers are the citation markers in an answer's text.
var markers = regexp.MustCompile(`\s*\[\d+\]`)

// Runner asks a collection a question set and scores the answers.
type Runner struct {
	Col  *quarry.Collection
	Opts Options
}

// Run asks every question in ds, in order, and returns the report. A
// question whose Ask fails is kept with its Error and no scores; Run stops
// early only when ctx is done, returning the partial report (Partial true)
// and ctx's error.
func (r *Runner) Run(ctx context.Context, ds *Dataset) (*Report, error) {
	o := r.Opts
	if o.K == 0 {
		o.K = 5
	}
	if o.MaxSentences == 0 {
		o.MaxSentences = 1
	}
	if o.Lang == "" {
		o.Lang = DetectLang(ds)
	}
	norm := eval.Normalizer{Mode: eval.NormMultilingual, Lang: o.Lang}
	rep := &Report{Dataset: ds.Name, Method: o.Method, Mode: o.Mode, Model: o.Model, K: o.K,
		MaxSentences: o.MaxSentences, Lang: o.Lang}
	if o.Judge != nil {
		rep.JudgeModel = o.Judge.Model
	}
	start := time.Now()
	var err error
	for i, q := range ds.Questions {
		if err = ctx.Err(); err != nil {
			rep.Partial = true
			break
		}
		res := r.one(ctx, &q, o, norm)
		rep.Results = append(rep.Results, res)
		if o.Progress != nil {
			o.Progress(i+1, len(ds.Questions))
		}
	}
	rep.WallSeconds = time.Since(start).Seconds()
	rep.summarize(len(ds.Questions))
	return rep, err
}

func (r *Runner) one(ctx context.Context, q *Question, o Options, norm eval.Normalizer) Result {
	res := Result{ID: q.ID, Question: q.Text, Golds: q.Golds, Scores: map[Metric]float64{}}
	ans, err := r.Col.Ask(ctx, quarry.AskRequest{Question: q.Text, K: o.K, Mode: o.Mode, Method: o.Method,
		Model: o.Model, MaxSentences: o.MaxSentences, NoCache: true})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Answer, res.Abstained, res.Timings = ans.Answer, ans.Abstained, ans.Timings
	if ans.Usage != nil {
		res.Tokens = ans.Usage.CompletionTokens
	}
	spans := make([]string, len(ans.Citations))
	for i, c := range ans.Citations {
		spans[i] = c.Text
		res.Citations = append(res.Citations, Citation{DocID: c.DocID, Text: c.Text})
	}
	ctxTexts := make([]string, len(ans.Sources))
	docs := make([]string, len(ans.Sources))
	for i, h := range ans.Sources {
		ctxTexts[i], docs[i] = h.Text, h.DocID
		res.Contexts = append(res.Contexts, Citation{DocID: h.DocID, Text: h.Text})
	}
	plain := markers.ReplaceAllString(ans.Answer, "")
	s := res.Scores
	s[Abstention] = b2f(ans.Abstained)
	if ans.Abstained {
		plain, spans = "", nil
	}
	s[AnswerRecall] = norm.AnswerRecall(plain, q.Golds)
	s[ExactMatch] = norm.ExactMatch(plain, q.Golds)
	s[F1] = norm.F1(plain, q.Golds)
	s[CitationHitFirst], s[CitationHitAny] = norm.CitationHit(spans, q.Golds)
	s[CitationPrecision] = norm.CitationPrecision(spans, q.Golds)
	if len(q.GoldDocs) > 0 {
		rel := map[string]bool{}
		for _, d := range q.GoldDocs {
			rel[d] = true
		}
		s[HitAtK] = eval.HitAtK(docs, rel, o.K)
	}
	if len(q.ReferenceContexts) > 0 {
		s[NonLLMCtxPrec] = eval.ContextPrecision(ctxTexts, q.ReferenceContexts, eval.ContextThreshold)
		s[NonLLMCtxRecall] = eval.ContextRecall(ctxTexts, q.ReferenceContexts, eval.ContextThreshold)
	}
	if o.Judge != nil && !ans.Abstained {
		ref := q.Reference
		if ref == "" && len(q.Golds) > 0 {
			ref = q.Golds[0]
		}
		js, errs := o.Judge.Score(ctx, JudgeInput{Question: q.Text, Answer: plain, Contexts: ctxTexts, Reference: ref})
		for m, v := range js {
			s[m] = v
		}
		res.JudgeErrors = errs
	}
	return res
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// DetectLang returns the language most of ds's questions are detected in.
func DetectLang(ds *Dataset) string {
	count := map[string]int{}
	for i, q := range ds.Questions {
		if i == 200 {
			break
		}
		if l, _ := text.DetectLanguage(q.Text); l != "" {
			count[l]++
		}
	}
	best, n := "", 0
	for _, l := range slices.Sorted(func(yield func(string) bool) {
		for l := range count {
			if !yield(l) {
				return
			}
		}
	}) {
		if count[l] > n {
			best, n = l, count[l]
		}
	}
	return best
}

// ErrBaseline is wrapped by errors comparing with an incompatible baseline.
var ErrBaseline = errors.New("ragbench: baseline does not match this run")

// Compare returns the metrics of cur that dropped by more than maxDrop from
// base (rose, for LowerIsBetter metrics), in report order. It fails if the
// two runs are not comparable: another dataset, method or question count.
func Compare(base, cur *Report, maxDrop float64) ([]string, error) {
	switch {
	case base.Dataset != cur.Dataset:
		return nil, fmt.Errorf("%w: it is of dataset %q, this run of %q", ErrBaseline, base.Dataset, cur.Dataset)
	case base.Method != cur.Method:
		return nil, fmt.Errorf("%w: it used method %q, this run %q", ErrBaseline, base.Method, cur.Method)
	case base.Questions != cur.Questions:
		return nil, fmt.Errorf("%w: it has %d questions, this run %d (use the same --limit)", ErrBaseline, base.Questions, cur.Questions)
	}
	var out []string
	for _, m := range AllMetrics {
		b, ok1 := base.Metrics[m]
		c, ok2 := cur.Metrics[m]
		if !ok1 || !ok2 {
			continue
		}
		d := b - c
		if m.LowerIsBetter() {
			d = -d
		}
		if d > maxDrop+1e-12 {
			out = append(out, fmt.Sprintf("%s %.4f → %.4f", m, b, c))
		}
	}
	return out, nil
}

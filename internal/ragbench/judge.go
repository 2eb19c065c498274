package ragbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/eval"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/text"
)

// JudgeInput is what the judged metrics see of one question.
type JudgeInput struct {
	Question  string
	Answer    string // without citation markers
	Contexts  []string
	Reference string
}

// JudgeConfig configures NewJudge.
type JudgeConfig struct {
	// URL and Model name the judge; the dialect is Ollama's for port 11434
	// or an /api path, OpenAI's otherwise (as for the answering model).
	URL, Model, APIKey string
	// Timeout bounds one judge call. Default 2m.
	Timeout time.Duration
	// Attempts is how often a malformed reply is asked again. Default 3.
	Attempts int
	// Embedding is the embedder of answer relevancy: the collection's
	// model spec; "" uses multilingual-e5-small.
	Embedding string
	// Chat and Embedder, when set, replace the clients built from the
	// fields above (tests).
	Chat     llm.Chat
	Embedder embed.Embedder
}

// Judge scores answers with a language model as RAGAS defines the metrics.
// It is safe for sequential use by one Runner.
type Judge struct {
	Model     string
	Embedding string
	chat      llm.Chat
	emb       embed.Embedder
	attempts  int
}

// DefaultJudgeEmbedding is answer relevancy's embedder for collections
// without one.
const DefaultJudgeEmbedding = "multilingual-e5-small"

// NewJudge returns a judge for cfg.
func NewJudge(cfg JudgeConfig) (*Judge, error) {
	j := &Judge{Model: cfg.Model, chat: cfg.Chat, emb: cfg.Embedder, attempts: cfg.Attempts, Embedding: cfg.Embedding}
	if j.attempts <= 0 {
		j.attempts = 3
	}
	if j.chat == nil {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("ragbench: judge url %q is not an http(s) URL", cfg.URL)
		}
		base := strings.TrimRight(cfg.URL, "/")
		opts := &llm.Options{Timeout: cfg.Timeout, APIKey: cfg.APIKey, MaxRetries: 1}
		if u.Port() == "11434" || strings.HasSuffix(base, "/api") {
			j.chat = llm.NewOllama(strings.TrimSuffix(base, "/api"), opts)
		} else {
			j.chat = llm.NewOpenAI(strings.TrimSuffix(base, "/v1"), opts)
		}
	}
	if j.emb == nil {
		if j.Embedding == "" {
			j.Embedding = DefaultJudgeEmbedding
		}
		e, err := embed.ParseWith(j.Embedding, nil)
		if err != nil {
			return nil, fmt.Errorf("ragbench: judge embedder %q: %w", j.Embedding, err)
		}
		j.emb = e
	}
	return j, nil
}

// Close releases the embedder.
func (j *Judge) Close() error {
	if c, ok := j.emb.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// ErrJudge wraps every judge failure: a call that failed or timed out, or
// replies that stayed malformed or out of range after the retries.
var ErrJudge = errors.New("ragbench: judge failed")

// Score returns the judged metrics of in and, for each that could not be
// scored, "metric: reason". A failed metric is never scored.
func (j *Judge) Score(ctx context.Context, in JudgeInput) (map[Metric]float64, []string) {
	out := map[Metric]float64{}
	var errs []string
	try := func(m Metric, fn func() (float64, error)) {
		v, err := fn()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", m, err))
			return
		}
		out[m] = v
	}
	try(Faithfulness, func() (float64, error) { return j.faithfulness(ctx, in) })
	try(AnswerRelevancy, func() (float64, error) { return j.answerRelevancy(ctx, in) })
	if in.Reference != "" && len(in.Contexts) > 0 {
		try(ContextPrecision, func() (float64, error) { return j.contextPrecision(ctx, in) })
		try(ContextRecall, func() (float64, error) { return j.contextRecall(ctx, in) })
	}
	return out, errs
}

// ask sends prompt and decodes the first JSON object of the reply into v,
// then runs check; a decode or check failure is retried up to attempts
// times in all. Greedy decoding keeps the judge repeatable.
func (j *Judge) ask(ctx context.Context, prompt string, v any, check func() error) error {
	var last error
	for range j.attempts {
		resp, err := j.chat.Complete(ctx, llm.Request{Model: j.Model,
			Messages: []llm.Message{{Role: "system", Content: judgeSystem}, {Role: "user", Content: prompt}},
			// Verdicts are short JSON; JSON mode (Ollama's format, OpenAI's
			// json_object) makes the server constrain the reply to it, which
			// small local judges otherwise ignore (SmolLM2-135M replied in
			// prose to all 20 judge prompts of a 5-question run without it).
			Params: llm.Params{Temperature: new(0.0), MaxTokens: 512, Format: json.RawMessage(`"json"`)}})
		if err != nil {
			return fmt.Errorf("%w: %v", ErrJudge, err) // transport errors were retried by the client
		}
		obj, ok := firstJSONObject(resp.Content)
		if !ok {
			last = fmt.Errorf("reply is not JSON: %q", clip(resp.Content, 80))
			continue
		}
		if err := json.Unmarshal([]byte(obj), v); err != nil {
			last = fmt.Errorf("reply does not fit the schema: %v", err)
			continue
		}
		if err := check(); err != nil {
			last = err
			continue
		}
		return nil
	}
	return fmt.Errorf("%w after %d attempts: %v", ErrJudge, j.attempts, last)
}

const judgeSystem = "You are an evaluator. Reply with one JSON object exactly as asked, and nothing else."

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// firstJSONObject returns the first balanced {...} in s (models often wrap
// JSON in prose or a ``` fence).
func firstJSONObject(s string) (string, bool) {
	start := strings.IndexByte(s, '{')
	if start < 0 {
		return "", false
	}
	depth, inStr, esc := 0, false, false
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return s[start : i+1], true
			}
		}
	}
	return "", false
}

func verdict(v *int, what string) error {
	if v == nil {
		return fmt.Errorf("%s has no verdict", what)
	}
	if *v != 0 && *v != 1 {
		return fmt.Errorf("%s verdict %d is out of range (want 0 or 1)", what, *v)
	}
	return nil
}

func numbered(xs []string) string {
	var b strings.Builder
	for i, x := range xs {
		fmt.Fprintf(&b, "%d. %s\n", i+1, x)
	}
	return b.String()
}

// faithfulness is RAGAS's: the answer broken into statements, each
// verified against the contexts; supported / total.
func (j *Judge) faithfulness(ctx context.Context, in JudgeInput) (float64, error) {
	var st struct {
		Statements []string `json:"statements"`
	}
	err := j.ask(ctx, "Break the answer into short, self-contained statements (no pronouns).\n"+
		"Question: "+in.Question+"\nAnswer: "+in.Answer+
		"\nReply as JSON: {\"statements\": [\"...\", \"...\"]}", &st, func() error {
		if len(st.Statements) == 0 {
			return errors.New("no statements")
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	st.Statements = st.Statements[:min(len(st.Statements), 20)]
	var nli struct {
		Verdicts []*int `json:"verdicts"`
	}
	err = j.ask(ctx, "Context:\n"+strings.Join(in.Contexts, "\n\n")+
		"\n\nFor each statement, verdict 1 if it can be directly inferred from the context, else 0.\nStatements:\n"+
		numbered(st.Statements)+fmt.Sprintf("Reply as JSON with exactly %d verdicts in order: {\"verdicts\": [1, 0, ...]}", len(st.Statements)),
		&nli, func() error { return checkVerdicts(nli.Verdicts, len(st.Statements), "statement") })
	if err != nil {
		return 0, err
	}
	return Faithful(deref(nli.Verdicts)), nil
}

func checkVerdicts(vs []*int, n int, what string) error {
	if len(vs) != n {
		return fmt.Errorf("%d verdicts for %d %ss", len(vs), n, what)
	}
	for i, v := range vs {
		if err := verdict(v, fmt.Sprintf("%s %d", what, i+1)); err != nil {
			return err
		}
	}
	return nil
}

func deref(vs []*int) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = *v
	}
	return out
}

// Faithful is RAGAS faithfulness arithmetic: supported statements over all.
func Faithful(verdicts []int) float64 {
	if len(verdicts) == 0 {
		return math.NaN()
	}
	n := 0
	for _, v := range verdicts {
		n += v
	}
	return float64(n) / float64(len(verdicts))
}

// relevancyQuestions is how many questions answer relevancy generates
// (RAGAS's strictness, default 3).
const relevancyQuestions = 3

// answerRelevancy is RAGAS's: questions generated from the answer, the
// mean cosine of their embeddings to the question's, times 0 when the
// answer is noncommittal.
func (j *Judge) answerRelevancy(ctx context.Context, in JudgeInput) (float64, error) {
	var r struct {
		Questions    []string `json:"questions"`
		Noncommittal *int     `json:"noncommittal"`
	}
	err := j.ask(ctx, fmt.Sprintf("Write %d different questions that the answer below answers, in the answer's language. "+
		"Set noncommittal to 1 if the answer is evasive or vague (\"I don't know\"), else 0.\nAnswer: %s\n"+
		"Reply as JSON: {\"questions\": [\"...\"], \"noncommittal\": 0}", relevancyQuestions, in.Answer), &r, func() error {
		if len(r.Questions) == 0 {
			return errors.New("no questions")
		}
		for _, q := range r.Questions {
			if strings.TrimSpace(q) == "" {
				return errors.New("an empty question")
			}
		}
		return verdict(r.Noncommittal, "noncommittal")
	})
	if err != nil {
		return 0, err
	}
	qs := r.Questions[:min(len(r.Questions), relevancyQuestions)]
	vecs, err := j.emb.Embed(ctx, append([]string{in.Question}, qs...), embed.Query)
	if err != nil {
		return 0, fmt.Errorf("%w: embedding: %v", ErrJudge, err)
	}
	return Relevancy(vecs[0], vecs[1:], *r.Noncommittal == 1), nil
}

// Relevancy is RAGAS answer-relevancy arithmetic: the mean cosine between
// the question's vector and each generated question's, 0 if noncommittal.
func Relevancy(q []float32, gen [][]float32, noncommittal bool) float64 {
	if noncommittal || len(gen) == 0 {
		return 0
	}
	s := 0.0
	for _, g := range gen {
		s += cosine(q, g)
	}
	return s / float64(len(gen))
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// contextPrecision is RAGAS's LLMContextPrecisionWithReference: a verdict
// per retrieved context (was it useful for the reference answer?), scored
// by average precision.
func (j *Judge) contextPrecision(ctx context.Context, in JudgeInput) (float64, error) {
	var r struct {
		Verdicts []*int `json:"verdicts"`
	}
	err := j.ask(ctx, "Question: "+in.Question+"\nReference answer: "+in.Reference+
		"\nFor each context below, verdict 1 if it was useful in arriving at the reference answer, else 0.\nContexts:\n"+
		numbered(in.Contexts)+fmt.Sprintf("Reply as JSON with exactly %d verdicts in order: {\"verdicts\": [1, 0, ...]}", len(in.Contexts)),
		&r, func() error { return checkVerdicts(r.Verdicts, len(in.Contexts), "context") })
	if err != nil {
		return 0, err
	}
	v := make([]bool, len(r.Verdicts))
	for i, x := range r.Verdicts {
		v[i] = *x == 1
	}
	return eval.AveragePrecision(v), nil
}

// contextRecall is RAGAS's LLMContextRecall: each sentence of the
// reference classified as attributable to the contexts or not; attributed
// / total.
func (j *Judge) contextRecall(ctx context.Context, in JudgeInput) (float64, error) {
	var sents []string
	for _, sp := range text.Sentences(in.Reference) {
		if s := strings.TrimSpace(in.Reference[sp.Start:sp.End]); s != "" {
			sents = append(sents, s)
		}
	}
	if len(sents) == 0 {
		sents = []string{in.Reference}
	}
	var r struct {
		Attributed []*int `json:"attributed"`
	}
	err := j.ask(ctx, "Context:\n"+strings.Join(in.Contexts, "\n\n")+
		"\n\nFor each sentence of the reference answer, 1 if it can be attributed to the context, else 0.\nSentences:\n"+
		numbered(sents)+fmt.Sprintf("Reply as JSON with exactly %d values in order: {\"attributed\": [1, 0, ...]}", len(sents)),
		&r, func() error { return checkVerdicts(r.Attributed, len(sents), "sentence") })
	if err != nil {
		return 0, err
	}
	return Faithful(deref(r.Attributed)), nil
}

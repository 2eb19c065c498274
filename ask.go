package quarry

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/answer"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/obs"
	"github.com/quarry-rag/quarry/internal/rewrite"
)

// AskRequest is one question.
type AskRequest struct {
	Question   string
	K          int // chunks retrieved as context; default 5
	Tenant     string
	Principals []string
	Filter     Filter
	Mode       string
	// MaxSentences bounds the extractive answer. Default 3.
	MaxSentences int

	// Method is "" (default: "llm" when a language model is configured,
	// else "extractive"), "extractive" or "llm" (an error without a model).
	Method string
	// Model overrides the configured model name for this request.
	Model string
	// Params override the configured decoding parameters field by field.
	Params LLMParams
	// History holds the earlier turns of a conversation, oldest first
	// (roles "user", "assistant", "system"). With a language model the
	// question is condensed into a standalone question before retrieval;
	// without one, History is ignored.
	History []Message
	// Rewrite rewrites the question before retrieval with the language
	// model: "" (none), "multi" (Expansions paraphrases, each retrieved,
	// fused by RRF) or "hyde" (retrieve with a hypothetical answer passage).
	Rewrite string
	// Expansions is the number of paraphrases for Rewrite "multi".
	// Default 3, at most 8.
	Expansions int
	// NoCache skips the answer caches (neither read nor written).
	NoCache bool
}

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Rewrite methods.
const (
	RewriteMulti = "multi"
	RewriteHyDE  = "hyde"
)

// Answer methods.
const (
	MethodExtractive = "extractive"
	MethodLLM        = "llm"
	MethodNone       = "none"
)

// Limits of AskRequest.
const (
	MaxHistory      = 50
	MaxHistoryBytes = 64 << 10
)

// Citation points at the text that supports part of an answer. Start and
// End are character (Unicode code point) offsets into the document's text,
// and that span is exactly Text.
type Citation struct {
	Marker  int    `json:"marker"` // the n of "[n]" in the answer; Sources[n-1] for LLM answers
	DocID   string `json:"doc_id"`
	ChunkID string `json:"chunk_id"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Text    string `json:"text"`
	Title   string `json:"title,omitempty"`
}

// Answer is the response to a question.
type Answer struct {
	Answer    string     `json:"answer"`
	Citations []Citation `json:"citations"`
	Sources   []Hit      `json:"sources"`
	// Method is "extractive" (sentences quoted from the sources), "llm"
	// (written by the language model) or, when nothing relevant was
	// retrieved, "none".
	Method string `json:"method"`
	// Model is the language model that wrote the answer ("" unless llm).
	Model string `json:"model,omitempty"`
	// Grounded reports whether the answer cites at least one source that
	// was in the prompt (always true for extractive answers with
	// citations). An LLM answer that ignored the citation format is kept,
	// with Grounded false.
	Grounded bool `json:"grounded"`
	// InvalidCitations are the marker numbers the model wrote that named
	// no source in its prompt; they were removed from Answer.
	InvalidCitations []int `json:"invalid_citations,omitempty"`
	// Abstained reports an "I don't know" answer: nothing relevant was
	// retrieved, or the model said the sources lack the answer.
	Abstained bool `json:"abstained"`
	// Query is the question retrieval used when it differs from the
	// question asked (condensed from History, or rewritten by HyDE);
	// Queries lists multi-query paraphrases.
	Query   string   `json:"query,omitempty"`
	Queries []string `json:"queries,omitempty"`
	// DroppedSources are the markers of sources left out of the prompt for
	// lack of room in the context window.
	DroppedSources []int `json:"dropped_sources,omitempty"`
	// FinishReason is the model's ("stop", "length"); "" unless llm.
	FinishReason string `json:"finish_reason,omitempty"`
	// Cached is "exact" or "semantic" when the answer came from a cache.
	Cached  string        `json:"cached,omitempty"`
	Usage   *Usage        `json:"usage,omitempty"`
	Timings Timings       `json:"timings"`
	Took    time.Duration `json:"-"`
}

// Usage counts language-model tokens as the server reported them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Timings break an answer's latency down, in milliseconds.
type Timings struct {
	Rewrite  float64 `json:"rewrite_ms"`  // condensation and query rewriting
	Retrieve float64 `json:"retrieve_ms"` // first-stage retrieval (and fusion)
	Rerank   float64 `json:"rerank_ms"`
	Generate float64 `json:"generate_ms"` // the model call, or extraction
	// TTFT is from the request to the first answer token handed to emit;
	// LLMTTFT is the model's own time to first token (prompt sent → first
	// token received). TTFT − LLMTTFT is Quarry's overhead.
	TTFT    float64 `json:"ttft_ms"`
	LLMTTFT float64 `json:"llm_ttft_ms,omitempty"`
	Total   float64 `json:"total_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// NoAnswer is the answer text when nothing relevant was retrieved.
const NoAnswer = "I don't know: no indexed passage matches the question."

// AskEvent types, in stream order.
const (
	EventRetrieval = "retrieval"
	EventToken     = "token"
	EventCitations = "citations"
	EventDone      = "done"
)

// AskEvent is one step of a streamed answer, in this order: one
// "retrieval" (Sources), zero or more "token" (Token, a piece of the answer
// text), one "citations" (Citations), one "done" (Answer, the same value
// AskStream returns). The tokens concatenate to Answer.Answer exactly:
// invalid citation markers are removed as the text streams.
type AskEvent struct {
	Type      string
	Sources   []Hit
	Token     string
	Citations []Citation
	Answer    *Answer
}

// Ask answers a question from the collection: retrieval, then a language
// model's answer grounded in the retrieved chunks (when one is configured,
// see Options.LLM) or an extractive one (the sentences of the retrieved
// chunks that best match the question), each statement cited.
//
// A language-model failure returns an *LLMError together with an Answer
// whose Sources hold the retrieval results.
func (c *Collection) Ask(ctx context.Context, req AskRequest) (*Answer, error) {
	return c.ask(ctx, req, nil)
}

// AskStream answers like Ask and calls emit for each step as it happens
// (see AskEvent). An error from emit stops the answer and is returned. On
// an *LLMError the stream ends after the events already sent, and the
// returned Answer holds the Sources.
func (c *Collection) AskStream(ctx context.Context, req AskRequest, emit func(AskEvent) error) (*Answer, error) {
	return c.ask(ctx, req, emit)
}

func (c *Collection) validateAsk(req *AskRequest, s *llmSettings) error {
	if err := validateQuery("question", req.Question, &req.K, 5); err != nil {
		return err
	}
	if req.MaxSentences == 0 {
		req.MaxSentences = 3
	}
	if req.MaxSentences < 1 || req.MaxSentences > 20 {
		return invalidf("max_sentences", "must be between 1 and 20, got %d", req.MaxSentences)
	}
	if len(req.Model) > 256 || !utf8.ValidString(req.Model) {
		return invalidf("model", "must be a UTF-8 name of at most 256 bytes")
	}
	if err := req.Params.validate("params"); err != nil {
		return err
	}
	if len(req.History) > MaxHistory {
		return invalidf("history", "has %d messages; the limit is %d", len(req.History), MaxHistory)
	}
	size := 0
	for i, m := range req.History {
		switch m.Role {
		case "user", "assistant", "system":
		default:
			return invalidf(fmt.Sprintf("history[%d].role", i), "must be user, assistant or system, got %q", m.Role)
		}
		if !utf8.ValidString(m.Content) {
			return invalidf(fmt.Sprintf("history[%d].content", i), "is not valid UTF-8")
		}
		size += len(m.Content)
	}
	if size > MaxHistoryBytes {
		return &FieldError{Field: "history", Msg: fmt.Sprintf("is %d bytes; the limit is %d", size, MaxHistoryBytes), Err: ErrTooLarge}
	}
	switch req.Method {
	case "":
		req.Method = MethodExtractive
		if s.on() {
			req.Method = MethodLLM
		}
	case MethodExtractive:
	case MethodLLM:
		if !s.on() {
			return invalidf("method", "\"llm\" needs a language model, and none is configured (set --llm-url and --llm-model, or QUARRY_LLM_URL and QUARRY_LLM_MODEL)")
		}
	default:
		return invalidf("method", "unknown method %q (want extractive or llm)", req.Method)
	}
	switch req.Rewrite {
	case "":
		if req.Expansions != 0 {
			return invalidf("expansions", "is set but rewrite is not \"multi\"")
		}
	case RewriteMulti, RewriteHyDE:
		if !s.on() {
			return invalidf("rewrite", "%q needs a language model, and none is configured", req.Rewrite)
		}
		if req.Rewrite == RewriteMulti && req.Expansions == 0 {
			req.Expansions = 3
		}
		if req.Expansions < 0 || req.Expansions > rewrite.MaxExpansions || (req.Rewrite == RewriteHyDE && req.Expansions != 0) {
			return invalidf("expansions", "must be between 1 and %d with rewrite \"multi\", got %d", rewrite.MaxExpansions, req.Expansions)
		}
	default:
		return invalidf("rewrite", "unknown rewrite %q (want multi or hyde)", req.Rewrite)
	}
	return nil
}

func (c *Collection) ask(ctx context.Context, req AskRequest, emit func(AskEvent) error) (*Answer, error) {
	start := time.Now()
	if emit == nil {
		emit = func(AskEvent) error { return nil }
	}
	s := c.llmSettings(&req)
	if err := c.validateAsk(&req, &s); err != nil {
		return nil, err
	}
	ac := c.answerCacheFor(&req)
	var pr probe
	if ac != nil {
		var ans *Answer
		if ans, pr = ac.lookup(ctx, c, &req, &s); ans != nil {
			ans.Timings = Timings{Total: ms(time.Since(start))}
			ans.Took = time.Since(start)
			ans.Timings.TTFT = ans.Timings.Total
			return ans, replay(ans, emit)
		}
	}
	ans := &Answer{Citations: []Citation{}, Sources: []Hit{}}

	// Rewriting: conversational condensation, then multi-query or HyDE.
	t := time.Now()
	question := req.Question
	queries := []string{question}
	vec0 := pr.vec // the question's embedding, if the semantic cache computed it
	if s.on() && (len(req.History) > 0 || req.Rewrite != "") {
		rw := &rewrite.Rewriter{Chat: c.llmClient(&s), Model: s.model, Params: rewriteParams(s.params)}
		var err error
		if len(req.History) > 0 {
			if question, err = rw.Condense(ctx, toLLMMessages(req.History), req.Question); err != nil {
				return ans, s.wrapErr(err)
			}
			if question != req.Question {
				queries[0], vec0 = question, nil
			}
		}
		switch req.Rewrite {
		case RewriteMulti:
			more, err := rw.Expand(ctx, question, req.Expansions)
			if err != nil {
				return ans, s.wrapErr(err)
			}
			queries = append(queries, more...)
			ans.Queries = more
		case RewriteHyDE:
			passage, err := rw.HyDE(ctx, question)
			if err != nil {
				return ans, s.wrapErr(err)
			}
			queries[0] = hydeQuery(question, passage)
			if vec0, err = c.hydeVector(ctx, req.Mode, question, vec0, passage); err != nil {
				return nil, err
			}
		}
	}
	if queries[0] != req.Question {
		ans.Query = queries[0]
	}
	ans.Timings.Rewrite = ms(time.Since(t))

	hits, err := c.retrieveFor(ctx, &req, queries, vec0, question, &ans.Timings)
	if err != nil {
		return nil, err
	}
	ans.Sources = hits
	if err := emit(AskEvent{Type: EventRetrieval, Sources: hits}); err != nil {
		return nil, err
	}
	t = time.Now()
	switch {
	case len(hits) == 0 || (s.minScore != 0 && hits[0].Score < s.minScore):
		ans.Answer, ans.Method, ans.Abstained = NoAnswer, MethodNone, true
		if err := emit(AskEvent{Type: EventToken, Token: ans.Answer}); err != nil {
			return nil, err
		}
		ans.Timings.TTFT = ms(time.Since(start))
	case req.Method == MethodLLM:
		if err := c.generate(ctx, question, &s, ans, start, emit); err != nil {
			ans.Timings.Total = ms(time.Since(start))
			ans.Took = time.Since(start)
			return ans, err
		}
	default:
		c.extract(&req, question, ans)
		if ans.Answer != "" {
			if err := emit(AskEvent{Type: EventToken, Token: ans.Answer}); err != nil {
				return nil, err
			}
		}
		ans.Timings.TTFT = ms(time.Since(start))
	}
	ans.Timings.Generate = ms(time.Since(t))
	c.engine.metrics.Since(obs.StageAnswer, t)
	ans.Took = time.Since(start)
	ans.Timings.Total = ms(ans.Took)
	if ac != nil {
		ac.store(&req, pr, ans)
	}
	if err := emit(AskEvent{Type: EventCitations, Citations: ans.Citations}); err != nil {
		return nil, err
	}
	if err := emit(AskEvent{Type: EventDone, Answer: ans}); err != nil {
		return nil, err
	}
	return ans, nil
}

// replay streams a finished (cached) answer.
func replay(ans *Answer, emit func(AskEvent) error) error {
	evs := []AskEvent{{Type: EventRetrieval, Sources: ans.Sources}}
	if ans.Answer != "" {
		evs = append(evs, AskEvent{Type: EventToken, Token: ans.Answer})
	}
	evs = append(evs, AskEvent{Type: EventCitations, Citations: ans.Citations}, AskEvent{Type: EventDone, Answer: ans})
	for _, ev := range evs {
		if err := emit(ev); err != nil {
			return err
		}
	}
	return nil
}

// extract writes the extractive answer: the sentences of the sources that
// best match the question, each cited.
func (c *Collection) extract(req *AskRequest, question string, ans *Answer) {
	ex := answer.Extract(question, ans.Sources, answer.Options{MaxSentences: req.MaxSentences, Language: c.cfg.Language})
	if len(ex.Sentences) == 0 {
		ans.Answer, ans.Method, ans.Abstained = NoAnswer, MethodNone, true
		return
	}
	ans.Method, ans.Grounded = MethodExtractive, true
	var b strings.Builder
	for i, s := range ex.Sentences {
		h := &ans.Sources[s.Hit]
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s [%d]", s.Text, i+1)
		// Character offsets: the chunk's start in code points plus the
		// sentence's position inside the chunk.
		rs := h.RuneStart + utf8.RuneCountInString(h.Text[:s.Start])
		ans.Citations = append(ans.Citations, Citation{
			Marker: i + 1, DocID: h.DocID, ChunkID: h.ChunkID, Title: h.Title,
			Start: rs, End: rs + utf8.RuneCountInString(s.Text), Text: s.Text,
		})
	}
	ans.Answer = b.String()
}

// rewriteParams are the decoding parameters of rewriting calls: the
// request's sampling settings, without its answer length and stops.
func rewriteParams(p LLMParams) llm.Params {
	q := p.toLLM()
	q.MaxTokens, q.Stop = 0, nil
	return q
}

func toLLMMessages(ms []Message) []llm.Message {
	out := make([]llm.Message, len(ms))
	for i, m := range ms {
		out[i] = llm.Message{Role: m.Role, Content: m.Content}
	}
	return out
}

// hydeQuery is the text HyDE retrieves with on the lexical side: the
// question and the hypothetical passage (query expansion, as query2doc
// does for BM25), cut to the query size limit. The dense side searches
// with hydeVector instead.
func hydeQuery(question, passage string) string {
	q := question + "\n" + passage
	if len(q) > MaxQueryBytes {
		q = strings.ToValidUTF8(q[:MaxQueryBytes], "")
	}
	return q
}

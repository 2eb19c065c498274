package quarry

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/answer"
	"github.com/quarry-rag/quarry/internal/obs"
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
}

// Citation points at the text that supports part of an answer. Start and
// End are character (Unicode code point) offsets into the document's text,
// and that span is exactly Text.
type Citation struct {
	Marker  int    `json:"marker"` // the n of "[n]" in the answer
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
	// Method is "extractive" (sentences quoted from the sources) or, when no
	// source matched, "none".
	Method string        `json:"method"`
	Took   time.Duration `json:"-"`
}

// NoAnswer is the answer text when nothing relevant was retrieved.
const NoAnswer = "I don't know: no indexed passage matches the question."

// Ask answers a question from the collection. Without a language model it
// answers extractively: the sentences of the retrieved chunks that best
// match the question, each cited.
func (c *Collection) Ask(ctx context.Context, req AskRequest) (*Answer, error) {
	start := time.Now()
	if err := validateQuery("question", req.Question, &req.K, 5); err != nil {
		return nil, err
	}
	if req.MaxSentences == 0 {
		req.MaxSentences = 3
	}
	if req.MaxSentences < 1 || req.MaxSentences > 20 {
		return nil, invalidf("max_sentences", "must be between 1 and 20, got %d", req.MaxSentences)
	}
	res, err := c.Search(ctx, SearchRequest{
		Query: req.Question, K: req.K, Tenant: req.Tenant, Principals: req.Principals,
		Filter: req.Filter, Mode: req.Mode,
	})
	if err != nil {
		return nil, err
	}
	t := time.Now()
	ans := &Answer{Sources: res.Results, Citations: []Citation{}}
	if len(res.Results) == 0 {
		ans.Answer, ans.Method = NoAnswer, "none"
		ans.Took = time.Since(start)
		return ans, nil
	}
	ex := answer.Extract(req.Question, res.Results, answer.Options{MaxSentences: req.MaxSentences, Language: c.cfg.Language})
	if len(ex.Sentences) == 0 {
		ans.Answer, ans.Method = NoAnswer, "none"
	} else {
		ans.Method = "extractive"
		var b strings.Builder
		for i, s := range ex.Sentences {
			h := &res.Results[s.Hit]
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
	c.engine.metrics.Since(obs.StageAnswer, t)
	ans.Took = time.Since(start)
	return ans, nil
}

// AskEvent is one step of a streamed answer, in this order: one
// "retrieval" (Sources), zero or more "token" (Token, a piece of the answer
// text), one "citations" (Citations), one "done" (Answer, the same value
// AskStream returns).
type AskEvent struct {
	Type      string
	Sources   []Hit
	Token     string
	Citations []Citation
	Answer    *Answer
}

// AskStream answers like Ask and calls emit for each step as it happens. An
// error from emit stops the answer and is returned.
//
// CONTRACT STUB (to be replaced by the LLM answer path): today it runs Ask and
// emits its result as one token.
func (c *Collection) AskStream(ctx context.Context, req AskRequest, emit func(AskEvent) error) (*Answer, error) {
	ans, err := c.Ask(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, ev := range []AskEvent{
		{Type: "retrieval", Sources: ans.Sources},
		{Type: "token", Token: ans.Answer},
		{Type: "citations", Citations: ans.Citations},
		{Type: "done", Answer: ans},
	} {
		if err := emit(ev); err != nil {
			return nil, err
		}
	}
	return ans, nil
}

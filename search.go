package quarry

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/answer"
	"github.com/quarry-rag/quarry/internal/obs"
	"github.com/quarry-rag/quarry/internal/store"
)

// Retrieval modes.
const (
	ModeBM25 = "bm25"
)

// Limits on requests.
const (
	DefaultK      = 10
	MaxK          = 1000
	MaxQueryBytes = 8192
)

// SearchRequest is one search. Tenant, Principals and Filter are applied
// inside retrieval: the K results are the best K the caller may read.
type SearchRequest struct {
	Query      string
	K          int // default DefaultK, at most MaxK
	Tenant     string
	Principals []string
	Filter     Filter
	Mode       string // "bm25" (default)
	Language   string // query language for analysis; "" = detect
	// NoText leaves Hit.Text empty: evaluation needs only ids.
	NoText bool
}

// SearchResponse is the result of a search.
type SearchResponse struct {
	Results []Hit         `json:"results"`
	Mode    string        `json:"mode"`
	Took    time.Duration `json:"-"`
}

func validateQuery(field, q string, k *int, def int, mode *string) error {
	if strings.TrimSpace(q) == "" {
		return invalidf(field, "is required")
	}
	if len(q) > MaxQueryBytes {
		return &FieldError{Field: field, Msg: fmt.Sprintf("is %d bytes; the limit is %d", len(q), MaxQueryBytes), Err: ErrTooLarge}
	}
	if !utf8.ValidString(q) {
		return invalidf(field, "is not valid UTF-8")
	}
	if *k == 0 {
		*k = def
	}
	if *k < 1 || *k > MaxK {
		return invalidf("k", "must be between 1 and %d, got %d", MaxK, *k)
	}
	switch *mode {
	case "", ModeBM25:
		*mode = ModeBM25
	case "dense", "hybrid":
		return invalidf("mode", "%q needs an embedding model, and this collection has none", *mode)
	default:
		return invalidf("mode", "unknown mode %q (want bm25)", *mode)
	}
	return nil
}

// Search retrieves the K best chunks for req.Query.
func (c *Collection) Search(ctx context.Context, req SearchRequest) (*SearchResponse, error) {
	start := time.Now()
	if err := validateQuery("query", req.Query, &req.K, DefaultK, &req.Mode); err != nil {
		return nil, err
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, invalidf("filter", "%v", err)
	}
	hits, err := c.backend.Lexical(ctx, store.LexicalQuery{
		Text: req.Query, Language: req.Language, K: req.K, NoText: req.NoText,
		Scope: store.Scope{Tenant: req.Tenant, Principals: req.Principals, Filter: req.Filter},
	})
	if err != nil {
		return nil, mapStoreErr(err)
	}
	c.engine.metrics.Since(obs.StageRetrieve, start)
	if hits == nil {
		hits = []Hit{}
	}
	return &SearchResponse{Results: hits, Mode: req.Mode, Took: time.Since(start)}, nil
}

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
	if err := validateQuery("question", req.Question, &req.K, 5, &req.Mode); err != nil {
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

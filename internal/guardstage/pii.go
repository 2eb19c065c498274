package guardstage

import (
	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/pii"
	"github.com/quarry-rag/quarry/internal/query"
)

// Redactor is the PII stage for a collection with pii.llm redact
// (Hooks.Redact): per request, one pii.Map holds the placeholders of the
// question, the titles and the texts of the hits that go into the prompt,
// and the answer is restored from it as it streams.
type Redactor struct{ r *pii.Redactor }

// NewRedactor returns the PII prompt stage.
func NewRedactor() *Redactor { return &Redactor{r: pii.NewRedactor(nil)} }

// RedactPrompt implements query.PromptRedactor.
func (r *Redactor) RedactPrompt(question string, hits []base.Hit) (string, []base.Hit, query.AnswerRestorer) {
	m := pii.NewMap()
	q := r.r.RedactWith(question, m)
	out := make([]base.Hit, len(hits))
	for i, h := range hits {
		h.Text = r.r.RedactWith(h.Text, m)
		h.Title = r.r.RedactWith(h.Title, m)
		out[i] = h
	}
	return q, out, &restorer{Restorer: m.Restorer(), m: m}
}

type restorer struct {
	*pii.Restorer
	m *pii.Map
}

func (r *restorer) Restore(text string) string { return r.m.Restore(text) }

// RedactText is the index-time redaction (pii.index redact): the text
// with placeholders, the map discarded.
func RedactText(text string) string {
	if text == "" {
		return text
	}
	red, _ := pii.NewRedactor(nil).Redact(text)
	return red
}

package quarry

import (
	"github.com/quarry-rag/quarry/internal/guardstage"
	"github.com/quarry-rag/quarry/internal/pii"
	"github.com/quarry-rag/quarry/internal/query"
)

// PIIConfig is a collection's personal-data policy (see docs/security.md,
// "PII"): e-mail addresses, phone numbers, payment cards, IBANs, IP
// addresses and national identifiers with check digits.
type PIIConfig struct {
	// Index "redact" stores placeholders ("<EMAIL_1>") instead of the
	// values: the document is redacted before chunking, so values are
	// neither searchable nor returned. Default "keep".
	Index string `json:"index,omitempty"`
	// LLM "redact" replaces the values in the question, titles and texts
	// sent to the language model with placeholders, per request, and puts
	// the values back into the answer: the model's provider never sees
	// them. Default "keep".
	LLM string `json:"llm,omitempty"`
}

func (p *PIIConfig) validate() error {
	if _, err := pii.ParseMode(p.Index); err != nil {
		return invalidf("pii.index", "must be keep or redact, got %q", p.Index)
	}
	if _, err := pii.ParseMode(p.LLM); err != nil {
		return invalidf("pii.llm", "must be keep or redact, got %q", p.LLM)
	}
	return nil
}

// installGuards plugs the collection's guardrails into its pipeline's
// hooks: the prompt-injection stages and, with pii.llm redact, the PII
// prompt stage.
func (c *Collection) installGuards(h *query.Hooks) {
	c.guard = c.guardStages()
	c.guard.Hooks(h)
	if piiRedacts(c.cfg.PII.LLM) {
		h.Redact = guardstage.NewRedactor()
	}
}

func piiRedacts(s string) bool {
	m, _ := pii.ParseMode(s)
	return m == pii.Redact
}

// redactForIndex applies pii.index redact to a document's text and title
// before chunking.
func (c *Collection) redactForIndex(text, title *string) {
	if !piiRedacts(c.cfg.PII.Index) {
		return
	}
	*text, *title = guardstage.RedactText(*text), guardstage.RedactText(*title)
}

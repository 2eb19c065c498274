package server

import (
	"errors"
	"fmt"

	"github.com/quarry-rag/quarry"
)

// guardError maps the guardrails' errors: a refused question is 400
// prompt_injection with its score; a guard that cannot run under policy
// block is 503.
func guardError(err error) *apiError {
	var pe *quarry.PromptInjectionError
	switch {
	case errors.As(err, &pe):
		s := pe.Score
		return &apiError{Code: codePromptInjection,
			Message: fmt.Sprintf("the question was refused as a likely prompt injection (score %.3f, threshold %.2f)", pe.Score, pe.Threshold),
			Score:   &s}
	case errors.Is(err, quarry.ErrGuardUnavailable):
		return &apiError{Code: codeUnavailable, Message: "the prompt-injection guard is unavailable (its model could not be loaded) and the collection's question policy is block; see the server log"}
	}
	return nil
}

// guardOut is what the guardrails found in a request.
type guardOut struct {
	Flagged      bool            `json:"flagged"`
	Score        float64         `json:"score"`
	RulesOnly    bool            `json:"rules_only,omitempty"`
	AnswerIssues []guardIssueOut `json:"answer_issues,omitempty"`
	Withheld     bool            `json:"withheld,omitempty"`
	Reason       string          `json:"reason,omitempty"`
}

type guardIssueOut struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

func fromGuard(g *quarry.GuardReport) *guardOut {
	if g == nil {
		return nil
	}
	out := &guardOut{Flagged: g.Flagged, Score: g.Score, RulesOnly: g.RulesOnly, Withheld: g.Withheld, Reason: g.Reason}
	for _, is := range g.AnswerIssues {
		out.AnswerIssues = append(out.AnswerIssues, guardIssueOut{Kind: is.Kind, Value: is.Value})
	}
	return out
}

// guardJSON is a collection's guardrail settings; empty fields take the
// server's.
type guardJSON struct {
	Question  string  `json:"question,omitempty"`
	Chunks    string  `json:"chunks,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
}

func (c *guardJSON) UnmarshalJSON(b []byte) error {
	type plain guardJSON
	return decodeStrict(b, (*plain)(c), "guard")
}

func (c *guardJSON) toEngine() quarry.GuardConfig {
	if c == nil {
		return quarry.GuardConfig{}
	}
	return quarry.GuardConfig{Question: c.Question, Chunks: c.Chunks, Threshold: c.Threshold}
}

func fromGuardConfig(c quarry.GuardConfig) *guardJSON {
	if c == (quarry.GuardConfig{}) {
		return nil
	}
	return &guardJSON{Question: c.Question, Chunks: c.Chunks, Threshold: c.Threshold}
}

// piiJSON is a collection's personal-data policy.
type piiJSON struct {
	Index string `json:"index,omitempty"`
	LLM   string `json:"llm,omitempty"`
}

func (c *piiJSON) UnmarshalJSON(b []byte) error {
	type plain piiJSON
	return decodeStrict(b, (*plain)(c), "pii")
}

func (c *piiJSON) toEngine() quarry.PIIConfig {
	if c == nil {
		return quarry.PIIConfig{}
	}
	return quarry.PIIConfig{Index: c.Index, LLM: c.LLM}
}

func fromPIIConfig(c quarry.PIIConfig) *piiJSON {
	if c == (quarry.PIIConfig{}) {
		return nil
	}
	return &piiJSON{Index: c.Index, LLM: c.LLM}
}

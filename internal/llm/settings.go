package llm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Provider is a wire dialect.
type Provider string

// Providers.
const (
	ProviderOpenAI Provider = "openai" // POST {url}/v1/chat/completions, SSE
	ProviderOllama Provider = "ollama" // POST {url}/api/chat, NDJSON
)

// Settings are the effective language-model settings of one request: the
// engine's, overridden by a collection's, then by the request's model and
// parameters. The zero value means "no model".
type Settings struct {
	URL, Model, APIKey string
	Provider           Provider // "" = InferProvider(URL)
	// Style is the prompt style (internal/generate's); the client does not
	// read it, but it shapes the prompt and so the cache key.
	Style        string
	Params       Params
	Window       int // the model's context window in tokens
	AnswerTokens int // reserved for the answer; the default MaxTokens
	Timeout      time.Duration
	// MinScore: a best retrieved chunk scoring below it means "I don't
	// know" without a call.
	MinScore float64
}

// On reports whether a model is configured.
func (s *Settings) On() bool { return s.URL != "" && s.Model != "" }

// Over returns s with the non-zero fields of o replacing s's (a
// collection's override over the engine's settings). A new URL resets the
// provider to o's, which may be "" (inferred).
func (s Settings) Over(o Settings) Settings {
	if o.URL != "" {
		s.URL, s.Provider = o.URL, o.Provider
	}
	if o.Model != "" {
		s.Model = o.Model
	}
	if o.Provider != "" {
		s.Provider = o.Provider
	}
	if o.Window != 0 {
		s.Window = o.Window
	}
	if o.AnswerTokens != 0 {
		s.AnswerTokens = o.AnswerTokens
	}
	if o.Style != "" {
		s.Style = o.Style
	}
	if o.MinScore != 0 {
		s.MinScore = o.MinScore
	}
	return s
}

// DefaultTimeout bounds one call when Settings.Timeout is 0.
const DefaultTimeout = 2 * time.Minute

// EnsureDefaults fills the provider, the timeout and, from answerTokens
// and window defaults the caller owns (the prompt builder's), the budget.
func (s *Settings) EnsureDefaults(window, answerTokens int) {
	if s.Window == 0 {
		s.Window = window
	}
	if s.AnswerTokens == 0 {
		s.AnswerTokens = answerTokens
	}
	if s.Params.MaxTokens == 0 {
		s.Params.MaxTokens = s.AnswerTokens
	}
	if s.Provider == "" {
		s.Provider = InferProvider(s.URL)
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
}

// InferProvider picks the dialect from a URL: Ollama's default port or an
// /api path mean ollama; anything else speaks OpenAI's.
func InferProvider(raw string) Provider {
	u, err := url.Parse(raw)
	if err == nil && (u.Port() == "11434" || strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/api")) {
		return ProviderOllama
	}
	return ProviderOpenAI
}

// BaseURL strips the path suffix a user may have copied from the
// provider's docs ("/v1", "/api"): the clients append their own.
func BaseURL(raw string) string {
	s := strings.TrimRight(raw, "/")
	for _, suf := range []string{"/v1", "/api"} {
		s = strings.TrimSuffix(s, suf)
	}
	return s
}

// Error is a failure of the language model: unreachable, slow, or an
// error reply. The server maps Timeout to 504 and anything else to 502.
// The root package re-exports it as quarry.LLMError.
type Error struct {
	Provider string // "openai" or "ollama"
	URL      string
	Model    string
	Timeout  bool // the call ran out of time (the request's deadline or the settings' Timeout)
	Err      error
}

func (e *Error) Error() string {
	what := "failed"
	if e.Timeout {
		what = "timed out"
	}
	return fmt.Sprintf("quarry: language model %q (%s at %s) %s: %v", e.Model, e.Provider, e.URL, what, e.Err)
}

// Unwrap returns the client's error.
func (e *Error) Unwrap() error { return e.Err }

// WrapErr returns err as an *Error naming the model of s; a cancelled
// context (the caller went away, not the model's fault) is returned as is.
func (s *Settings) WrapErr(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var ne net.Error
	return &Error{Provider: string(s.Provider), URL: s.URL, Model: s.Model, Err: err,
		Timeout: errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())}
}

package quarry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/quarry-rag/quarry/internal/generate"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/outbound"
)

// LLM providers (wire dialects).
const (
	ProviderOpenAI = "openai" // POST {url}/v1/chat/completions, SSE
	ProviderOllama = "ollama" // POST {url}/api/chat, NDJSON
)

// Prompt styles; see LLMConfig.PromptStyle.
const (
	PromptInstruct = generate.StyleInstruct
	PromptBase     = generate.StyleBase
)

// LLMConfig configures the language model that writes answers
// (Options.LLM). With URL or Model empty there is no model: Ask answers
// extractively. The engine never reads the environment; the CLI fills this
// from --llm-url/--llm-model/--llm-api-key or QUARRY_LLM_URL,
// QUARRY_LLM_MODEL and QUARRY_LLM_API_KEY.
type LLMConfig struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:11434" (a
	// trailing "/v1" is accepted and implies the openai provider).
	URL string
	// Model is the model name the server knows.
	Model string
	// Provider is "openai" (any OpenAI-compatible server: vLLM, llama.cpp,
	// TGI, Ollama's /v1) or "ollama" (Ollama's native API). Default "":
	// ollama when the URL's port is 11434 or its path ends in /api, else
	// openai.
	Provider string
	// APIKey is sent as a bearer token. Default "": none.
	APIKey string
	// Params are the default decoding parameters; a request's own
	// parameters override them field by field.
	Params LLMParams
	// ContextWindow is the model's context length in tokens, the budget
	// of a prompt. Default 4096 (Ollama's default num_ctx).
	ContextWindow int
	// AnswerTokens is reserved in the window for the answer and is the
	// default max_tokens. Default 512.
	AnswerTokens int
	// PromptStyle is "instruct" (default; chat models: cite [n] after
	// each statement) or "base" (small completion models: a one-shot
	// example with the marker first and a prefilled "[").
	PromptStyle string
	// Timeout bounds one model call, streaming included. Default 2m.
	Timeout time.Duration
	// MinScore: when the best retrieved chunk scores below it, the answer
	// is "I don't know" without a model call. Default 0: off (retrieval
	// scores are not calibrated across modes; set it per collection).
	MinScore float64
	// Cache configures the answer caches.
	Cache AnswerCacheConfig
}

// AnswerCacheConfig configures the exact and semantic answer caches of
// every collection. Both are invalidated by any write to the collection.
type AnswerCacheConfig struct {
	// Size is the number of answers each cache keeps per collection.
	// Default 1024; negative disables both caches.
	Size int
	// TTL is how long an answer stays cached. Default 10m.
	TTL time.Duration
	// SemanticThreshold is the cosine similarity of question embeddings
	// above which a cached answer is reused (collections with an
	// embedding model only). Default 0.95; negative disables the semantic
	// cache.
	SemanticThreshold float64
}

// CollectionLLM overrides the engine's LLMConfig for one collection; zero
// fields keep the engine's value. Decoding parameters are set engine-wide
// or per request (a collection's configuration must stay comparable).
type CollectionLLM struct {
	URL           string  `json:"url,omitempty"`
	Model         string  `json:"model,omitempty"`
	Provider      string  `json:"provider,omitempty"`
	ContextWindow int     `json:"context_window,omitempty"`
	AnswerTokens  int     `json:"answer_tokens,omitempty"`
	PromptStyle   string  `json:"prompt_style,omitempty"`
	MinScore      float64 `json:"min_score,omitempty"`
}

// LLMParams are decoding parameters. Nil pointers and zero values mean "not
// set": the next level (request → engine → server) decides.
type LLMParams struct {
	Temperature   *float64 `json:"temperature,omitempty"` // 0..2; 0 is greedy
	TopP          *float64 `json:"top_p,omitempty"`       // (0,1]
	TopK          *int     `json:"top_k,omitempty"`       // ≥ 0
	Seed          *int64   `json:"seed,omitempty"`
	MaxTokens     int      `json:"max_tokens,omitempty"` // 1..32768
	Stop          []string `json:"stop,omitempty"`       // at most 4
	RepeatPenalty *float64 `json:"repeat_penalty,omitempty"`
}

// over returns p with the fields set in q replacing p's.
func (p LLMParams) over(q LLMParams) LLMParams {
	if q.Temperature != nil {
		p.Temperature = q.Temperature
	}
	if q.TopP != nil {
		p.TopP = q.TopP
	}
	if q.TopK != nil {
		p.TopK = q.TopK
	}
	if q.Seed != nil {
		p.Seed = q.Seed
	}
	if q.MaxTokens != 0 {
		p.MaxTokens = q.MaxTokens
	}
	if q.Stop != nil {
		p.Stop = q.Stop
	}
	if q.RepeatPenalty != nil {
		p.RepeatPenalty = q.RepeatPenalty
	}
	return p
}

func (p LLMParams) toLLM() llm.Params {
	return llm.Params{Temperature: p.Temperature, TopP: p.TopP, TopK: p.TopK, Seed: p.Seed,
		MaxTokens: p.MaxTokens, Stop: append([]string(nil), p.Stop...), RepeatPenalty: p.RepeatPenalty}
}

// validate checks p with llm.Params.Validate and names the field under
// prefix ("params.temperature").
func (p LLMParams) validate(prefix string) error {
	if p.MaxTokens < 0 {
		return invalidf(prefix+".max_tokens", "must be between 1 and %d, got %d", llm.MaxMaxTokens, p.MaxTokens)
	}
	err := p.toLLM().Validate()
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), llm.ErrInvalidParams.Error()+": ")
	field, rest, _ := strings.Cut(msg, " ")
	return invalidf(prefix+"."+field, "%s", strings.TrimSpace(rest))
}

func validProvider(field, p string) error {
	switch p {
	case "", ProviderOpenAI, ProviderOllama:
		return nil
	}
	return invalidf(field, "unknown provider %q (want openai or ollama)", p)
}

func validStyle(field, s string) error {
	switch s {
	case "", PromptInstruct, PromptBase:
		return nil
	}
	return invalidf(field, "unknown prompt style %q (want instruct or base)", s)
}

func validURL(field, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalidf(field, "must be an http(s) URL such as http://127.0.0.1:11434, got %q", s)
	}
	return nil
}

// Validate reports the first invalid field of the engine's LLM settings.
func (c *LLMConfig) Validate() error {
	for _, err := range []error{
		validURL("llm.url", c.URL), validProvider("llm.provider", c.Provider), validStyle("llm.prompt_style", c.PromptStyle),
		c.Params.validate("llm.params"),
	} {
		if err != nil {
			return err
		}
	}
	if c.ContextWindow < 0 || c.ContextWindow > 1<<21 {
		return invalidf("llm.context_window", "must be between 1 and %d, got %d", 1<<21, c.ContextWindow)
	}
	if c.AnswerTokens < 0 || c.AnswerTokens > llm.MaxMaxTokens {
		return invalidf("llm.answer_tokens", "must be between 1 and %d, got %d", llm.MaxMaxTokens, c.AnswerTokens)
	}
	if c.Timeout < 0 {
		return invalidf("llm.timeout", "must be ≥ 0, got %v", c.Timeout)
	}
	if c.Cache.SemanticThreshold > 1 || c.Cache.SemanticThreshold != c.Cache.SemanticThreshold {
		return invalidf("llm.cache.semantic_threshold", "must be at most 1 (negative disables), got %v", c.Cache.SemanticThreshold)
	}
	return nil
}

// validate reports the first invalid field of a collection's LLM override.
func (c *CollectionLLM) validate() error {
	for _, err := range []error{
		validURL("llm.url", c.URL), validProvider("llm.provider", c.Provider), validStyle("llm.prompt_style", c.PromptStyle),
	} {
		if err != nil {
			return err
		}
	}
	if c.ContextWindow < 0 || c.ContextWindow > 1<<21 {
		return invalidf("llm.context_window", "must be between 1 and %d, got %d", 1<<21, c.ContextWindow)
	}
	if c.AnswerTokens < 0 || c.AnswerTokens > llm.MaxMaxTokens {
		return invalidf("llm.answer_tokens", "must be between 1 and %d, got %d", llm.MaxMaxTokens, c.AnswerTokens)
	}
	if c.MinScore != c.MinScore {
		return invalidf("llm.min_score", "must be a number")
	}
	return nil
}

// llmSettings are the effective settings of one request.
type llmSettings struct {
	url, model, provider, apiKey, style string
	params                              LLMParams
	window, answerTokens                int
	timeout                             time.Duration
	minScore                            float64
}

func (s *llmSettings) on() bool { return s.url != "" && s.model != "" }

// llmSettings merges the engine's settings, the collection's overrides and
// the request's model and parameters.
func (c *Collection) llmSettings(req *AskRequest) llmSettings {
	e := c.engine.opts.LLM
	s := llmSettings{url: e.URL, model: e.Model, provider: e.Provider, apiKey: e.APIKey, style: e.PromptStyle,
		params: e.Params, window: e.ContextWindow, answerTokens: e.AnswerTokens, timeout: e.Timeout, minScore: e.MinScore}
	o := c.cfg.LLM
	if o.URL != "" {
		s.url, s.provider = o.URL, o.Provider
		s.apiKey = credentialFor(c.engine.urls, o.URL, s.apiKey) // never the server's key to a URL the operator did not allow
	}
	if o.Model != "" {
		s.model = o.Model
	}
	if o.Provider != "" {
		s.provider = o.Provider
	}
	if o.ContextWindow != 0 {
		s.window = o.ContextWindow
	}
	if o.AnswerTokens != 0 {
		s.answerTokens = o.AnswerTokens
	}
	if o.PromptStyle != "" {
		s.style = o.PromptStyle
	}
	if o.MinScore != 0 {
		s.minScore = o.MinScore
	}
	if req.Model != "" {
		s.model = req.Model
	}
	s.params = s.params.over(req.Params)
	if s.window == 0 {
		s.window = generate.DefaultContextWindow
	}
	if s.answerTokens == 0 {
		s.answerTokens = generate.DefaultAnswerTokens
	}
	if s.params.MaxTokens == 0 {
		s.params.MaxTokens = s.answerTokens
	}
	if s.provider == "" {
		s.provider = inferProvider(s.url)
	}
	if s.timeout == 0 {
		s.timeout = 2 * time.Minute
	}
	return s
}

// inferProvider picks the dialect from a URL: Ollama's default port or an
// /api path mean ollama; anything else speaks OpenAI's.
func inferProvider(raw string) string {
	u, err := url.Parse(raw)
	if err == nil && (u.Port() == "11434" || strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/api")) {
		return ProviderOllama
	}
	return ProviderOpenAI
}

// baseURL strips the path suffix a user may have copied from the
// provider's docs ("/v1", "/api"): the clients append their own.
func baseURL(raw string) string {
	s := strings.TrimRight(raw, "/")
	for _, suf := range []string{"/v1", "/api"} {
		s = strings.TrimSuffix(s, suf)
	}
	return s
}

// llmClients shares one client per provider, server, model, key and
// timeout among an engine's collections: a client's state is its circuit
// breaker, which must see every call to its server and model. The clients
// share the engine's HTTP transport, whose idle connections Close releases.
type llmClients struct {
	http *http.Client // no overall timeout: llm.Options.Timeout bounds each call
	// mu protects the following fields.
	mu struct {
		sync.Mutex
		m      map[clientKey]llm.Chat
		closed bool // after close, clients are made per call and not kept
	}
}

type clientKey struct {
	provider, url, model, apiKey string
	timeout                      time.Duration
}

func newLLMClients() *llmClients {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &llmClients{http: &http.Client{Transport: tr, CheckRedirect: outbound.CheckRedirect}}
}

// get returns the client for s, creating it on first use.
func (cs *llmClients) get(s *llmSettings) llm.Chat {
	k := clientKey{s.provider, baseURL(s.url), s.model, s.apiKey, s.timeout}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.mu.m[k]; ok {
		return c
	}
	opts := &llm.Options{Timeout: s.timeout, APIKey: s.apiKey, HTTPClient: cs.http}
	var c llm.Chat
	if s.provider == ProviderOllama {
		c = llm.NewOllama(k.url, opts)
	} else {
		c = llm.NewOpenAI(k.url, opts)
	}
	if cs.mu.closed {
		return c
	}
	if cs.mu.m == nil {
		cs.mu.m = make(map[clientKey]llm.Chat)
	}
	cs.mu.m[k] = c
	return c
}

// close forgets the clients and closes the transport's idle connections.
// A call still running keeps its connection until it ends.
func (cs *llmClients) close() {
	cs.mu.Lock()
	cs.mu.m, cs.mu.closed = nil, true
	cs.mu.Unlock()
	cs.http.CloseIdleConnections()
}

// llmClient returns the engine's client for the settings of a request.
func (c *Collection) llmClient(s *llmSettings) llm.Chat { return c.engine.llmClients.get(s) }

// LLMError is a failure of the language model: unreachable, slow, or an
// error reply. The server maps Timeout to 504 and anything else to 502;
// Ask and AskStream return it together with an Answer whose Sources are
// filled (retrieval succeeded).
type LLMError struct {
	Provider string // "openai" or "ollama"
	URL      string
	Model    string
	Timeout  bool // the call ran out of time (the request's deadline or LLMConfig.Timeout)
	Err      error
}

func (e *LLMError) Error() string {
	what := "failed"
	if e.Timeout {
		what = "timed out"
	}
	return fmt.Sprintf("quarry: language model %q (%s at %s) %s: %v", e.Model, e.Provider, e.URL, what, e.Err)
}

// Unwrap returns the client's error.
func (e *LLMError) Unwrap() error { return e.Err }

func (s *llmSettings) wrapErr(err error) error {
	if errors.Is(err, context.Canceled) {
		return err // the caller went away: not the model's fault
	}
	return &LLMError{Provider: s.provider, URL: s.url, Model: s.model, Err: err,
		Timeout: errors.Is(err, context.DeadlineExceeded) || isTimeout(err)}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

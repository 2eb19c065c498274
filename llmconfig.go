package quarry

import (
	"net/url"
	"time"

	"github.com/quarry-rag/quarry/internal/generate"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/outbound"
	"github.com/quarry-rag/quarry/internal/query"
)

// LLM providers (wire dialects).
const (
	ProviderOpenAI = string(llm.ProviderOpenAI) // POST {url}/v1/chat/completions, SSE
	ProviderOllama = string(llm.ProviderOllama) // POST {url}/api/chat, NDJSON
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
// set": the next level (request → engine → server) decides. Temperature
// 0..2 (0 is greedy), TopP (0,1], TopK ≥ 0, MaxTokens 1..32768, at most 4
// Stop sequences, RepeatPenalty > 0.
type LLMParams = llm.Params

// The caller's tools of an answer (AskRequest.Tools, ToolTurns; Answer.ToolCalls).
type (
	// ToolSpec is a function the model may call: its name, description and
	// the JSON Schema of its arguments.
	ToolSpec = llm.ToolSpec
	// ToolCall is a call the model asked for; Arguments is its JSON text,
	// unchecked.
	ToolCall = llm.ToolCall
	// ToolMessage is an assistant turn that called tools or a tool's
	// result ("tool" turn).
	ToolMessage = llm.ToolMessage
)

// MaxTools bounds AskRequest.Tools.
const MaxTools = query.MaxTools

// LLMError is a failure of the language model: unreachable, slow, or an
// error reply. The server maps Timeout to 504 and anything else to 502;
// Ask and AskStream return it together with an Answer whose Sources are
// filled (retrieval succeeded).
type LLMError = llm.Error

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
		query.CheckParams("llm.params", c.Params),
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

// llmSettings is a collection's model settings: the engine's, with the
// collection's overrides over them (a request's come later, in its plan).
// The server's API key goes to a collection's own URL only when the
// operator allowed that URL (urls; nil = unrestricted).
func llmSettings(e *LLMConfig, o *CollectionLLM, urls *outbound.Policy) llm.Settings {
	s := llm.Settings{URL: e.URL, Model: e.Model, Provider: llm.Provider(e.Provider), APIKey: e.APIKey, Style: e.PromptStyle,
		Params: e.Params, Window: e.ContextWindow, AnswerTokens: e.AnswerTokens, Timeout: e.Timeout, MinScore: e.MinScore}
	s = s.Over(llm.Settings{URL: o.URL, Model: o.Model, Provider: llm.Provider(o.Provider), Window: o.ContextWindow,
		AnswerTokens: o.AnswerTokens, Style: o.PromptStyle, MinScore: o.MinScore})
	if o.URL != "" {
		s.APIKey = credentialFor(urls, o.URL, e.APIKey) // never the server's key to a URL the operator did not allow
	}
	return s
}

package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors.
var (
	// ErrCircuitOpen is returned without any request while the breaker is open.
	ErrCircuitOpen = errors.New("llm: circuit open")
	// ErrInvalidParams wraps every Params.Validate failure.
	ErrInvalidParams = errors.New("llm: invalid params")
	// ErrUnavailable wraps failures after the retries were exhausted.
	ErrUnavailable = errors.New("llm: server unavailable")
)

// Chat is a chat-completion client.
type Chat interface {
	// Complete sends req and waits for the whole answer.
	Complete(ctx context.Context, req Request) (*Response, error)
	// Stream sends req and calls fn for every content delta; the returned
	// Response holds the concatenated content. An error from fn aborts the call.
	Stream(ctx context.Context, req Request, fn func(Delta) error) (*Response, error)
}

// Message is one chat turn. Role is "system", "user", "assistant" or "tool".
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Params are decoding parameters; nil pointers and zero values mean "server default".
// The root package re-exports Params as quarry.LLMParams, whose JSON form
// (the server's "params" object, a cache key) the tags define.
type Params struct {
	Temperature   *float64 `json:"temperature,omitempty"` // 0..2; 0 is greedy
	TopP          *float64 `json:"top_p,omitempty"`       // (0,1]
	TopK          *int     `json:"top_k,omitempty"`       // >= 0
	Seed          *int64   `json:"seed,omitempty"`
	MaxTokens     int      `json:"max_tokens,omitempty"`     // 0 = server default; <= 32768
	Stop          []string `json:"stop,omitempty"`           // at most 4
	RepeatPenalty *float64 `json:"repeat_penalty,omitempty"` // > 0
	// PresencePenalty and FrequencyPenalty are OpenAI's (Ollama reads
	// them as options too): -2..2.
	PresencePenalty  *float64 `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64 `json:"frequency_penalty,omitempty"`
	// Format constrains the output to JSON: the JSON string "json" (any
	// JSON value; OpenAI's json_object) or a JSON Schema object the output
	// must match (Ollama's format, OpenAI's json_schema). Empty: free text.
	Format json.RawMessage `json:"format,omitempty"`
}

// Over returns p with the fields set in q replacing p's (request over
// engine over server).
func (p Params) Over(q Params) Params {
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
	if q.PresencePenalty != nil {
		p.PresencePenalty = q.PresencePenalty
	}
	if q.FrequencyPenalty != nil {
		p.FrequencyPenalty = q.FrequencyPenalty
	}
	if q.Format != nil {
		p.Format = q.Format
	}
	return p
}

// Clone returns p with its own Stop slice and Format.
func (p Params) Clone() Params {
	p.Stop = append([]string(nil), p.Stop...)
	if p.Format != nil {
		p.Format = append(json.RawMessage(nil), p.Format...)
	}
	return p
}

// JSONMode reports whether Format asks for JSON output.
func (p *Params) JSONMode() bool { return len(p.Format) > 0 }

// FormatSchema returns Format's JSON Schema, nil in plain JSON mode.
func (p *Params) FormatSchema() json.RawMessage {
	if len(p.Format) > 0 && p.Format[0] == '{' {
		return p.Format
	}
	return nil
}

// Limits enforced by Validate.
const (
	MaxMaxTokens = 32768
	MaxStop      = 4
	// MaxFormatBytes bounds a Format schema.
	MaxFormatBytes = 16 << 10
)

// Validate reports the first out-of-range field, wrapped in ErrInvalidParams.
func (p Params) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s %s", ErrInvalidParams, field, fmt.Sprintf(format, args...))
	}
	if t := p.Temperature; t != nil && (*t < 0 || *t > 2 || *t != *t) {
		return bad("temperature", "= %v, want 0..2", *t)
	}
	if v := p.TopP; v != nil && (*v <= 0 || *v > 1 || *v != *v) {
		return bad("top_p", "= %v, want (0,1]", *v)
	}
	if v := p.TopK; v != nil && *v < 0 {
		return bad("top_k", "= %d, want >= 0", *v)
	}
	if p.MaxTokens < 0 || p.MaxTokens > MaxMaxTokens {
		return bad("max_tokens", "= %d, want 0..%d", p.MaxTokens, MaxMaxTokens)
	}
	if len(p.Stop) > MaxStop {
		return bad("stop", "has %d entries, want at most %d", len(p.Stop), MaxStop)
	}
	for i, s := range p.Stop {
		if s == "" {
			return bad("stop", "[%d] is empty", i)
		}
	}
	if v := p.RepeatPenalty; v != nil && (*v <= 0 || *v != *v) {
		return bad("repeat_penalty", "= %v, want > 0", *v)
	}
	for _, q := range []struct {
		name string
		v    *float64
	}{{"presence_penalty", p.PresencePenalty}, {"frequency_penalty", p.FrequencyPenalty}} {
		if q.v != nil && (*q.v < -2 || *q.v > 2 || *q.v != *q.v) {
			return bad(q.name, "= %v, want -2..2", *q.v)
		}
	}
	if f := p.Format; len(f) > 0 {
		if len(f) > MaxFormatBytes {
			return bad("format", "is %d bytes, want at most %d", len(f), MaxFormatBytes)
		}
		if string(f) != `"json"` && (f[0] != '{' || !json.Valid(f)) {
			return bad("format", "must be \"json\" or a JSON Schema object")
		}
	}
	return nil
}

// Request is one chat call.
type Request struct {
	Model    string
	Messages []Message
	Params   Params
	Tools    json.RawMessage // passed through verbatim when non-empty
}

func (r *Request) validate() error {
	if r.Model == "" {
		return fmt.Errorf("%w: model is empty", ErrInvalidParams)
	}
	if len(r.Messages) == 0 {
		return fmt.Errorf("%w: messages is empty", ErrInvalidParams)
	}
	if len(r.Tools) > 0 && !json.Valid(r.Tools) {
		return fmt.Errorf("%w: tools is not valid JSON", ErrInvalidParams)
	}
	return r.Params.Validate()
}

// Delta is one streamed piece of content.
type Delta struct {
	Content string
}

// Usage counts tokens as reported by the server.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Response is a finished call.
type Response struct {
	Content      string
	FinishReason string // "stop", "length", "tool_calls", ... as the server says
	Usage        Usage
	TTFT         time.Duration // time to the first content byte (Complete: to the response)
	Duration     time.Duration // whole call
}

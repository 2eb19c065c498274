package llm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// OpenAI is a client for an OpenAI-compatible server (POST {base}/v1/chat/completions).
type OpenAI struct{ t *transport }

var _ Chat = (*OpenAI)(nil)

// NewOpenAI returns a client for base, e.g. "http://127.0.0.1:11435". opts may be nil.
func NewOpenAI(base string, opts *Options) *OpenAI { return &OpenAI{t: newTransport(base, opts)} }

type oaRequest struct {
	Model         string          `json:"model"`
	Messages      []Message       `json:"messages"`
	Stream        bool            `json:"stream"`
	StreamOptions *oaStreamOpts   `json:"stream_options,omitempty"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	TopK          *int            `json:"top_k,omitempty"`
	Seed          *int64          `json:"seed,omitempty"`
	MaxTokens     int             `json:"max_tokens,omitempty"`
	Stop          []string        `json:"stop,omitempty"`
	RepeatPenalty *float64        `json:"repeat_penalty,omitempty"`
	Tools         json.RawMessage `json:"tools,omitempty"`
	oaExtras
}

// oaExtras are OpenAI's penalties and response_format.
type oaExtras struct {
	PresencePenalty  *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64        `json:"frequency_penalty,omitempty"`
	ResponseFormat   json.RawMessage `json:"response_format,omitempty"`
}

// extrasOf maps p's penalties and Format to OpenAI's fields: "json" is
// {"type":"json_object"}, a schema {"type":"json_schema",…} (strict).
func extrasOf(p Params) oaExtras {
	x := oaExtras{PresencePenalty: p.PresencePenalty, FrequencyPenalty: p.FrequencyPenalty}
	switch {
	case !p.JSONMode():
	case p.FormatSchema() == nil:
		x.ResponseFormat = json.RawMessage(`{"type":"json_object"}`)
	default:
		x.ResponseFormat, _ = json.Marshal(map[string]any{"type": "json_schema",
			"json_schema": map[string]any{"name": "answer", "schema": p.FormatSchema(), "strict": true}})
	}
	return x
}

type oaStreamOpts struct {
	IncludeUsage bool `json:"include_usage"`
}

type oaUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

type oaResponse struct {
	Choices []struct {
		Message      *struct{ Content string } `json:"message"`
		Delta        *struct{ Content string } `json:"delta"`
		FinishReason *string                   `json:"finish_reason"`
	} `json:"choices"`
	Usage *oaUsage `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func (c *OpenAI) body(req Request, stream bool) ([]byte, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	p := req.Params
	r := oaRequest{Model: req.Model, Messages: req.Messages, Stream: stream,
		Temperature: p.Temperature, TopP: p.TopP, TopK: p.TopK, Seed: p.Seed,
		MaxTokens: p.MaxTokens, Stop: p.Stop, RepeatPenalty: p.RepeatPenalty, Tools: req.Tools, oaExtras: extrasOf(p)}
	if stream {
		r.StreamOptions = &oaStreamOpts{IncludeUsage: true}
	}
	return json.Marshal(r)
}

// Complete implements Chat.
func (c *OpenAI) Complete(ctx context.Context, req Request) (*Response, error) {
	body, err := c.body(req, false)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.t.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.t.post(ctx, "/v1/chat/completions", body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ttft := time.Since(start)
	var r oaResponse
	err = json.NewDecoder(resp.Body).Decode(&r)
	if err == nil && r.Error != nil {
		err = fmt.Errorf("server error: %s", r.Error.Message)
	}
	if err == nil && len(r.Choices) == 0 {
		err = fmt.Errorf("no choices in response")
	}
	c.t.done(err)
	if err != nil {
		return nil, fmt.Errorf("llm: openai complete: %w", err)
	}
	out := &Response{TTFT: ttft, Duration: time.Since(start)}
	ch := r.Choices[0]
	if ch.Message != nil {
		out.Content = ch.Message.Content
	}
	if ch.FinishReason != nil {
		out.FinishReason = *ch.FinishReason
	}
	if r.Usage != nil {
		out.Usage = Usage{r.Usage.PromptTokens, r.Usage.CompletionTokens}
	}
	return out, nil
}

// Stream implements Chat. It reads SSE "data: {...}" lines until "data: [DONE]".
func (c *OpenAI) Stream(ctx context.Context, req Request, fn func(Delta) error) (*Response, error) {
	body, err := c.body(req, true)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.t.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.t.post(ctx, "/v1/chat/completions", body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := &Response{}
	err = readSSE(resp.Body, func(data []byte) error {
		var r oaResponse
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("bad stream event %q: %w", truncate(data), err)
		}
		if r.Error != nil {
			return fmt.Errorf("server error: %s", r.Error.Message)
		}
		if r.Usage != nil {
			out.Usage = Usage{r.Usage.PromptTokens, r.Usage.CompletionTokens}
		}
		for _, ch := range r.Choices {
			if ch.FinishReason != nil && *ch.FinishReason != "" {
				out.FinishReason = *ch.FinishReason
			}
			if ch.Delta != nil && ch.Delta.Content != "" {
				if out.TTFT == 0 {
					out.TTFT = time.Since(start)
				}
				out.Content += ch.Delta.Content
				if err := fn(Delta{Content: ch.Delta.Content}); err != nil {
					return fmt.Errorf("%w: %w", errCallback, err)
				}
			}
		}
		return nil
	})
	c.t.done(err)
	if err != nil {
		return nil, fmt.Errorf("llm: openai stream: %w", err)
	}
	out.Duration = time.Since(start)
	return out, nil
}

// readSSE calls fn with the payload of every "data:" line until "[DONE]".
// A stream that ends without [DONE] is an error (the connection was cut).
func readSSE(r interface{ Read([]byte) (int, error) }, fn func([]byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue // comments, event:, id:, blank separators
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			return nil
		}
		if err := fn(data); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("stream cut: %w", err)
	}
	return fmt.Errorf("stream ended without [DONE]")
}

func truncate(b []byte) string {
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

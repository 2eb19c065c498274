package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ToolSpec is a function the model may call: its name, what it does and the
// JSON Schema of its arguments object.
type ToolSpec struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// ToolCall is a call the model asked for. Arguments is the JSON text the
// model wrote, unchecked: it may be malformed or name unknown parameters.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// ToolMessage is a chat turn of a tool-calling conversation: an assistant
// turn may carry ToolCalls; a "tool" turn answers the call ToolCallID (and
// names the tool, which Ollama wants).
type ToolMessage struct {
	Role       string
	Content    string
	ToolCalls  []ToolCall
	ToolCallID string
	ToolName   string
}

// ToolRequest is one call with tools offered to the model.
type ToolRequest struct {
	Model    string
	Messages []ToolMessage
	Tools    []ToolSpec
	Params   Params
	// ToolChoice is OpenAI's tool_choice ("auto", "none", "required" or
	// {"type":"function","function":{"name":…}}), sent verbatim to
	// OpenAI-compatible servers; Ollama has no such field (see
	// Ollama.CompleteTools).
	ToolChoice json.RawMessage
}

// ToolResponse is a finished tool-calling call: content, tool calls or both.
type ToolResponse struct {
	Response
	ToolCalls []ToolCall
}

// ToolCaller is a client that supports native tool calling (OpenAI "tools",
// Ollama "tools"). Calls are not streamed.
type ToolCaller interface {
	CompleteTools(ctx context.Context, req ToolRequest) (*ToolResponse, error)
}

// ErrToolsUnsupported wraps the server's refusal of a request with tools
// (Ollama: "model does not support tools"): the caller should fall back to a
// text protocol.
var ErrToolsUnsupported = errors.New("llm: model does not support tools")

// toolsErr marks a refusal of tools as ErrToolsUnsupported.
func toolsErr(err error) error {
	if err != nil && strings.Contains(err.Error(), "does not support tools") {
		return fmt.Errorf("%w: %w", ErrToolsUnsupported, err)
	}
	return err
}

var (
	_ ToolCaller = (*OpenAI)(nil)
	_ ToolCaller = (*Ollama)(nil)
)

func (r *ToolRequest) validate() error {
	if r.Model == "" {
		return fmt.Errorf("%w: model is empty", ErrInvalidParams)
	}
	if len(r.Messages) == 0 {
		return fmt.Errorf("%w: messages is empty", ErrInvalidParams)
	}
	for i, t := range r.Tools {
		if t.Name == "" {
			return fmt.Errorf("%w: tools[%d] has no name", ErrInvalidParams, i)
		}
		if len(t.Parameters) > 0 && !json.Valid(t.Parameters) {
			return fmt.Errorf("%w: tools[%d] parameters are not valid JSON", ErrInvalidParams, i)
		}
	}
	return r.Params.Validate()
}

// --- OpenAI wire ---

type oaFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type oaTool struct {
	Type     string     `json:"type"`
	Function oaFunction `json:"function"`
}

type oaCallFunction struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

type oaToolCall struct {
	ID       string         `json:"id,omitempty"`
	Type     string         `json:"type"`
	Function oaCallFunction `json:"function"`
}

type oaToolMessage struct {
	Role       string       `json:"role"`
	Content    string       `json:"content"`
	ToolCalls  []oaToolCall `json:"tool_calls,omitempty"`
	ToolCallID string       `json:"tool_call_id,omitempty"`
	Name       string       `json:"name,omitempty"`
}

type oaToolRequest struct {
	Model       string          `json:"model"`
	Messages    []oaToolMessage `json:"messages"`
	Tools       []oaTool        `json:"tools,omitempty"`
	Stream      bool            `json:"stream"`
	Temperature *float64        `json:"temperature,omitempty"`
	TopP        *float64        `json:"top_p,omitempty"`
	Seed        *int64          `json:"seed,omitempty"`
	MaxTokens   int             `json:"max_tokens,omitempty"`
	Stop        []string        `json:"stop,omitempty"`
	oaExtras
	// ToolChoice is OpenAI's tool_choice, verbatim.
	ToolChoice json.RawMessage `json:"tool_choice,omitempty"`
}

type oaToolResponse struct {
	Choices []struct {
		Message struct {
			Content   *string      `json:"content"`
			ToolCalls []oaToolCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *oaUsage `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// argText returns arguments as text: OpenAI sends a JSON string holding
// JSON, some compatible servers an object.
func argText(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// CompleteTools implements ToolCaller with OpenAI's tools and tool_calls.
func (c *OpenAI) CompleteTools(ctx context.Context, req ToolRequest) (*ToolResponse, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	p := req.Params
	w := oaToolRequest{Model: req.Model, Temperature: p.Temperature, TopP: p.TopP, Seed: p.Seed, MaxTokens: p.MaxTokens, Stop: p.Stop,
		oaExtras: extrasOf(p), ToolChoice: req.ToolChoice}
	for _, t := range req.Tools {
		w.Tools = append(w.Tools, oaTool{Type: "function", Function: oaFunction(t)})
	}
	for _, m := range req.Messages {
		om := oaToolMessage{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			args, _ := json.Marshal(tc.Arguments)
			om.ToolCalls = append(om.ToolCalls, oaToolCall{ID: tc.ID, Type: "function", Function: oaCallFunction{Name: tc.Name, Arguments: args}})
		}
		w.Messages = append(w.Messages, om)
	}
	body, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.t.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.t.post(ctx, "/v1/chat/completions", body)
	if err != nil {
		return nil, toolsErr(err)
	}
	defer resp.Body.Close()
	ttft := time.Since(start)
	var r oaToolResponse
	err = json.NewDecoder(resp.Body).Decode(&r)
	if err == nil && r.Error != nil {
		err = fmt.Errorf("server error: %s", r.Error.Message)
	}
	if err == nil && len(r.Choices) == 0 {
		err = fmt.Errorf("no choices in response")
	}
	c.t.done(err)
	if err != nil {
		return nil, fmt.Errorf("llm: openai tools: %w", err)
	}
	out := &ToolResponse{Response: Response{TTFT: ttft, Duration: time.Since(start)}}
	ch := r.Choices[0]
	if ch.Message.Content != nil {
		out.Content = *ch.Message.Content
	}
	if ch.FinishReason != nil {
		out.FinishReason = *ch.FinishReason
	}
	if r.Usage != nil {
		out.Usage = Usage{r.Usage.PromptTokens, r.Usage.CompletionTokens}
	}
	for _, tc := range ch.Message.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: argText(tc.Function.Arguments)})
	}
	return out, nil
}

// --- Ollama wire ---

type olToolCall struct {
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

type olToolMessage struct {
	Role      string       `json:"role"`
	Content   string       `json:"content"`
	ToolCalls []olToolCall `json:"tool_calls,omitempty"`
	ToolName  string       `json:"tool_name,omitempty"`
}

type olToolRequest struct {
	Model    string          `json:"model"`
	Messages []olToolMessage `json:"messages"`
	Tools    []oaTool        `json:"tools,omitempty"`
	Stream   bool            `json:"stream"`
	Options  olOptions       `json:"options"`
	Format   json.RawMessage `json:"format,omitempty"`
}

type olToolResponse struct {
	Message struct {
		Content   string       `json:"content"`
		ToolCalls []olToolCall `json:"tool_calls"`
	} `json:"message"`
	DoneReason      string `json:"done_reason"`
	PromptEvalCount int    `json:"prompt_eval_count"`
	EvalCount       int    `json:"eval_count"`
	Error           string `json:"error"`
}

// CompleteTools implements ToolCaller with Ollama's tools and tool_calls
// (arguments are JSON objects on this wire).
func (c *Ollama) CompleteTools(ctx context.Context, req ToolRequest) (*ToolResponse, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	p := req.Params
	w := olToolRequest{Model: req.Model, Options: olOpts(p), Format: p.Format}
	for _, t := range olTools(req.Tools, req.ToolChoice) {
		w.Tools = append(w.Tools, oaTool{Type: "function", Function: oaFunction(t)})
	}
	for _, m := range req.Messages {
		om := olToolMessage{Role: m.Role, Content: m.Content, ToolName: m.ToolName}
		for _, tc := range m.ToolCalls {
			var call olToolCall
			call.Function.Name = tc.Name
			if json.Valid([]byte(tc.Arguments)) {
				call.Function.Arguments = json.RawMessage(tc.Arguments)
			} else {
				call.Function.Arguments = json.RawMessage("{}")
			}
			om.ToolCalls = append(om.ToolCalls, call)
		}
		w.Messages = append(w.Messages, om)
	}
	body, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.t.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.t.post(ctx, "/api/chat", body)
	if err != nil {
		return nil, toolsErr(err)
	}
	defer resp.Body.Close()
	ttft := time.Since(start)
	var r olToolResponse
	err = json.NewDecoder(resp.Body).Decode(&r)
	if err == nil && r.Error != "" {
		err = fmt.Errorf("server error: %s", r.Error)
	}
	c.t.done(err)
	if err != nil {
		return nil, fmt.Errorf("llm: ollama tools: %w", err)
	}
	out := &ToolResponse{Response: Response{Content: r.Message.Content, FinishReason: r.DoneReason, TTFT: ttft,
		Duration: time.Since(start), Usage: Usage{r.PromptEvalCount, r.EvalCount}}}
	for i, tc := range r.Message.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, ToolCall{ID: fmt.Sprintf("call_%d", i), Name: tc.Function.Name, Arguments: argText(tc.Function.Arguments)})
	}
	return out, nil
}

// olTools applies tool_choice the only way Ollama allows, by the tools it
// offers: "none" offers none, a named function only that one; "auto" and
// "required" offer all (Ollama cannot force a call).
func olTools(tools []ToolSpec, choice json.RawMessage) []ToolSpec {
	var s string
	if json.Unmarshal(choice, &s) == nil && s == "none" {
		return nil
	}
	var named struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(choice, &named) == nil && named.Function.Name != "" {
		for _, t := range tools {
			if t.Name == named.Function.Name {
				return []ToolSpec{t}
			}
		}
	}
	return tools
}

package server

// The wire types of the OpenAI-compatible routes (/v1/chat/completions,
// /v1/models), in OpenAI's field names and shapes, so that OpenAI's SDKs
// work unchanged. Quarry's additions (citations, sources, retrieval scope)
// are extra fields, which the SDKs ignore or expose as extras.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// chatRequest is the body of POST /v1/chat/completions.
type chatRequest struct {
	// Model names the collection to answer from.
	Model    string      `json:"model"`
	Messages messageList `json:"messages"`
	Stream   bool        `json:"stream"`
	// StreamOptions.IncludeUsage adds a last chunk with the usage.
	StreamOptions *streamOptionsIn `json:"stream_options"`
	// MaxCompletionTokens is OpenAI's newer name for max_tokens.
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	// N must be 1: one answer per request.
	N *int `json:"n"`
	// User is accepted and ignored.
	User string `json:"user"`
	decodingIn
	openAIExtrasIn // accepted, checked, documented no-ops (openai_compat.go)
	// Quarry's settings (OpenAI SDKs send them with extra_body): retrieval,
	// answer method, query rewriting, cache bypass.
	K          int    `json:"k"`
	Mode       string `json:"mode"`
	Method     string `json:"method"`
	Rewrite    string `json:"rewrite"`
	Expansions int    `json:"expansions"`
	NoCache    bool   `json:"no_cache"`
	scopeIn

	// Set by toEngine: what the output must be (JSON, tool calls), and
	// the field that asked for the llm method when Method was empty.
	structure chatStructure
	forcedBy  string
	question  int // the index of the question in Messages
}

type streamOptionsIn struct {
	IncludeUsage bool `json:"include_usage"`
}

func (o *streamOptionsIn) UnmarshalJSON(b []byte) error {
	type plain streamOptionsIn
	return decodeStrict(b, (*plain)(o), "stream_options")
}

// chatMessageIn is one message of the conversation. An assistant message
// may carry the tool calls it made, a "tool" message answers one of them
// (tool_call_id).
type chatMessageIn struct {
	Role       string       `json:"role"`
	Content    chatContent  `json:"content"`
	Name       string       `json:"name"`
	ToolCalls  []toolCallIn `json:"tool_calls"`
	ToolCallID string       `json:"tool_call_id"`
	// Accepted and ignored: what SDKs echo back of an assistant message
	// (and Quarry's own citations).
	Refusal      json.RawMessage `json:"refusal"`
	Annotations  json.RawMessage `json:"annotations"`
	Audio        json.RawMessage `json:"audio"`
	FunctionCall json.RawMessage `json:"function_call"`
	Citations    json.RawMessage `json:"citations"`
}

// toolCallIn is a tool call of an earlier assistant message.
type toolCallIn struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// chatRoles are the roles a message may have.
var chatRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true}

// messageList decodes the messages element by element so that errors name
// the element: messages[2].content.
type messageList []chatMessageIn

func (l *messageList) UnmarshalJSON(b []byte) error {
	out, err := decodeList[chatMessageIn](b, "messages", "an array of messages")
	*l = out
	return err
}

// chatContent is a message's content: a string, or an array of content
// parts of which only {"type":"text","text":...} are accepted (joined with
// newlines).
type chatContent struct {
	Text string
	Set  bool // not absent or null
}

func (c *chatContent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		c.Set = true
		return json.Unmarshal(b, &c.Text)
	case len(b) > 0 && b[0] == '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return invalid("content", "must be a string or an array of text parts")
		}
		texts := make([]string, 0, len(parts))
		for i, p := range parts {
			if p.Type != "text" {
				return invalid(fmt.Sprintf("content[%d].type", i), "only text parts are supported, got %q", p.Type)
			}
			texts = append(texts, p.Text)
		}
		c.Set, c.Text = true, strings.Join(texts, "\n")
		return nil
	}
	return invalid("content", "must be a string or an array of text parts")
}

// chatCompletion is the non-streamed response.
type chatCompletion struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"` // "chat.completion"
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Choices []chatChoice    `json:"choices"`
	Usage   chatUsage       `json:"usage"`
	Sources []hitOut        `json:"sources"` // Quarry: the retrieved chunks
	Quarry  *chatQuarryInfo `json:"quarry"`
}

type chatChoice struct {
	Index        int            `json:"index"`
	Message      chatMessageOut `json:"message"`
	FinishReason string         `json:"finish_reason"`
	Logprobs     *struct{}      `json:"logprobs"` // always null
}

// chatMessageOut is the answer. Citations (Quarry's) map its [n] markers to
// the cited text.
type chatMessageOut struct {
	Role string `json:"role"`
	// Content is null only when the model called tools and wrote nothing.
	Content   *string       `json:"content"`
	Refusal   *string       `json:"refusal"` // always null
	ToolCalls []toolCallOut `json:"tool_calls,omitempty"`
	Citations []citationOut `json:"citations"`
}

// toolCallOut is a call of one of the request's tools, in OpenAI's shape.
// In a streamed delta, Index orders the calls and the first delta of a call
// carries its id, type and name.
type toolCallOut struct {
	Index    *int            `json:"index,omitempty"` // streamed deltas only
	ID       string          `json:"id,omitempty"`
	Type     string          `json:"type,omitempty"`
	Function toolCallFuncOut `json:"function"`
}

type toolCallFuncOut struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type chatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// chatQuarryInfo is how the answer was made (Quarry's extra field).
type chatQuarryInfo struct {
	Method           string     `json:"method"`
	TookMS           float64    `json:"took_ms"`
	LLMModel         string     `json:"llm_model,omitempty"`
	Grounded         bool       `json:"grounded"`
	Cached           string     `json:"cached,omitempty"`
	InvalidCitations []int      `json:"invalid_citations,omitempty"`
	Timings          timingsOut `json:"timings"`
}

// chatChunk is one streamed chunk. Citations are set on the chunk that
// carries the finish reason, Usage on the optional last chunk (with no
// choices).
type chatChunk struct {
	ID        string          `json:"id"`
	Object    string          `json:"object"` // "chat.completion.chunk"
	Created   int64           `json:"created"`
	Model     string          `json:"model"`
	Choices   []chunkChoice   `json:"choices"`
	Usage     *chatUsage      `json:"usage,omitempty"`
	Citations []citationOut   `json:"citations,omitempty"`
	Quarry    *chatQuarryInfo `json:"quarry,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason"`
	Logprobs     *struct{}  `json:"logprobs"` // always null
}

type chunkDelta struct {
	Role      string        `json:"role,omitempty"`
	Content   *string       `json:"content,omitempty"`
	ToolCalls []toolCallOut `json:"tool_calls,omitempty"`
}

// modelList is GET /v1/models: one model per collection.
type modelList struct {
	Object string     `json:"object"` // "list"
	Data   []modelOut `json:"data"`
}

type modelOut struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// openAIErrorBody is OpenAI's error shape, used on the OpenAI-compatible
// routes (and in their streams).
type openAIErrorBody struct {
	Error openAIError `json:"error"`
	// Sources (Quarry's) are the retrieval results of an answer whose
	// language model failed.
	Sources []hitOut `json:"sources,omitempty"`
}

type openAIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

// toOpenAIError converts an error's wire form to OpenAI's shape. type is
// OpenAI's class (invalid_request_error for a client's mistake,
// server_error for the server's, upstream failures included); code is
// Quarry's error code, except that an unknown model is model_not_found.
func toOpenAIError(e *apiError, sources []hitOut) openAIErrorBody {
	out := openAIError{Message: e.Message, Type: "invalid_request_error", Code: e.Code}
	if e.status() >= 500 {
		out.Type = "server_error"
	}
	if e.Field != "" {
		f := e.Field
		out.Param = &f
		if out.Message != "" {
			out.Message = e.Field + ": " + out.Message
		}
	}
	if e.Code == codeNotFound && e.Field == "model" {
		out.Code = "model_not_found"
	}
	return openAIErrorBody{Error: out, Sources: sources}
}

// isOpenAIPath reports whether errors on path take OpenAI's shape.
func isOpenAIPath(path string) bool {
	return path == "/v1/chat/completions" || path == "/v1/models" || strings.HasPrefix(path, "/v1/models/") || path == "/v1/embeddings"
}

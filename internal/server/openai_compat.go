package server

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"
)

// openAIExtrasIn are the chat-completion fields of OpenAI's API beyond the
// decoding parameters, accepted so that front-ends and SDKs which send
// them work unchanged. Values are checked as OpenAI checks them (a bad
// value is a 400 naming the field):
//
//   - frequency_penalty, presence_penalty: passed to the language model.
//   - response_format, tools, tool_choice: JSON mode and the client's
//     tools, passed to the model and enforced (openai_tools.go).
//   - logit_bias: the LLM clients have no such parameter; ignored.
//   - logprobs, top_logprobs: no log probabilities are returned
//     (choices[].logprobs is null).
//   - parallel_tool_calls: ignored (the model may return several calls);
//     functions, function_call (OpenAI's deprecated tools): ignored.
//   - metadata, store, service_tier, user, prompt_cache_key,
//     safety_identifier, reasoning_effort, verbosity, modalities,
//     prediction, audio, web_search_options: ignored.
type openAIExtrasIn struct {
	FrequencyPenalty  *float64           `json:"frequency_penalty"`
	PresencePenalty   *float64           `json:"presence_penalty"`
	LogitBias         map[string]float64 `json:"logit_bias"`
	Logprobs          *bool              `json:"logprobs"`
	TopLogprobs       *int               `json:"top_logprobs"`
	Metadata          map[string]string  `json:"metadata"`
	ResponseFormat    *responseFormatIn  `json:"response_format"`
	Tools             []toolIn           `json:"tools"`
	ToolChoice        json.RawMessage    `json:"tool_choice"`
	ParallelToolCalls *bool              `json:"parallel_tool_calls"`
	Functions         json.RawMessage    `json:"functions"`
	FunctionCall      json.RawMessage    `json:"function_call"`
	Store             *bool              `json:"store"`
	ServiceTier       *string            `json:"service_tier"`
	PromptCacheKey    *string            `json:"prompt_cache_key"`
	SafetyIdentifier  *string            `json:"safety_identifier"`
	ReasoningEffort   *string            `json:"reasoning_effort"`
	Verbosity         *string            `json:"verbosity"`
	Modalities        []string           `json:"modalities"`
	Prediction        json.RawMessage    `json:"prediction"`
	Audio             json.RawMessage    `json:"audio"`
	WebSearchOptions  json.RawMessage    `json:"web_search_options"`
}

type responseFormatIn struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema"`
}

type toolIn struct {
	Type     string `json:"type"`
	Function *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      *bool           `json:"strict"`
	} `json:"function"`
	Custom json.RawMessage `json:"custom"`
}

// validate checks the values as OpenAI does.
func (x *openAIExtrasIn) validate() error {
	for _, p := range []struct {
		name string
		v    *float64
	}{{"frequency_penalty", x.FrequencyPenalty}, {"presence_penalty", x.PresencePenalty}} {
		if p.v != nil && (*p.v < -2 || *p.v > 2) {
			return invalid(p.name, "must be between -2 and 2, got %v", *p.v)
		}
	}
	for tok, b := range x.LogitBias {
		if _, err := fmt.Sscanf(tok, "%d", new(int)); err != nil || strings.TrimSpace(tok) != tok {
			return invalid("logit_bias", "keys must be token ids, got %q", tok)
		}
		if b < -100 || b > 100 {
			return invalid("logit_bias."+tok, "must be between -100 and 100, got %v", b)
		}
	}
	if v := x.TopLogprobs; v != nil {
		if *v < 0 || *v > 20 {
			return invalid("top_logprobs", "must be between 0 and 20, got %d", *v)
		}
		if x.Logprobs == nil || !*x.Logprobs {
			return invalid("top_logprobs", "requires logprobs to be true")
		}
	}
	if len(x.Metadata) > 16 {
		return invalid("metadata", "has %d keys, at most 16", len(x.Metadata))
	}
	for k, v := range x.Metadata {
		if utf8.RuneCountInString(k) > 64 || utf8.RuneCountInString(v) > 512 {
			return invalid("metadata."+k, "keys are at most 64 characters and values at most 512")
		}
	}
	if f := x.ResponseFormat; f != nil {
		switch f.Type {
		case "text", "json_object":
			if len(bytes.TrimSpace(f.JSONSchema)) > 0 && string(bytes.TrimSpace(f.JSONSchema)) != "null" {
				return invalid("response_format.json_schema", "is only allowed with type json_schema")
			}
		case "json_schema":
			if len(bytes.TrimSpace(f.JSONSchema)) == 0 || string(bytes.TrimSpace(f.JSONSchema)) == "null" {
				return invalid("response_format.json_schema", "is required with type json_schema: {\"name\": …, \"schema\": {…}}")
			}
		default:
			return invalid("response_format.type", "must be text, json_object or json_schema, got %q", f.Type)
		}
	}
	if v := x.ReasoningEffort; v != nil {
		switch *v {
		case "minimal", "low", "medium", "high", "none":
		default:
			return invalid("reasoning_effort", "must be minimal, low, medium or high, got %q", *v)
		}
	}
	return nil
}

// embeddingsRequest is the body of POST /v1/embeddings.
type embeddingsRequest struct {
	// Model is a collection (its embedding model) or a model name.
	Model string `json:"model"`
	// Input is a string or an array of strings (token arrays are not
	// accepted: Quarry's models tokenize themselves).
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	User           string          `json:"user"`
	// InputType is Quarry's: "query" embeds the texts as search queries
	// (models such as e5 embed queries and passages differently);
	// default "passage".
	InputType string `json:"input_type"`
}

type embeddingOut struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

type embeddingsResponse struct {
	Object string         `json:"object"`
	Data   []embeddingOut `json:"data"`
	Model  string         `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

// embeddings is OpenAI's embeddings API over Quarry's models.
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) error {
	var in embeddingsRequest
	if err := readJSON(w, r, s.opts.MaxBodyBytes, &in); err != nil {
		return err
	}
	var texts []string
	raw := bytes.TrimSpace(in.Input)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return invalid("input", "is required")
	case raw[0] == '"':
		var one string
		if err := json.Unmarshal(raw, &one); err != nil {
			return invalid("input", "must be a string or an array of strings")
		}
		texts = []string{one}
	default:
		if err := json.Unmarshal(raw, &texts); err != nil {
			return invalid("input", "must be a string or an array of strings (token arrays are not supported)")
		}
	}
	for i, t := range texts {
		if t == "" {
			return invalid(fmt.Sprintf("input[%d]", i), "is empty")
		}
	}
	switch in.EncodingFormat {
	case "", "float", "base64":
	default:
		return invalid("encoding_format", "must be float or base64, got %q", in.EncodingFormat)
	}
	if in.InputType != "" && in.InputType != "query" && in.InputType != "passage" {
		return invalid("input_type", "must be query or passage, got %q", in.InputType)
	}
	vecs, name, err := s.eng.Embed(r.Context(), in.Model, texts, in.InputType == "query")
	if err != nil {
		return err
	}
	if in.Dimensions != nil && len(vecs) > 0 && *in.Dimensions != len(vecs[0]) {
		return invalid("dimensions", "the model %s has %d dimensions and cannot shorten them, got %d", name, len(vecs[0]), *in.Dimensions)
	}
	out := embeddingsResponse{Object: "list", Model: in.Model, Data: make([]embeddingOut, len(vecs))}
	for i, v := range vecs {
		var e any = v
		if in.EncodingFormat == "base64" {
			b := make([]byte, 4*len(v))
			for j, x := range v {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(x))
			}
			e = base64.StdEncoding.EncodeToString(b)
		}
		out.Data[i] = embeddingOut{Object: "embedding", Index: i, Embedding: e}
		out.Usage.PromptTokens += len(strings.Fields(texts[i])) // words: an estimate of tokens
	}
	out.Usage.TotalTokens = out.Usage.PromptTokens
	return s.writeJSON(w, http.StatusOK, out)
}

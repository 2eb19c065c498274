package server

// The chat route's structured output: JSON mode (response_format) and the
// client's own tools (tools, tool_choice, tool turns). Both are checked
// here, passed to the language model, and the model's output is checked
// against them before it is returned: an answer that is not the JSON asked
// for, or a call of a tool that was not offered or with arguments that do
// not match its schema, is retried once and is otherwise a 502
// (llm_failed).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/quarry-rag/quarry"
)

// Limits of the structured-output fields.
const (
	maxSchemaBytes     = 16 << 10 // one tool's parameters, or response_format's schema
	maxToolsBytes      = 64 << 10 // all tool definitions together
	maxToolDescription = 4096     // bytes
	maxToolCallID      = 128      // bytes
)

// toolNamePattern is OpenAI's rule for function and schema names.
var toolNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// noLoader refuses every external schema reference: a client's schema may
// only refer to itself ("#/$defs/…"), never to a file or URL.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("references to %s are not allowed; use local references (#/$defs/…)", url)
}

// compileSchema compiles a client's JSON Schema (draft 2020-12 unless it
// names another); errors name field.
func compileSchema(field string, raw json.RawMessage) (*jsonschema.Schema, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > maxSchemaBytes {
		return nil, invalid(field, "is %d bytes; the limit is %d", len(raw), maxSchemaBytes)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, invalid(field, "must be a JSON Schema object")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, invalid(field, "is not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	const url = "client:///schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, invalid(field, "is not a valid JSON Schema: %s", oneLine(err))
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, invalid(field, "is not a valid JSON Schema: %s", oneLine(err))
	}
	return s, nil
}

// oneLine shortens a library error to one bounded line.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// validateJSON checks that text is one JSON value and, with a schema,
// matches it; the error continues "the model did not produce valid JSON".
func validateJSON(text string, schema *jsonschema.Schema) error {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return fmt.Errorf(" (%v)", err)
	}
	if schema == nil {
		return nil
	}
	if err := schema.Validate(v); err != nil {
		return fmt.Errorf(" for response_format's schema (%s)", oneLine(err))
	}
	return nil
}

// chatStructure is what a chat request asks of the model's output, checked.
type chatStructure struct {
	jsonMode bool
	schema   *jsonschema.Schema            // response_format json_schema
	tools    map[string]*jsonschema.Schema // by name; nil schema: no parameters given
	specs    []quarry.ToolSpec
	choice   []byte
}

func (c *chatStructure) on() bool { return c.jsonMode || c.specs != nil }

// responseFormat checks response_format and returns the LLM's Format:
// "json", a schema, or nil for text.
func (x *openAIExtrasIn) responseFormat(c *chatStructure) (json.RawMessage, error) {
	f := x.ResponseFormat
	if f == nil || f.Type == "text" {
		return nil, nil
	}
	c.jsonMode = true
	if f.Type == "json_object" {
		return json.RawMessage(`"json"`), nil
	}
	var js struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Schema      json.RawMessage `json:"schema"`
		Strict      *bool           `json:"strict"`
	}
	if err := decodeStrict(f.JSONSchema, &js, "response_format.json_schema"); err != nil {
		return nil, err
	}
	if !toolNamePattern.MatchString(js.Name) {
		return nil, invalid("response_format.json_schema.name", "must be 1 to 64 letters, digits, _ or -, got %s", quoteName(js.Name))
	}
	if len(bytes.TrimSpace(js.Schema)) == 0 || string(bytes.TrimSpace(js.Schema)) == "null" {
		return nil, invalid("response_format.json_schema.schema", "is required: the JSON Schema the answer must match")
	}
	s, err := compileSchema("response_format.json_schema.schema", js.Schema)
	if err != nil {
		return nil, err
	}
	c.schema = s
	var compact bytes.Buffer
	if err := json.Compact(&compact, js.Schema); err != nil {
		return nil, invalid("response_format.json_schema.schema", "is not valid JSON")
	}
	return compact.Bytes(), nil
}

// checkTools checks tools and tool_choice and fills c.
func (x *openAIExtrasIn) checkTools(c *chatStructure) error {
	if len(x.Tools) > quarry.MaxTools {
		return invalid("tools", "has %d tools; the limit is %d", len(x.Tools), quarry.MaxTools)
	}
	size := 0
	for i, t := range x.Tools {
		at := fmt.Sprintf("tools[%d]", i)
		if t.Type != "function" {
			if t.Type == "custom" {
				return invalid(at+".type", "custom tools are not supported; use function tools")
			}
			return invalid(at+".type", "must be function, got %q", t.Type)
		}
		if t.Function == nil {
			return invalid(at+".function.name", "is required")
		}
		fn := t.Function
		if fn.Name == "" {
			return invalid(at+".function.name", "is required")
		}
		if !toolNamePattern.MatchString(fn.Name) {
			return invalid(at+".function.name", "must be 1 to 64 letters, digits, _ or -, got %s", quoteName(fn.Name))
		}
		if _, dup := c.tools[fn.Name]; dup {
			return invalid(at+".function.name", "%q is defined twice", fn.Name)
		}
		if len(fn.Description) > maxToolDescription {
			return invalid(at+".function.description", "is %d bytes; the limit is %d", len(fn.Description), maxToolDescription)
		}
		var schema *jsonschema.Schema
		params := bytes.TrimSpace(fn.Parameters)
		if len(params) > 0 && string(params) != "null" {
			s, err := compileSchema(at+".function.parameters", params)
			if err != nil {
				return err
			}
			var top struct {
				Type any `json:"type"`
			}
			_ = json.Unmarshal(params, &top)
			if top.Type != nil && top.Type != "object" {
				return invalid(at+".function.parameters", "must describe an object (\"type\": \"object\"), got type %v", top.Type)
			}
			schema = s
		} else {
			params = nil
		}
		size += len(fn.Name) + len(fn.Description) + len(params)
		if size > maxToolsBytes {
			return invalid("tools", "the definitions are over %d bytes", maxToolsBytes)
		}
		if c.tools == nil {
			c.tools = map[string]*jsonschema.Schema{}
		}
		c.tools[fn.Name] = schema
		c.specs = append(c.specs, quarry.ToolSpec{Name: fn.Name, Description: fn.Description, Parameters: params})
	}
	return x.checkToolChoice(c)
}

// checkToolChoice checks tool_choice against the tools.
func (x *openAIExtrasIn) checkToolChoice(c *chatStructure) error {
	raw := bytes.TrimSpace(x.ToolChoice)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if len(c.specs) == 0 {
		return invalid("tool_choice", "is only allowed with tools")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s != "none" && s != "auto" && s != "required" {
			return invalid("tool_choice", "must be none, auto, required or an object, got %q", s)
		}
		c.choice = raw
		return nil
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := decodeStrict(raw, &named, "tool_choice"); err != nil {
		return invalid("tool_choice", "must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":…}}")
	}
	if named.Type != "function" {
		return invalid("tool_choice.type", "must be function, got %q", named.Type)
	}
	if _, ok := c.tools[named.Function.Name]; !ok {
		return invalid("tool_choice.function.name", "names no tool of the request: %q", named.Function.Name)
	}
	c.choice, _ = json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": named.Function.Name}})
	return nil
}

// checkAnswer reports what is wrong with a model's output for c, "" when
// nothing is. With tool calls the content may be anything (often empty).
func (c *chatStructure) checkAnswer(ans *quarry.Answer) string {
	if len(ans.ToolCalls) > 0 {
		for _, call := range ans.ToolCalls {
			schema, ok := c.tools[call.Name]
			if !ok {
				return fmt.Sprintf("the model called the tool %s, which the request does not define", quoteName(call.Name))
			}
			args := call.Arguments
			if strings.TrimSpace(args) == "" {
				args = "{}"
			}
			v, err := jsonschema.UnmarshalJSON(strings.NewReader(args))
			if err != nil {
				return fmt.Sprintf("the model called the tool %s with arguments that are not valid JSON", call.Name)
			}
			if _, obj := v.(map[string]any); !obj {
				return fmt.Sprintf("the model called the tool %s with arguments that are not a JSON object", call.Name)
			}
			if schema != nil {
				if err := schema.Validate(v); err != nil {
					return fmt.Sprintf("the model called the tool %s with arguments that do not match its parameters (%s)", call.Name, oneLine(err))
				}
			}
		}
		return ""
	}
	if !c.jsonMode {
		return ""
	}
	if err := validateJSON(ans.Answer, c.schema); err != nil {
		msg := "the model did not produce valid JSON" + err.Error()
		if ans.FinishReason == "length" {
			msg += "; it was cut at max_tokens"
		}
		return msg
	}
	return ""
}

// structuredAnswer asks the collection and checks the output against c,
// asking once more (uncached) when it does not pass.
func (s *Server) structuredAnswer(ctx context.Context, col *quarry.Collection, req quarry.AskRequest, c *chatStructure) (*quarry.Answer, error) {
	var problem string
	var ans *quarry.Answer
	for attempt := 0; attempt < 2; attempt++ {
		var err error
		ans, err = col.Ask(ctx, req)
		if err != nil {
			return ans, err
		}
		if ans.Method == string(quarry.MethodNone) && c.jsonMode && len(ans.ToolCalls) == 0 {
			// Nothing relevant was retrieved and no model was asked: the
			// abstention as a JSON object (quarry.method says "none").
			b, _ := json.Marshal(map[string]string{"answer": ans.Answer})
			ans.Answer = string(b)
			return ans, nil
		}
		if problem = c.checkAnswer(ans); problem == "" {
			return ans, nil
		}
		s.log.Warn("chat: the model's output failed its check", "attempt", attempt+1, "problem", problem)
		req.NoCache = true
		if ctx.Err() != nil {
			break
		}
	}
	return ans, &apiError{Code: codeLLMFailed, Message: problem + " (asked twice)"}
}

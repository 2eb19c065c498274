package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	invopop "github.com/invopop/jsonschema"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// MaxArgsBytes bounds the JSON arguments of one call.
const MaxArgsBytes = 1 << 20

// Source is a piece of a document a tool returned: what an answer may cite.
type Source struct {
	DocID   string `json:"doc_id"`
	ChunkID string `json:"chunk_id,omitempty"`
	Title   string `json:"title,omitempty"`
	Text    string `json:"text"`
}

// Result is what a tool returns: Text for the model (and MCP clients), Data
// as structured JSON, Sources for citations.
type Result struct {
	Text    string
	Data    any
	Sources []Source
}

// ErrorKind classifies a call the Set refused or a tool that failed.
type ErrorKind int

// Error kinds. All but KindToolFailed mean the tool never ran.
const (
	KindUnknownTool ErrorKind = iota + 1
	KindBadJSON
	KindInvalidArgs
	KindForbidden
	KindToolFailed
)

func (k ErrorKind) String() string {
	switch k {
	case KindUnknownTool:
		return "unknown_tool"
	case KindBadJSON:
		return "bad_json"
	case KindInvalidArgs:
		return "invalid_arguments"
	case KindForbidden:
		return "forbidden"
	case KindToolFailed:
		return "tool_failed"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// CallError is a refused or failed call, worded for the model.
type CallError struct {
	Kind    ErrorKind
	Tool    string
	Message string
	Err     error // the tool's own error for KindToolFailed
}

func (e *CallError) Error() string { return e.Message }
func (e *CallError) Unwrap() error { return e.Err }

// Executed reports whether the tool function ran.
func (e *CallError) Executed() bool { return e.Kind == KindToolFailed }

// Tool is one callable tool. Build it with New.
type Tool struct {
	Name        string
	Description string
	// Schema is the JSON Schema of the arguments object, generated from the
	// parameter struct.
	Schema json.RawMessage
	// Write marks a tool that changes data: it needs RoleWrite.
	Write bool

	params []string // top-level parameter names, sorted
	schema *jsonschema.Schema
	run    func(ctx context.Context, sc Scope, args []byte) (Result, error)
}

// Params returns the names of the tool's parameters.
func (t *Tool) Params() []string { return append([]string(nil), t.params...) }

// New makes a tool from fn. A's exported fields are the parameters: their
// json names, `jsonschema` tags (minimum, maximum, maxLength, enum,
// description) and omitempty (optional) become the schema. A must be a
// struct. New panics on a schema that does not compile: that is a
// programming error, caught by the package tests.
func New[A any](name, description string, write bool, fn func(ctx context.Context, sc Scope, args A) (Result, error)) *Tool {
	r := invopop.Reflector{DoNotReference: true, ExpandedStruct: true, Anonymous: true}
	s := r.Reflect(new(A))
	s.Version = ""
	s.Title = ""
	raw, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("tools: schema of %s: %v", name, err))
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		panic(fmt.Sprintf("tools: schema of %s: %v", name, err))
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "tool:///" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		panic(fmt.Sprintf("tools: schema of %s: %v", name, err))
	}
	compiled, err := c.Compile(url)
	if err != nil {
		panic(fmt.Sprintf("tools: schema of %s: %v", name, err))
	}
	var params []string
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			params = append(params, p.Key)
		}
	}
	sort.Strings(params)
	if reflect.TypeFor[A]().Kind() != reflect.Struct {
		panic(fmt.Sprintf("tools: %s: parameters must be a struct", name))
	}
	return &Tool{Name: name, Description: description, Schema: raw, Write: write,
		params: params, schema: compiled,
		run: func(ctx context.Context, sc Scope, args []byte) (Result, error) {
			var a A
			dec := json.NewDecoder(bytes.NewReader(args))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&a); err != nil {
				return Result{}, &CallError{Kind: KindInvalidArgs, Tool: name, Message: fmt.Sprintf("tool %s: arguments: %v", name, err)}
			}
			return fn(ctx, sc, a)
		}}
}

// Set is a fixed collection of tools.
type Set struct {
	byName map[string]*Tool
	names  []string // sorted
}

// NewSet returns a set of ts. Names must be unique.
func NewSet(ts ...*Tool) *Set {
	s := &Set{byName: make(map[string]*Tool, len(ts))}
	for _, t := range ts {
		if _, dup := s.byName[t.Name]; dup {
			panic("tools: duplicate tool " + t.Name)
		}
		s.byName[t.Name] = t
		s.names = append(s.names, t.Name)
	}
	sort.Strings(s.names)
	return s
}

// Subset returns the tools of s named in names (unknown names are ignored).
func (s *Set) Subset(names ...string) *Set {
	var ts []*Tool
	for _, n := range names {
		if t, ok := s.byName[n]; ok {
			ts = append(ts, t)
		}
	}
	return NewSet(ts...)
}

// List returns the tools sc may call, sorted by name.
func (s *Set) List(sc Scope) []*Tool {
	out := make([]*Tool, 0, len(s.names))
	for _, n := range s.names {
		if t := s.byName[n]; !t.Write || sc.Role.CanWrite() {
			out = append(out, t)
		}
	}
	return out
}

// Names returns the names of the tools sc may call.
func (s *Set) Names(sc Scope) []string {
	ts := s.List(sc)
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// Lookup returns the named tool.
func (s *Set) Lookup(name string) (*Tool, bool) {
	t, ok := s.byName[name]
	return t, ok
}

// Check validates a call without running it: the tool exists and sc may
// call it, args is one JSON object (empty means {}), and it satisfies the
// schema. It returns the tool and the normalised arguments.
func (s *Set) Check(sc Scope, name string, args []byte) (*Tool, []byte, *CallError) {
	t, ok := s.byName[name]
	if !ok || (t.Write && !sc.Role.CanWrite()) {
		if ok {
			return nil, nil, &CallError{Kind: KindForbidden, Tool: name,
				Message: fmt.Sprintf("tool %s changes data and this key may only read; available: %s", name, strings.Join(s.Names(sc), ", "))}
		}
		return nil, nil, &CallError{Kind: KindUnknownTool, Tool: name,
			Message: fmt.Sprintf("no tool named %q; available: %s", clip(name, 64), strings.Join(s.Names(sc), ", "))}
	}
	args = bytes.TrimSpace(args)
	if len(args) == 0 {
		args = []byte("{}")
	}
	if len(args) > MaxArgsBytes {
		return nil, nil, &CallError{Kind: KindInvalidArgs, Tool: name,
			Message: fmt.Sprintf("tool %s: arguments are %d bytes; the limit is %d", name, len(args), MaxArgsBytes)}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(args))
	if err != nil {
		return nil, nil, &CallError{Kind: KindBadJSON, Tool: name,
			Message: fmt.Sprintf("tool %s: arguments are not valid JSON (%v); send one JSON object like %s", name, err, example(t))}
	}
	if _, isObj := inst.(map[string]any); !isObj {
		return nil, nil, &CallError{Kind: KindBadJSON, Tool: name,
			Message: fmt.Sprintf("tool %s: arguments must be a JSON object like %s", name, example(t))}
	}
	if err := t.schema.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		msg := err.Error()
		if errors.As(err, &ve) {
			msg = describe(t, ve)
		}
		return nil, nil, &CallError{Kind: KindInvalidArgs, Tool: name, Message: fmt.Sprintf("tool %s: %s", name, msg)}
	}
	return t, args, nil
}

// Call validates a call with Check and, only if it passes, runs the tool
// with sc. A tool's own failure is a *CallError of KindToolFailed.
func (s *Set) Call(ctx context.Context, sc Scope, name string, args []byte) (Result, *CallError) {
	t, args, cerr := s.Check(sc, name, args)
	if cerr != nil {
		return Result{}, cerr
	}
	res, err := t.run(ctx, sc, args)
	if err != nil {
		var ce *CallError
		if errors.As(err, &ce) {
			return Result{}, ce
		}
		return Result{}, &CallError{Kind: KindToolFailed, Tool: name, Message: fmt.Sprintf("tool %s failed: %v", name, err), Err: err}
	}
	return res, nil
}

// example renders the tool's required parameters as a JSON object hint.
func example(t *Tool) string {
	var req struct {
		Required []string `json:"required"`
	}
	_ = json.Unmarshal(t.Schema, &req)
	parts := make([]string, len(req.Required))
	for i, p := range req.Required {
		parts[i] = fmt.Sprintf("%q: …", p)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

var printer = message.NewPrinter(language.English)

// describe turns the leaves of a validation error into "parameter k: must be
// ≤ 50" lines, joined by "; ".
func describe(t *Tool, ve *jsonschema.ValidationError) string {
	var msgs []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		msgs = append(msgs, leaf(t, e))
	}
	walk(ve)
	sort.Strings(msgs)
	msgs = dedupe(msgs)
	if len(msgs) > 5 {
		msgs = append(msgs[:5], fmt.Sprintf("and %d more", len(msgs)-5))
	}
	return strings.Join(msgs, "; ")
}

func leaf(t *Tool, e *jsonschema.ValidationError) string {
	where := "arguments"
	if len(e.InstanceLocation) > 0 {
		where = "parameter " + strings.Join(e.InstanceLocation, ".")
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return fmt.Sprintf("parameter %s: is required", strings.Join(k.Missing, ", "))
	case *kind.AdditionalProperties:
		return fmt.Sprintf("parameter %s: is not a parameter of %s (parameters: %s)",
			strings.Join(clipAll(k.Properties), ", "), t.Name, strings.Join(t.params, ", "))
	case *kind.Maximum:
		return fmt.Sprintf("%s: must be ≤ %s", where, k.Want.RatString())
	case *kind.Minimum:
		return fmt.Sprintf("%s: must be ≥ %s", where, k.Want.RatString())
	case *kind.MaxLength:
		return fmt.Sprintf("%s: must be at most %d characters (got %d)", where, k.Want, k.Got)
	case *kind.MinLength:
		return fmt.Sprintf("%s: must be at least %d characters", where, k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("%s: must have at most %d items", where, k.Want)
	case *kind.Type:
		return fmt.Sprintf("%s: must be %s, got %s", where, strings.Join(k.Want, " or "), k.Got)
	case *kind.Enum:
		w, _ := json.Marshal(k.Want)
		return fmt.Sprintf("%s: must be one of %s", where, w)
	}
	return fmt.Sprintf("%s: %s", where, e.ErrorKind.LocalizedString(printer))
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func clipAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clip(s, 64)
	}
	return out
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

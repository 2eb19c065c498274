package base

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Op is a filter operator.
type Op string

const (
	OpAnd    Op = "and"
	OpOr     Op = "or"
	OpNot    Op = "not"
	OpEq     Op = "eq"
	OpNe     Op = "ne"
	OpIn     Op = "in"
	OpGt     Op = "gt"
	OpGte    Op = "gte"
	OpLt     Op = "lt"
	OpLte    Op = "lte"
	OpExists Op = "exists"
)

// Filter is a typed predicate over a chunk's document attributes: its
// metadata keys and the built-in fields "language", "source", "doc_id" and
// "title". The zero Filter (Op == "") matches everything.
//
// JSON form:
//
//	{"field":"year","op":"gte","value":2020}
//	{"field":"lang","op":"in","values":["en","de"]}
//	{"and":[F, F, ...]}  {"or":[F, ...]}  {"not":F}
type Filter struct {
	Op       Op
	Field    string
	Value    Value
	Values   []Value
	Children []Filter
}

// ErrInvalidFilter reports a malformed filter.
var ErrInvalidFilter = errors.New("invalid filter")

// IsZero reports whether f is the match-everything filter.
func (f Filter) IsZero() bool { return f.Op == "" }

// Validate checks operators, arities and operand kinds.
func (f Filter) Validate() error {
	switch f.Op {
	case "":
		return nil
	case OpAnd, OpOr:
		if len(f.Children) == 0 {
			return fmt.Errorf("%w: %q needs at least one operand", ErrInvalidFilter, f.Op)
		}
		for _, c := range f.Children {
			if err := c.Validate(); err != nil {
				return err
			}
		}
		return nil
	case OpNot:
		if len(f.Children) != 1 {
			return fmt.Errorf("%w: \"not\" needs exactly one operand", ErrInvalidFilter)
		}
		return f.Children[0].Validate()
	case OpEq, OpNe, OpGt, OpGte, OpLt, OpLte, OpIn, OpExists:
		if f.Field == "" {
			return fmt.Errorf("%w: %q needs a field", ErrInvalidFilter, f.Op)
		}
		switch f.Op {
		case OpIn:
			if len(f.Values) == 0 {
				return fmt.Errorf("%w: \"in\" on %q needs a non-empty \"values\" list", ErrInvalidFilter, f.Field)
			}
		case OpGt, OpGte, OpLt, OpLte:
			if f.Value.Kind != KindNumber && f.Value.Kind != KindString {
				return fmt.Errorf("%w: %q on %q needs a number or string value", ErrInvalidFilter, f.Op, f.Field)
			}
		case OpEq, OpNe:
			if f.Value.Kind == KindNull {
				return fmt.Errorf("%w: %q on %q needs a value", ErrInvalidFilter, f.Op, f.Field)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: unknown operator %q", ErrInvalidFilter, f.Op)
}

// Match evaluates f against attributes looked up by get.
func (f Filter) Match(get func(field string) (Value, bool)) bool {
	switch f.Op {
	case "":
		return true
	case OpAnd:
		for _, c := range f.Children {
			if !c.Match(get) {
				return false
			}
		}
		return true
	case OpOr:
		for _, c := range f.Children {
			if c.Match(get) {
				return true
			}
		}
		return false
	case OpNot:
		return len(f.Children) == 1 && !f.Children[0].Match(get)
	}
	v, ok := get(f.Field)
	switch f.Op {
	case OpExists:
		return ok
	case OpEq:
		return ok && v.Equal(f.Value)
	case OpNe:
		return !ok || !v.Equal(f.Value)
	case OpIn:
		if !ok {
			return false
		}
		for _, w := range f.Values {
			if v.Equal(w) {
				return true
			}
		}
		return false
	}
	if !ok {
		return false
	}
	c, comparable := v.Compare(f.Value)
	if !comparable {
		return false
	}
	switch f.Op {
	case OpGt:
		return c > 0
	case OpGte:
		return c >= 0
	case OpLt:
		return c < 0
	case OpLte:
		return c <= 0
	}
	return false
}

type filterJSON struct {
	Field  string   `json:"field,omitempty"`
	Op     Op       `json:"op,omitempty"`
	Value  *Value   `json:"value,omitempty"`
	Values []Value  `json:"values,omitempty"`
	And    []Filter `json:"and,omitempty"`
	Or     []Filter `json:"or,omitempty"`
	Not    *Filter  `json:"not,omitempty"`
}

// MarshalJSON encodes f in the form documented on Filter.
func (f Filter) MarshalJSON() ([]byte, error) {
	var j filterJSON
	switch f.Op {
	case "":
		return []byte("{}"), nil
	case OpAnd:
		j.And = f.Children
	case OpOr:
		j.Or = f.Children
	case OpNot:
		if len(f.Children) == 1 {
			c := f.Children[0]
			j.Not = &c
		}
	default:
		j.Field, j.Op, j.Values = f.Field, f.Op, f.Values
		if f.Value.Kind != KindNull {
			v := f.Value
			j.Value = &v
		}
	}
	return json.Marshal(j)
}

// MaxFilterDepth bounds the nesting of a filter's JSON (objects and arrays
// together). Each level is decoded and validated by its parent, so the cost
// of decoding grows with depth × size; the bound keeps it linear in size.
const MaxFilterDepth = 32

// jsonDepth returns the deepest nesting of objects and arrays in b, in one
// pass, stopping as soon as it exceeds limit.
func jsonDepth(b []byte, limit int) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > limit {
					return deepest
				}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// UnmarshalJSON decodes the form documented on Filter, rejecting unknown
// keys and nesting deeper than MaxFilterDepth, and validates the result.
func (f *Filter) UnmarshalJSON(b []byte) error {
	if jsonDepth(b, MaxFilterDepth) > MaxFilterDepth {
		return fmt.Errorf("%w: nested more than %d levels deep", ErrInvalidFilter, MaxFilterDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j filterJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidFilter, err)
	}
	n := 0
	if len(j.And) > 0 {
		n++
		*f = Filter{Op: OpAnd, Children: j.And}
	}
	if len(j.Or) > 0 {
		n++
		*f = Filter{Op: OpOr, Children: j.Or}
	}
	if j.Not != nil {
		n++
		*f = Filter{Op: OpNot, Children: []Filter{*j.Not}}
	}
	if j.Op != "" || j.Field != "" {
		n++
		op := j.Op
		if op == "" {
			op = OpEq
		}
		*f = Filter{Op: op, Field: j.Field, Values: j.Values}
		if j.Value != nil {
			f.Value = *j.Value
		}
	}
	if n > 1 {
		return fmt.Errorf("%w: use one of field/op, \"and\", \"or\", \"not\" per object", ErrInvalidFilter)
	}
	if n == 0 {
		*f = Filter{}
		return nil
	}
	return f.Validate()
}

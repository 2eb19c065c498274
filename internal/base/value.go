package base

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// Kind is the type of a metadata value.
type Kind uint8

const (
	KindNull Kind = iota
	KindString
	KindNumber
	KindBool
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindNumber:
		return "number"
	case KindBool:
		return "bool"
	}
	return "null"
}

// Value is a typed metadata value: a string, a number or a bool.
type Value struct {
	Kind Kind
	Str  string
	Num  float64
	Bool bool
}

// String returns a string Value.
func String(s string) Value { return Value{Kind: KindString, Str: s} }

// Number returns a number Value.
func Number(f float64) Value { return Value{Kind: KindNumber, Num: f} }

// Bool returns a bool Value.
func Bool(b bool) Value { return Value{Kind: KindBool, Bool: b} }

// Equal reports whether v and w have the same kind and value.
func (v Value) Equal(w Value) bool {
	if v.Kind != w.Kind {
		return false
	}
	switch v.Kind {
	case KindString:
		return v.Str == w.Str
	case KindNumber:
		return v.Num == w.Num
	case KindBool:
		return v.Bool == w.Bool
	}
	return true
}

// Compare orders two values of the same kind: -1, 0 or +1. ok is false when
// the kinds differ or the kind has no order (bool, null).
func (v Value) Compare(w Value) (c int, ok bool) {
	if v.Kind != w.Kind {
		return 0, false
	}
	switch v.Kind {
	case KindString:
		switch {
		case v.Str < w.Str:
			return -1, true
		case v.Str > w.Str:
			return 1, true
		}
		return 0, true
	case KindNumber:
		switch {
		case v.Num < w.Num:
			return -1, true
		case v.Num > w.Num:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func (v Value) String() string {
	switch v.Kind {
	case KindString:
		return strconv.Quote(v.Str)
	case KindNumber:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case KindBool:
		return strconv.FormatBool(v.Bool)
	}
	return "null"
}

// MarshalJSON encodes v as a JSON string, number, bool or null.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.Kind {
	case KindString:
		return json.Marshal(v.Str)
	case KindNumber:
		return json.Marshal(v.Num)
	case KindBool:
		return json.Marshal(v.Bool)
	}
	return []byte("null"), nil
}

// ErrValueType is returned when a JSON metadata value is not a string,
// number or bool.
var ErrValueType = errors.New("metadata value must be a string, number or bool")

// UnmarshalJSON decodes a JSON scalar. Arrays and objects are rejected.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ErrValueType
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = String(s)
	case 't', 'f':
		var x bool
		if err := json.Unmarshal(b, &x); err != nil {
			return err
		}
		*v = Bool(x)
	case 'n':
		*v = Value{}
	case '[', '{':
		return ErrValueType
	default:
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("metadata value %s: %w", b, ErrValueType)
		}
		*v = Number(f)
	}
	return nil
}

// Metadata is a document's typed key/value metadata.
type Metadata map[string]Value

// Keys returns the keys in sorted order.
func (m Metadata) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Clone returns a copy of m.
func (m Metadata) Clone() Metadata {
	if m == nil {
		return nil
	}
	c := make(Metadata, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

package weaviate

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
)

// where is a Weaviate where filter; it renders as REST JSON (json.Marshal)
// and as a GraphQL literal (gql).
type where struct {
	Operator     string   `json:"operator"`
	Path         []string `json:"path,omitempty"`
	Operands     []where  `json:"operands,omitempty"`
	ValueText    *string  `json:"valueText,omitempty"`
	ValueTextArr []string `json:"valueTextArray,omitempty"`
	ValueNumber  *float64 `json:"valueNumber,omitempty"`
	ValueInt     *int64   `json:"valueInt,omitempty"`
	ValueBoolean *bool    `json:"valueBoolean,omitempty"`
}

func eqText(path, v string) where {
	return where{Operator: "Equal", Path: []string{path}, ValueText: &v}
}
func anyText(path string, vs []string) where {
	return where{Operator: "ContainsAny", Path: []string{path}, ValueTextArr: vs}
}
func and(ws ...where) where {
	if len(ws) == 1 {
		return ws[0]
	}
	return where{Operator: "And", Operands: ws}
}
func or(ws ...where) where {
	if len(ws) == 1 {
		return ws[0]
	}
	return where{Operator: "Or", Operands: ws}
}
func intCmp(path, op string, v int) where {
	x := int64(v)
	return where{Operator: op, Path: []string{path}, ValueInt: &x}
}
func not(w where) where { return where{Operator: "Not", Operands: []where{w}} }

// never matches no object: no metaKeys entry starts with a NUL byte.
func never() where { return anyText("metaKeys", []string{"~never"}) }

// gql renders w as a GraphQL input literal.
func (w where) gql() string {
	var b strings.Builder
	w.writeGQL(&b)
	return b.String()
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (w where) writeGQL(b *strings.Builder) {
	b.WriteString("{operator:")
	b.WriteString(w.Operator)
	if len(w.Path) > 0 {
		b.WriteString(",path:[")
		for i, p := range w.Path {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(quote(p))
		}
		b.WriteByte(']')
	}
	if len(w.Operands) > 0 {
		b.WriteString(",operands:[")
		for i, o := range w.Operands {
			if i > 0 {
				b.WriteByte(',')
			}
			o.writeGQL(b)
		}
		b.WriteByte(']')
	}
	switch {
	case w.ValueText != nil:
		b.WriteString(",valueText:" + quote(*w.ValueText))
	case w.ValueTextArr != nil:
		b.WriteString(",valueText:[")
		for i, v := range w.ValueTextArr {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(quote(v))
		}
		b.WriteByte(']')
	case w.ValueNumber != nil:
		b.WriteString(",valueNumber:" + strconv.FormatFloat(*w.ValueNumber, 'g', -1, 64))
	case w.ValueInt != nil:
		b.WriteString(",valueInt:" + strconv.FormatInt(*w.ValueInt, 10))
	case w.ValueBoolean != nil:
		b.WriteString(",valueBoolean:" + strconv.FormatBool(*w.ValueBoolean))
	}
	b.WriteByte('}')
}

// scopeWhere is the where filter of a search scope: tenant, ACL and
// metadata, all applied by Weaviate inside the search.
func (b *Backend) scopeWhere(sc store.Scope) where {
	ws := []where{eqText("tenantKey", "t:"+sc.Tenant)}
	open := where{Operator: "Equal", Path: []string{"restricted"}, ValueBoolean: ptr(false)}
	if len(sc.Principals) > 0 {
		ws = append(ws, or(open, anyText("acl", sc.Principals)))
	} else {
		ws = append(ws, open)
	}
	if !sc.Filter.IsZero() {
		ws = append(ws, b.filterWhere(sc.Filter))
	}
	return and(ws...)
}

// builtin maps the filter fields the embedded backend resolves before
// metadata to their chunk properties.
var builtin = map[string]string{"language": "language", "source": "source", "doc_id": "docId", "title": "title"}

// filterWhere translates a validated base.Filter with the semantics of
// base.Filter.Match.
func (b *Backend) filterWhere(f base.Filter) where {
	switch f.Op {
	case base.OpAnd, base.OpOr:
		ws := make([]where, len(f.Children))
		for i, c := range f.Children {
			ws[i] = b.filterWhere(c)
		}
		if f.Op == base.OpAnd {
			return and(ws...)
		}
		return or(ws...)
	case base.OpNot:
		return not(b.filterWhere(f.Children[0]))
	case base.OpNe:
		return not(b.filterWhere(base.Filter{Op: base.OpEq, Field: f.Field, Value: f.Value}))
	case base.OpIn:
		ws := make([]where, len(f.Values))
		for i, v := range f.Values {
			ws[i] = b.filterWhere(base.Filter{Op: base.OpEq, Field: f.Field, Value: v})
		}
		return or(ws...)
	case base.OpExists:
		if p, ok := builtin[f.Field]; ok {
			if p == "docId" {
				return not(never())
			}
			return anyText("metaKeys", []string{"f:" + f.Field})
		}
		return anyText("metaKeys", []string{metaKeyTag(f.Field, base.KindString), metaKeyTag(f.Field, base.KindNumber), metaKeyTag(f.Field, base.KindBool)})
	}
	// eq, gt, gte, lt, lte on one typed value.
	op := map[base.Op]string{base.OpEq: "Equal", base.OpGt: "GreaterThan", base.OpGte: "GreaterThanEqual", base.OpLt: "LessThan", base.OpLte: "LessThanEqual"}[f.Op]
	var prop string
	if p, ok := builtin[f.Field]; ok {
		if f.Value.Kind != base.KindString {
			return never()
		}
		prop = p
		if f.Value.Str == "" {
			return never() // an empty built-in field is absent
		}
		if f.Field != "doc_id" {
			// An empty built-in field is "absent" (the embedded rule).
			w := where{Operator: op, Path: []string{prop}, ValueText: &f.Value.Str}
			return and(anyText("metaKeys", []string{"f:" + f.Field}), w)
		}
	} else {
		prop = metaProp(f.Field, f.Value.Kind)
		if !b.hasProp(prop) {
			return never()
		}
	}
	w := where{Operator: op, Path: []string{prop}}
	switch f.Value.Kind {
	case base.KindString:
		w.ValueText = &f.Value.Str
	case base.KindNumber:
		w.ValueNumber = &f.Value.Num
	case base.KindBool:
		if f.Op != base.OpEq {
			return never() // bools have no order
		}
		w.ValueBoolean = &f.Value.Bool
	default:
		return never()
	}
	if prop != "docId" && !strings.HasPrefix(prop, "m_") {
		return w
	}
	if f.Value.Kind == base.KindString && f.Value.Str == "" {
		// Field tokenization keeps no token for "": match on presence
		// of the typed key instead, then on the empty value.
		if f.Op != base.OpEq {
			return never()
		}
		return anyText("metaKeys", []string{"e:" + f.Field})
	}
	return w
}

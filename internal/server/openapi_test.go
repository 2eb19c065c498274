package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The OpenAPI conformance checks: every route is in the spec and every spec
// operation is a route (TestOpenAPIRoutes), and every response the tests
// see, and the request body of every 2xx response, validates against the
// spec's schema (harness.conform). The validator below implements the
// JSON Schema subset the spec uses: $ref, type, enum, required, properties,
// additionalProperties, items, oneOf, anyOf, minimum, maximum.

var (
	specOnce sync.Once
	spec     map[string]any
	specErr  error
)

func loadSpec(t *testing.T) map[string]any {
	t.Helper()
	specOnce.Do(func() {
		dec := json.NewDecoder(bytes.NewReader(openAPISpec))
		dec.UseNumber()
		specErr = dec.Decode(&spec)
	})
	if specErr != nil {
		t.Fatalf("openapi.json: %v", specErr)
	}
	return spec
}

// specPath turns a mux pattern's path into an OpenAPI path template.
func specPath(muxPath string) string {
	p := strings.ReplaceAll(muxPath, "...}", "}")
	p = strings.TrimSuffix(p, "{$}")
	if p == "" {
		p = "/"
	}
	return p
}

func TestOpenAPIRoutes(t *testing.T) {
	h := newHarness(t, Options{})
	sp := loadSpec(t)
	if v := sp["openapi"]; v != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", v)
	}
	var fromMux, fromSpec []string
	for _, pat := range h.srv.routes {
		method, path, _ := strings.Cut(pat, " ")
		fromMux = append(fromMux, method+" "+specPath(path))
	}
	for path, item := range sp["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
				fromSpec = append(fromSpec, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(fromMux)
	sort.Strings(fromSpec)
	for _, r := range fromMux {
		if !slices.Contains(fromSpec, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, r := range fromSpec {
		if !slices.Contains(fromMux, r) {
			t.Errorf("openapi.json has %s, which is not a route", r)
		}
	}
	// Every $ref resolves.
	var walk func(any)
	walk = func(x any) {
		switch v := x.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if resolve(sp, ref) == nil {
					t.Errorf("unresolvable $ref %s", ref)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(sp)
	// The served document is the embedded one.
	r := h.do("GET", "/openapi.json", nil).mustStatus(t, http.StatusOK)
	if !bytes.Equal(r.body, openAPISpec) {
		t.Error("GET /openapi.json does not serve openapi.json")
	}
}

func resolve(sp map[string]any, ref string) map[string]any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = sp
	for _, k := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(k)]
	}
	m, _ := cur.(map[string]any)
	return m
}

// conform checks a response (and, for a 2xx, its request body) against the
// spec operation the mux routes the request to.
func (h *harness) conform(req *http.Request, reqBody []byte, r *response) {
	t := h.t
	t.Helper()
	sp := loadSpec(t)
	_, pattern := h.srv.mux.Handler(req)
	if pattern == "" || r.status == http.StatusMethodNotAllowed {
		// Unrouted: a JSON error (or a redirect to a cleaned path).
		if r.status >= 300 && r.status < 400 {
			return
		}
		schema := "#/components/schemas/Error"
		if isOpenAIPath(req.URL.Path) {
			schema = "#/components/schemas/OpenAIError"
		}
		h.validateJSON(req, "Error response", resolve(sp, schema), r.body)
		return
	}
	if req.Method == http.MethodHead {
		return
	}
	method, path, _ := strings.Cut(pattern, " ")
	op := resolve(sp, "#/paths/"+strings.ReplaceAll(specPath(path), "/", "~1")+"/"+strings.ToLower(method))
	if op == nil {
		t.Errorf("%s %s: no operation for pattern %q in openapi.json", req.Method, req.URL.Path, pattern)
		return
	}
	responses, _ := op["responses"].(map[string]any)
	resp, _ := responses[strconv.Itoa(r.status)].(map[string]any)
	if resp == nil {
		t.Errorf("%s %s: status %d is not documented in openapi.json for %s; body: %s", req.Method, req.URL.Path, r.status, pattern, r.body)
		return
	}
	if ref, ok := resp["$ref"].(string); ok {
		resp = resolve(sp, ref)
	}
	ct, _, _ := strings.Cut(r.header.Get("Content-Type"), ";")
	content, _ := resp["content"].(map[string]any)
	media, _ := content[ct].(map[string]any)
	if media == nil {
		t.Errorf("%s %s: content type %q of a %d is not documented", req.Method, req.URL.Path, ct, r.status)
		return
	}
	if ct == "application/json" {
		h.validateJSON(req, fmt.Sprintf("%d response", r.status), media["schema"].(map[string]any), r.body)
	}
	if r.status/100 == 2 && len(reqBody) > 0 {
		rb, _ := op["requestBody"].(map[string]any)
		if rb == nil {
			t.Errorf("%s %s: a request body was accepted but the spec declares none", req.Method, req.URL.Path)
			return
		}
		schema := rb["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
		h.validateJSON(req, "request body", schema, reqBody)
	}
}

func (h *harness) validateJSON(req *http.Request, what string, schema map[string]any, body []byte) {
	h.t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		h.t.Errorf("%s %s: %s is not JSON: %v", req.Method, req.URL.Path, what, err)
		return
	}
	for _, e := range validate(loadSpec(h.t), schema, x, "$") {
		h.t.Errorf("%s %s: %s does not match openapi.json: %s", req.Method, req.URL.Path, what, e)
	}
}

// validate checks x (decoded with UseNumber) against schema and returns the
// violations.
func validate(sp, schema map[string]any, x any, at string) []string {
	if ref, ok := schema["$ref"].(string); ok {
		target := resolve(sp, ref)
		if target == nil {
			return []string{at + ": unresolvable $ref " + ref}
		}
		return validate(sp, target, x, at)
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if t, ok := schema["type"]; ok {
		var types []string
		switch tv := t.(type) {
		case string:
			types = []string{tv}
		case []any:
			for _, e := range tv {
				types = append(types, e.(string))
			}
		}
		if !slices.ContainsFunc(types, func(typ string) bool { return hasType(x, typ) }) {
			fail("%s is not of type %v", short(x), types)
			return errs
		}
	}
	if enum, ok := schema["enum"].([]any); ok {
		if !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(x) }) {
			fail("%s is not one of %v", short(x), enum)
		}
	}
	if n, ok := x.(json.Number); ok {
		f, _ := n.Float64()
		if m, ok := schema["minimum"].(json.Number); ok {
			if min, _ := m.Float64(); f < min {
				fail("%v < minimum %v", n, m)
			}
		}
		if m, ok := schema["maximum"].(json.Number); ok {
			if max, _ := m.Float64(); f > max {
				fail("%v > maximum %v", n, m)
			}
		}
	}
	if obj, ok := x.(map[string]any); ok {
		props, _ := schema["properties"].(map[string]any)
		for _, req := range asStrings(schema["required"]) {
			if _, ok := obj[req]; !ok {
				fail("required property %q is missing", req)
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, validate(sp, ps, obj[k], at+"."+k)...)
				continue
			}
			switch ap := schema["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("property %q is not in the schema", k)
				}
			case map[string]any:
				errs = append(errs, validate(sp, ap, obj[k], at+"."+k)...)
			}
		}
	}
	if list, ok := x.([]any); ok {
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range list {
				errs = append(errs, validate(sp, items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	if alts, ok := schema["oneOf"].([]any); ok {
		n := 0
		for _, a := range alts {
			if len(validate(sp, a.(map[string]any), x, at)) == 0 {
				n++
			}
		}
		if n != 1 {
			fail("matches %d of the oneOf alternatives, want exactly 1", n)
		}
	}
	if alts, ok := schema["anyOf"].([]any); ok {
		if !slices.ContainsFunc(alts, func(a any) bool { return len(validate(sp, a.(map[string]any), x, at)) == 0 }) {
			fail("matches none of the anyOf alternatives")
		}
	}
	return errs
}

func hasType(x any, typ string) bool {
	switch typ {
	case "object":
		_, ok := x.(map[string]any)
		return ok
	case "array":
		_, ok := x.([]any)
		return ok
	case "string":
		_, ok := x.(string)
		return ok
	case "boolean":
		_, ok := x.(bool)
		return ok
	case "null":
		return x == nil
	case "number":
		_, ok := x.(json.Number)
		return ok
	case "integer":
		n, ok := x.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == math.Trunc(f) && !strings.ContainsAny(n.String(), ".eE")
	}
	return false
}

func asStrings(x any) []string {
	l, _ := x.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, e.(string))
	}
	return out
}

func short(x any) string {
	b, _ := json.Marshal(x)
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// TestSchemaValidator makes sure the validator rejects what it must, so that
// the conformance checks cannot pass vacuously.
func TestSchemaValidator(t *testing.T) {
	sp := loadSpec(t)
	hit := resolve(sp, "#/components/schemas/Hit")
	tests := []struct {
		name   string
		schema map[string]any
		doc    string
		ok     bool
	}{
		{"hit ok", hit, `{"doc_id":"a","chunk_id":"a#0","score":1.5,"text":"t","title":"","section":"","start":0,"end":1}`, true},
		{"hit missing end", hit, `{"doc_id":"a","chunk_id":"a#0","score":1.5,"text":"t","title":"","section":"","start":0}`, false},
		{"hit extra property", hit, `{"doc_id":"a","chunk_id":"a#0","score":1.5,"text":"t","title":"","section":"","start":0,"end":1,"x":1}`, false},
		{"hit start not integer", hit, `{"doc_id":"a","chunk_id":"a#0","score":1.5,"text":"t","title":"","section":"","start":0.5,"end":1}`, false},
		{"hit score a string", hit, `{"doc_id":"a","chunk_id":"a#0","score":"1","text":"t","title":"","section":"","start":0,"end":1}`, false},
		{"enum", resolve(sp, "#/components/schemas/UpsertResult"), `{"id":"a","status":"exploded","version":1,"chunks":1}`, false},
		{"items", resolve(sp, "#/components/schemas/CollectionList"), `{"collections":["a",2]}`, false},
		{"maximum", resolve(sp, "#/components/schemas/SearchRequest"), `{"query":"q","k":1001}`, false},
		{"nested ref", resolve(sp, "#/components/schemas/SearchRequest"), `{"query":"q","filter":{"and":[{"field":"y","op":"gte","value":[1]}]}}`, false},
		{"filter ok", resolve(sp, "#/components/schemas/SearchRequest"), `{"query":"q","filter":{"and":[{"field":"y","op":"gte","value":2020}]}}`, true},
		{"oneOf single", map[string]any{"oneOf": []any{map[string]any{"$ref": "#/components/schemas/DocumentInput"}, map[string]any{"$ref": "#/components/schemas/DocumentBatch"}}}, `{"id":"a","text":"t"}`, true},
		{"oneOf batch", map[string]any{"oneOf": []any{map[string]any{"$ref": "#/components/schemas/DocumentInput"}, map[string]any{"$ref": "#/components/schemas/DocumentBatch"}}}, `{"documents":[{"id":"a","text":"t"}]}`, true},
		{"oneOf neither", map[string]any{"oneOf": []any{map[string]any{"$ref": "#/components/schemas/DocumentInput"}, map[string]any{"$ref": "#/components/schemas/DocumentBatch"}}}, `{"documents":[{"id":"a"}]}`, false},
		{"error shape", resolve(sp, "#/components/schemas/Error"), `{"error":{"code":"nope","message":"m"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tt.doc))
			dec.UseNumber()
			var x any
			if err := dec.Decode(&x); err != nil {
				t.Fatal(err)
			}
			errs := validate(sp, tt.schema, x, "$")
			if tt.ok && len(errs) > 0 {
				t.Errorf("rejected a valid document: %v", errs)
			}
			if !tt.ok && len(errs) == 0 {
				t.Error("accepted an invalid document")
			}
		})
	}
}

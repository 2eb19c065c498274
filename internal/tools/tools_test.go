package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// openEngine opens a real engine in a temporary directory with two tenants'
// documents in collection "docs".
func openEngine(t *testing.T) *quarry.Engine {
	t.Helper()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	ctx := context.Background()
	c, err := eng.EnsureCollection(ctx, "docs")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Upsert(ctx, []quarry.Document{
		{ID: "a1", Title: "Deletes", Text: "Deleting a document removes its chunks and postings.", Tenant: "A"},
		{ID: "a2", Title: "Upserts", Text: "An unchanged upsert is a no-op: the content hash is equal.", Tenant: "A"},
		{ID: "b1", Title: "Secret plans", Text: "Tenant B deletes its backups every Friday.", Tenant: "B"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

var (
	readA  = Scope{Tenant: "A", Role: RoleRead}
	writeA = Scope{Tenant: "A", Role: RoleWrite}
)

func newSet(t *testing.T) *Set {
	eng := openEngine(t)
	return Default(EngineCatalog{Engine: eng}, &Options{Collection: "docs",
		Now: func() time.Time { return time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC) }})
}

func TestSchemasAreGeneratedStrict(t *testing.T) {
	set := newSet(t)
	tl, _ := set.Lookup(NameSearch)
	var s struct {
		Type                 string                     `json:"type"`
		Required             []string                   `json:"required"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
		Properties           map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(tl.Schema, &s); err != nil {
		t.Fatal(err)
	}
	if s.Type != "object" || len(s.Required) != 1 || s.Required[0] != "query" {
		t.Errorf("search schema: type %q required %v, want object [query]: %s", s.Type, s.Required, tl.Schema)
	}
	if s.AdditionalProperties == nil || *s.AdditionalProperties {
		t.Errorf("search schema allows extra properties: %s", tl.Schema)
	}
	if !strings.Contains(string(s.Properties["k"]), `"maximum":50`) {
		t.Errorf("k has no maximum: %s", s.Properties["k"])
	}
	for _, tl := range set.List(writeA) {
		if !json.Valid(tl.Schema) || !strings.Contains(string(tl.Schema), `"type":"object"`) {
			t.Errorf("%s: schema %s", tl.Name, tl.Schema)
		}
	}
}

// TestInvalidCallsNeverRun: every refused call is a structured error
// naming the problem, and the tool function never runs.
func TestInvalidCallsNeverRun(t *testing.T) {
	var ran atomic.Int32
	type args struct {
		Query string `json:"query" jsonschema:"maxLength=20"`
		K     int    `json:"k,omitempty" jsonschema:"minimum=1,maximum=100"`
		Mode  string `json:"mode,omitempty" jsonschema:"enum=a,enum=b"`
	}
	probe := New("probe", "test", false, func(context.Context, Scope, args) (Result, error) {
		ran.Add(1)
		return Result{Text: "ok"}, nil
	})
	writer := New("writer", "test", true, func(context.Context, Scope, args) (Result, error) {
		ran.Add(1)
		return Result{Text: "ok"}, nil
	})
	set := NewSet(probe, writer)
	cases := []struct {
		name, tool, args string
		kind             ErrorKind
		want             string
	}{
		{"unknown tool", "serch", `{}`, KindUnknownTool, `no tool named "serch"; available: probe`},
		{"write tool for a read key", "writer", `{"query":"x"}`, KindForbidden, "may only read"},
		{"malformed json", "probe", `{"query": "x"`, KindBadJSON, "not valid JSON"},
		{"not an object", "probe", `["x"]`, KindBadJSON, "must be a JSON object"},
		{"missing parameter", "probe", `{"k": 3}`, KindInvalidArgs, "parameter query: is required"},
		{"extra parameter", "probe", `{"query":"x","limit":3}`, KindInvalidArgs, "parameter limit: is not a parameter of probe (parameters: k, mode, query)"},
		{"too large", "probe", `{"query":"x","k":500}`, KindInvalidArgs, "parameter k: must be ≤ 100"},
		{"too small", "probe", `{"query":"x","k":0}`, KindInvalidArgs, "parameter k: must be ≥ 1"},
		{"wrong type", "probe", `{"query":"x","k":"ten"}`, KindInvalidArgs, "parameter k: must be integer, got string"},
		{"fractional int", "probe", `{"query":"x","k":2.5}`, KindInvalidArgs, "parameter k: must be integer"},
		{"huge string", "probe", `{"query":"` + strings.Repeat("x", 5000) + `"}`, KindInvalidArgs, "parameter query: must be at most 20 characters (got 5000)"},
		{"enum", "probe", `{"query":"x","mode":"c"}`, KindInvalidArgs, `parameter mode: must be one of ["a","b"]`},
		{"huge arguments", "probe", `{"query":"` + strings.Repeat("x", MaxArgsBytes) + `"}`, KindInvalidArgs, "the limit is"},
		{"null", "probe", `null`, KindBadJSON, "must be a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := set.Call(context.Background(), Scope{Role: RoleRead}, c.tool, []byte(c.args))
			if err == nil {
				t.Fatal("call accepted")
			}
			if err.Kind != c.kind || !strings.Contains(err.Message, c.want) {
				t.Errorf("got %v %q, want %v containing %q", err.Kind, err.Message, c.kind, c.want)
			}
			if err.Executed() {
				t.Error("Executed() true for a refused call")
			}
		})
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("%d invalid calls reached the tool", n)
	}
	if _, err := set.Call(context.Background(), Scope{Role: RoleRead}, "probe", []byte(`{"query":"x","k":100}`)); err != nil {
		t.Fatalf("valid call refused: %v", err)
	}
	if _, err := set.Call(context.Background(), Scope{Role: RoleRead}, "probe", nil); err == nil || !strings.Contains(err.Message, "query: is required") {
		t.Fatalf("empty arguments: %v", err)
	}
	if ran.Load() != 1 {
		t.Fatalf("valid call ran %d times", ran.Load())
	}
}

func TestSearchIsScoped(t *testing.T) {
	set := newSet(t)
	ctx := context.Background()
	res, err := set.Call(ctx, readA, NameSearch, []byte(`{"query":"deletes"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sources) == 0 {
		t.Fatal("tenant A found nothing")
	}
	for _, s := range res.Sources {
		if s.DocID == "b1" {
			t.Fatalf("tenant A saw tenant B's document: %+v", s)
		}
	}
	res, err = set.Call(ctx, Scope{Tenant: "B"}, NameSearch, []byte(`{"query":"deletes"}`))
	if err != nil || len(res.Sources) != 1 || res.Sources[0].DocID != "b1" {
		t.Fatalf("tenant B: %+v %v", res.Sources, err)
	}
	if _, err := set.Call(ctx, readA, NameGetDocument, []byte(`{"id":"b1"}`)); err == nil || !strings.Contains(err.Message, `no document with id "b1"`) {
		t.Fatalf("tenant A read b1: %v", err)
	}
	res, err = set.Call(ctx, readA, NameGetDocument, []byte(`{"id":"a2"}`))
	if err != nil || !strings.Contains(res.Text, "content hash") || len(res.Sources) != 1 {
		t.Fatalf("get a2: %+v %v", res, err)
	}
	if _, err := set.Call(ctx, readA, NameSearch, []byte(`{"query":"x","collection":"nope"}`)); err == nil || !strings.Contains(err.Message, `no collection named "nope"; available: docs`) {
		t.Fatalf("unknown collection: %v", err)
	}
	res, err = set.Call(ctx, readA, NameAsk, []byte(`{"question":"what does an unchanged upsert do?"}`))
	if err != nil || len(res.Sources) == 0 || res.Sources[0].DocID != "a2" {
		t.Fatalf("ask: %+v %v", res, err)
	}
	res, err = set.Call(ctx, readA, NameListCollections, nil)
	if err != nil || res.Text != "collections: docs" {
		t.Fatalf("list_collections: %+v %v", res, err)
	}
}

func TestWriteToolsNeedWriteAndStayInTenant(t *testing.T) {
	set := newSet(t)
	ctx := context.Background()
	if names := strings.Join(set.Names(readA), ","); strings.Contains(names, NameIngestText) {
		t.Errorf("a read key sees write tools: %s", names)
	}
	if _, err := set.Call(ctx, readA, NameIngestText, []byte(`{"id":"n1","text":"hello"}`)); err == nil || err.Kind != KindForbidden {
		t.Fatalf("read key ingested: %v", err)
	}
	if _, err := set.Call(ctx, writeA, NameIngestText, []byte(`{"id":"n1","text":"notes about the zebra migration"}`)); err != nil {
		t.Fatal(err)
	}
	res, err := set.Call(ctx, Scope{Tenant: "B"}, NameSearch, []byte(`{"query":"zebra"}`))
	if err != nil || len(res.Sources) != 0 {
		t.Fatalf("tenant B sees A's new note: %+v %v", res.Sources, err)
	}
	res, err = set.Call(ctx, readA, NameSearch, []byte(`{"query":"zebra"}`))
	if err != nil || len(res.Sources) != 1 {
		t.Fatalf("tenant A cannot find its note: %+v %v", res.Sources, err)
	}
	// A cannot overwrite or delete B's document.
	if _, err := set.Call(ctx, writeA, NameIngestText, []byte(`{"id":"b1","text":"owned"}`)); err == nil || !strings.Contains(err.Message, "is taken") {
		t.Fatalf("A overwrote b1: %v", err)
	}
	if _, err := set.Call(ctx, writeA, NameDeleteDocument, []byte(`{"id":"b1"}`)); err == nil {
		t.Fatal("A deleted b1")
	}
	if _, err := set.Call(ctx, Scope{Tenant: "B"}, NameGetDocument, []byte(`{"id":"b1"}`)); err != nil {
		t.Fatalf("b1 gone: %v", err)
	}
	if _, err := set.Call(ctx, writeA, NameDeleteDocument, []byte(`{"id":"n1"}`)); err != nil {
		t.Fatal(err)
	}
}

func TestScopeContext(t *testing.T) {
	if _, ok := ScopeFrom(context.Background()); ok {
		t.Fatal("scope in an empty context")
	}
	ctx := WithScope(context.Background(), writeA)
	if sc, ok := ScopeFrom(ctx); !ok || sc.Tenant != "A" || sc.Role != RoleWrite {
		t.Fatalf("ScopeFrom = %+v %v", sc, ok)
	}
	for _, s := range []string{"read", "write", "admin"} {
		r, err := ParseRole(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseRole(%q) = %v %v", s, r, err)
		}
	}
	if _, err := ParseRole("root"); err == nil {
		t.Error("ParseRole(root) accepted")
	}
}

func TestToolFailureIsReported(t *testing.T) {
	boom := errors.New("boom")
	set := NewSet(New("f", "", false, func(context.Context, Scope, ListCollectionsArgs) (Result, error) { return Result{}, boom }))
	_, err := set.Call(context.Background(), Scope{}, "f", []byte(`{}`))
	if err == nil || err.Kind != KindToolFailed || !errors.Is(err, boom) || !err.Executed() {
		t.Fatalf("got %v", err)
	}
}

func TestCurrentTime(t *testing.T) {
	set := newSet(t)
	res, err := set.Call(context.Background(), readA, NameCurrentTime, []byte(`{"timezone":"Europe/Paris"}`))
	if err != nil || !strings.HasPrefix(res.Text, "2026-12-06T04:00:00+01:00") {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := set.Call(context.Background(), readA, NameCurrentTime, []byte(`{"timezone":"Mars/Olympus"}`)); err == nil {
		t.Fatal("unknown zone accepted")
	}
}

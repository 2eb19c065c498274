package mcpserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/tools"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openEngine(t testing.TB) *quarry.Engine {
	t.Helper()
	return openEngineAt(t, t.TempDir())
}

func openEngineAt(t testing.TB, dir string) *quarry.Engine {
	t.Helper()
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	c, err := eng.EnsureCollection(context.Background(), "docs")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Upsert(context.Background(), []quarry.Document{
		{ID: "a1", Title: "Deletes", Text: "Deleting a document removes its chunks and postings.", Tenant: "A"},
		{ID: "b1", Title: "B secret", Text: "Tenant B's zebra password is swordfish.", Tenant: "B"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// scopeFromHeader stands in for the auth middleware: it puts the scope a
// key would carry into the request's context.
func scopeFromHeader(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := tools.Scope{Tenant: r.Header.Get("X-Test-Tenant"), Role: tools.RoleRead}
		if r.Header.Get("X-Test-Role") == "write" {
			sc.Role = tools.RoleWrite
		}
		h.ServeHTTP(w, r.WithContext(tools.WithScope(r.Context(), sc)))
	})
}

type headerRT struct {
	tenant, role string
}

func (h headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Test-Tenant", h.tenant)
	r.Header.Set("X-Test-Role", h.role)
	return http.DefaultTransport.RoundTrip(r)
}

func connectHTTP(t *testing.T, url, tenant, role string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url,
		HTTPClient: &http.Client{Transport: headerRT{tenant, role}, Timeout: 30 * time.Second}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func text(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func newHTTP(t *testing.T) (*httptest.Server, *tools.Set) {
	eng := openEngine(t)
	cat := tools.EngineCatalog{Engine: eng}
	set := tools.Default(cat, &tools.Options{Collection: "docs"})
	ts := httptest.NewServer(scopeFromHeader(Handler(cat, set, nil)))
	t.Cleanup(ts.Close)
	return ts, set
}

// TestGoClientHTTP: the Go SDK's client lists the tools and calls each one
// over streamable HTTP; refused calls are MCP tool errors.
func TestGoClientHTTP(t *testing.T) {
	ts, _ := newHTTP(t)
	ctx := context.Background()
	cs := connectHTTP(t, ts.URL, "A", "write")
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range lt.Tools {
		names = append(names, tl.Name)
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "ask,calculator,current_time,delete_document,get_document,ingest_text,list_collections,search" {
		t.Fatalf("tools: %s", got)
	}
	calls := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"list_collections", map[string]any{}, "docs"},
		{"search", map[string]any{"query": "deletes chunks"}, "doc_id=a1"},
		{"get_document", map[string]any{"id": "a1"}, "removes its chunks"},
		{"ask", map[string]any{"question": "what does deleting remove?"}, "a1"},
		{"calculator", map[string]any{"expression": "6*7"}, "42"},
		{"current_time", map[string]any{}, "T"},
		{"ingest_text", map[string]any{"id": "n1", "text": "an okapi note"}, "created"},
		{"delete_document", map[string]any{"id": "n1"}, "deleted"},
	}
	for _, c := range calls {
		r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			t.Fatalf("%s: %v", c.tool, err)
		}
		if r.IsError || !strings.Contains(text(r), c.want) {
			t.Errorf("%s: error=%v %q, want %q", c.tool, r.IsError, text(r), c.want)
		}
	}
	bad := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"search", map[string]any{"query": "x", "k": 500}, "parameter k: must be ≤ 50"},
		{"search", map[string]any{"k": 3}, "parameter query: is required"},
		{"search", map[string]any{"query": "x", "limit": 1}, "parameter limit: is not a parameter"},
		{"search", map[string]any{"query": 7}, "must be string"},
		{"get_document", map[string]any{"id": "b1"}, `no document with id "b1"`},
		{"calculator", map[string]any{"expression": "1/0"}, "division by zero"},
	}
	for _, c := range bad {
		r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			t.Fatalf("%s: protocol error %v, want a tool error", c.tool, err)
		}
		if !r.IsError || !strings.Contains(text(r), c.want) {
			t.Errorf("%s %v: error=%v %q, want %q", c.tool, c.args, r.IsError, text(r), c.want)
		}
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "web_search", Arguments: map[string]any{}}); err == nil {
		t.Error("unknown tool accepted")
	}
	// Resources.
	rs, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "quarry://collections"})
	if err != nil || !strings.Contains(rs.Contents[0].Text, `"docs"`) {
		t.Fatalf("collections resource: %+v %v", rs, err)
	}
	rs, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "quarry://collections/docs/documents/a1"})
	if err != nil || !strings.Contains(rs.Contents[0].Text, "removes its chunks") {
		t.Fatalf("document resource: %+v %v", rs, err)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "quarry://collections/docs/documents/b1"}); err == nil {
		t.Error("tenant A read B's document as a resource")
	}
}

// TestTenantIsolationHTTP: a key scoped to tenant A cannot read tenant B
// through MCP, and a read key is offered no write tools.
func TestTenantIsolationHTTP(t *testing.T) {
	ts, _ := newHTTP(t)
	ctx := context.Background()
	a := connectHTTP(t, ts.URL, "A", "read")
	r, err := a.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "zebra password swordfish"}})
	if err != nil || strings.Contains(text(r), "swordfish") {
		t.Fatalf("tenant A search: %q %v", text(r), err)
	}
	lt, _ := a.ListTools(ctx, nil)
	for _, tl := range lt.Tools {
		if tl.Name == "ingest_text" || tl.Name == "delete_document" {
			t.Errorf("read key offered %s", tl.Name)
		}
	}
	if _, err := a.CallTool(ctx, &mcp.CallToolParams{Name: "delete_document", Arguments: map[string]any{"id": "a1"}}); err == nil {
		t.Error("read key called delete_document")
	}
	b := connectHTTP(t, ts.URL, "B", "read")
	r, err = b.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "zebra password swordfish"}})
	if err != nil || !strings.Contains(text(r), "swordfish") {
		t.Fatalf("tenant B search: %q %v", text(r), err)
	}
}

// TestMalformedJSONRPC: garbage, wrong versions and huge ids get 4xx or
// JSON-RPC errors, never a panic or a hang.
func TestMalformedJSONRPC(t *testing.T) {
	ts, _ := newHTTP(t)
	bodies := []string{
		`{`, `[]`, `null`, `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":"not an object"}}`,
		`{"jsonrpc":"2.0","id":{"x":1},"method":"initialize"}`,
		strings.Repeat(`{"jsonrpc":"2.0",`, 10000),
	}
	for _, b := range bodies {
		req, _ := http.NewRequest("POST", ts.URL, strings.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%.40q: %v", b, err)
		}
		var buf [4096]byte
		n, _ := resp.Body.Read(buf[:])
		resp.Body.Close()
		if resp.StatusCode == 200 && !strings.Contains(string(buf[:n]), `"error"`) && !strings.Contains(string(buf[:n]), `"isError":true`) {
			t.Errorf("%.40q: 200 without an error: %s", b, buf[:n])
		}
		if resp.StatusCode >= 500 {
			t.Errorf("%.40q: %d %s", b, resp.StatusCode, buf[:n])
		}
	}
}

// TestGoClientInMemory runs the stdio server's code path (Server.Run on a
// transport) with the SDK's in-memory transports.
func TestGoClientInMemory(t *testing.T) {
	eng := openEngine(t)
	cat := tools.EngineCatalog{Engine: eng}
	set := tools.Default(cat, &tools.Options{Collection: "docs"})
	st, ct := mcp.NewInMemoryTransports()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(cat, set, tools.Scope{Tenant: "A"}).Run(ctx, st) }()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "deletes"}})
	if err != nil || r.IsError || !strings.Contains(text(r), "a1") {
		t.Fatalf("%q %v", text(r), err)
	}
	cs.Close()
	cancel()
	<-done
}

func TestParseDocURI(t *testing.T) {
	c, id, err := parseDocURI("quarry://collections/docs/documents/a%2Fb.md")
	if err != nil || c != "docs" || id != "a/b.md" {
		t.Errorf("%q %q %v", c, id, err)
	}
	for _, u := range []string{"quarry://collections/docs", "http://x/documents/y", "quarry://collections//documents/x", "quarry://collections/d/documents/%zz"} {
		if _, _, err := parseDocURI(u); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func FuzzParseDocURI(f *testing.F) {
	f.Add("quarry://collections/docs/documents/a%2Fb.md")
	f.Add("quarry://collections/%/documents/x")
	f.Fuzz(func(t *testing.T, s string) {
		c, id, err := parseDocURI(s)
		if err == nil && (c == "" || id == "") {
			t.Fatalf("%q parsed to %q %q", s, c, id)
		}
	})
}

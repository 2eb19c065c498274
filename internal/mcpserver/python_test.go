package mcpserver

import (
	"github.com/quarry-rag/quarry/internal/testutil"

	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/tools"
)

// helperEnv makes the test binary an MCP stdio server (see init): the
// Python client launches it as its server command.
const helperEnv = "QUARRY_MCP_STDIO_HELPER_DIR"

func init() {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		return
	}
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	cat := tools.EngineCatalog{Engine: eng}
	err = ServeStdio(context.Background(), cat, tools.Default(cat, &tools.Options{Collection: "docs"}), tools.Scope{Tenant: "A"})
	eng.Close()
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
	}
	os.Exit(0)
}

// mcpPython returns the Python of a venv with the official mcp package
// (testdata/mcp-requirements.txt), created under $QUARRY_HOME/venv-mcp on
// first use. Without python3 it skips, or fails under CI=true.
func mcpPython(t *testing.T) string {
	return testutil.Venv(t, "venv-mcp", filepath.Join("testdata", "mcp-requirements.txt"))
}

type pyCall struct {
	IsError bool   `json:"is_error"`
	Text    string `json:"text"`
}

type pyReport struct {
	Tools         []string          `json:"tools"`
	SchemasStrict bool              `json:"schemas_strict"`
	Calls         map[string]pyCall `json:"calls"`
	Errors        map[string]pyCall `json:"errors"`
	UnknownTool   string            `json:"unknown_tool"`
	SecretSearch  string            `json:"secret_search"`
	Resources     []string          `json:"resources"`
	Templates     []string          `json:"templates"`
	Document      string            `json:"document"`
}

func runPy(t *testing.T, py string, args ...string) pyReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"testdata/mcp_client.py"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mcp_client.py %s: %v\n%s", args[0], err, stderr.Bytes())
	}
	var r pyReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	return r
}

func checkReport(t *testing.T, r pyReport) {
	t.Helper()
	if got := strings.Join(r.Tools, ","); got != "ask,calculator,current_time,get_document,list_collections,search" {
		t.Errorf("tools for a read scope: %s", got)
	}
	if !r.SchemasStrict {
		t.Error("a tool schema allows extra properties")
	}
	want := map[string]string{"list_collections": "docs", "search": "doc_id=a1", "get_document": "removes its chunks",
		"ask": "a1", "calculator": "42", "current_time": "T"}
	for name, w := range want {
		c := r.Calls[name]
		if c.IsError || !strings.Contains(c.Text, w) {
			t.Errorf("%s: %+v, want %q", name, c, w)
		}
	}
	wantErr := map[string]string{"k_too_large": "parameter k: must be ≤ 50", "missing": "parameter query: is required",
		"extra": "parameter limit: is not a parameter", "wrong_type": "must be string", "huge": "must be at most 256 characters"}
	for label, w := range wantErr {
		c := r.Errors[label]
		if !c.IsError || !strings.Contains(c.Text, w) {
			t.Errorf("%s: %+v, want a tool error %q", label, c, w)
		}
	}
	if !strings.HasPrefix(r.UnknownTool, "error") {
		t.Errorf("unknown tool: %s", r.UnknownTool)
	}
	if strings.Contains(r.SecretSearch, "swordfish") {
		t.Errorf("tenant A read tenant B's document: %s", r.SecretSearch)
	}
	if len(r.Resources) != 1 || r.Resources[0] != "quarry://collections" || len(r.Templates) != 1 {
		t.Errorf("resources %v templates %v", r.Resources, r.Templates)
	}
	if !strings.Contains(r.Document, "removes its chunks") {
		t.Errorf("document resource: %q", r.Document)
	}
}

// TestPythonClientStdio: the official Python mcp client launches the
// server over stdio (this test binary in helper mode), lists and calls
// every tool of a read scope, gets refused calls as tool errors, and never
// sees tenant B.
func TestPythonClientStdio(t *testing.T) {
	py := mcpPython(t)
	dir := t.TempDir()
	eng := openEngineAt(t, dir)
	eng.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(helperEnv, dir)
	// -test.run=^$: should the helper variable ever be lost, the binary
	// runs no tests instead of launching this test again.
	r := runPy(t, py, "stdio", exe, "-test.run=^$")
	checkReport(t, r)
}

// TestPythonClientHTTP: the same over streamable HTTP, with the scope of
// tenant A coming from the request (as the auth middleware will provide).
func TestPythonClientHTTP(t *testing.T) {
	py := mcpPython(t)
	eng := openEngine(t)
	cat := tools.EngineCatalog{Engine: eng}
	ts := httptest.NewServer(scopeFromHeader(Handler(cat, tools.Default(cat, &tools.Options{Collection: "docs"}), nil)))
	defer ts.Close()
	r := runPy(t, py, "http", ts.URL, "A")
	checkReport(t, r)
	// Tenant B's key sees its own document.
	rb := runPy(t, py, "http", ts.URL, "B")
	if !strings.Contains(rb.SecretSearch, "swordfish") {
		t.Errorf("tenant B cannot find its document: %s", rb.SecretSearch)
	}
	if !strings.HasPrefix(rb.Document, "error") {
		t.Errorf("tenant B read tenant A's document as a resource: %q", rb.Document)
	}
}

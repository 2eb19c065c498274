package quarry_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/quarry-rag/quarry"

// allowedImports lists, for each package of the module, the module packages
// it may import. Data flows one way: lower layers never import higher ones,
// pipeline stages import only earlier stages, and only the root package
// wires stages together. A new package must be added here.
var allowedImports = map[string][]string{
	"internal/base":               {},
	"internal/testutil":           {},
	"internal/obs":                {},
	"internal/kernels":            {},
	"internal/models/weights":     {},
	"internal/models/tokenizer":   {},
	"internal/vfs":                {},
	"internal/models/hub":         {"internal/vfs", "internal/models/weights"},
	"internal/models/transformer": {"internal/kernels", "internal/models/weights", "internal/models/tokenizer"},
	"internal/ingest":             {"internal/base"},
	"internal/text":               {"internal/base"},
	"internal/chunk":              {"internal/base", "internal/text"},
	"internal/index/bm25":         {},
	"internal/index/vector":       {"internal/kernels"},
	"internal/store":              {"internal/base", "internal/index/vector"},
	"internal/store/embedded":     {"internal/base", "internal/store", "internal/index/bm25", "internal/index/vector", "internal/text", "internal/kernels", "internal/vfs"},
	"internal/store/storetest":    {"internal/base", "internal/store"},
	"internal/store/weaviate":     {"internal/base", "internal/store", "internal/store/storetest", "internal/text", "internal/index/vector"},
	"internal/embed":              {"internal/models/hub", "internal/models/tokenizer", "internal/models/transformer", "internal/kernels"},
	"internal/retrieve":           {"internal/base"},
	"internal/llm":                {"internal/outbound"},
	"internal/query": {"internal/base", "internal/store", "internal/embed", "internal/llm", "internal/obs",
		"internal/retrieve", "internal/rewrite", "internal/answer", "internal/generate", "internal/cache"},
	"internal/rerank":           {"internal/base", "internal/models/hub", "internal/models/tokenizer", "internal/models/transformer"},
	"internal/answer":           {"internal/base", "internal/text", "internal/kernels"},
	"internal/generate":         {"internal/base", "internal/text", "internal/llm"},
	"internal/rewrite":          {"internal/base", "internal/llm"},
	"internal/cache":            {},
	"internal/auth":             {},
	"internal/outbound":         {},
	"internal/drift":            {},
	"internal/drift/driftcheck": {"internal/drift", "internal/embed"},
	"internal/pii":              {},
	"internal/pii/piiset":       {},
	"internal/pii/cmd/piiset":   {"internal/pii/piiset"},
	"internal/guard":            {"internal/embed", "internal/pii", "internal/kernels", "internal/models/transformer"},
	"internal/guardstage":       {"internal/base", "internal/embed", "internal/guard", "internal/pii", "internal/query"},
	"internal/eval":             {},
	"internal/ragbench":         {"", "internal/eval", "internal/embed", "internal/llm", "internal/text", "internal/ingest"},
	"web":                       {},
	"internal/tools":            {""},
	"internal/agent":            {"", "internal/base", "internal/llm", "internal/tools", "internal/generate"},
	"internal/mcpserver":        {"", "internal/tools"},
	"internal/server": {"", "internal/base", "internal/auth", "internal/outbound", "internal/drift", "web",
		"internal/tools", "internal/agent", "internal/mcpserver", "internal/trace", "internal/ragbench", "internal/vfs"},
	// Tracing: OpenTelemetry spans for the query pipeline's stages and
	// HTTP requests, request ids and the access log.
	"internal/trace": {"internal/query", "internal/base"},
	// The root package is the product API and its wiring: it opens stores
	// and models and hands them to the query pipeline. Retrieval, fusion,
	// rewriting, reranking, answer caching, answer writing and LLM clients
	// live in internal/query and the stages it calls (rootForbidden).
	"": {"internal/base", "internal/obs", "internal/query", "internal/llm", "internal/store", "internal/store/embedded",
		"internal/store/weaviate", "internal/index/bm25", "internal/chunk", "internal/embed", "internal/ingest", "internal/text",
		"internal/rerank", "internal/generate", "internal/vfs", "internal/outbound", "internal/trace",
		"internal/guard", "internal/guardstage", "internal/pii"},
	"cmd/quarry": {"*"},
	"bench":      {"internal/*"},
	// Times BM25 search through the product API (Collection.Search).
	"bench/bm25_peers/quarryquery": {"", "internal/*"},
	// Times ingest, search and batch search through the product API at 1
	// and 2 cores.
	"bench/cores": {"", "internal/*"},
}

// rootForbidden are the stage packages the root must reach only through
// internal/query, with what each one is: the root holds no retrieval,
// fusion, rewrite, rerank, caching or LLM-client logic of its own.
// (internal/rerank is allowed for loading a model, internal/generate for
// its prompt-style names, internal/llm for the client pool's lifetime.)
var rootForbidden = map[string]string{
	"internal/retrieve":           "fusion and MMR",
	"internal/rewrite":            "query rewriting",
	"internal/cache":              "answer caching",
	"internal/answer":             "extractive answering",
	"internal/index/vector":       "vector search",
	"internal/kernels":            "scoring kernels",
	"internal/models/hub":         "model files",
	"internal/models/transformer": "model inference",
}

// TestRootHoldsNoPipeline checks the root package's rule above: none of
// rootForbidden is imported, and no root file calls into the pipeline's
// stages by name (Rerank, Fuse, Embed on a query) outside internal/query.
func TestRootHoldsNoPipeline(t *testing.T) {
	for _, p := range goList(t) {
		if p.ImportPath != module {
			continue
		}
		for _, imp := range p.Imports {
			if what, ok := rootForbidden[rel(imp)]; ok {
				t.Errorf("the root package imports %s: %s belongs in internal/query's stages", rel(imp), what)
			}
		}
		for _, r := range allowedImports[""] {
			if _, ok := rootForbidden[r]; ok {
				t.Errorf("allowedImports lets the root use %s, which rootForbidden forbids", r)
			}
		}
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, p.Dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range pkgs {
			for _, f := range pkg.Files {
				ast.Inspect(f, func(n ast.Node) bool {
					sel, ok := n.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					switch sel.Sel.Name {
					case "Rerank", "Fuse", "MMR", "Stream", "Complete":
						t.Errorf("%s: the root calls %s: a pipeline stage, which belongs in internal/query", fset.Position(sel.Pos()), sel.Sel.Name)
					}
					return true
				})
			}
		}
	}
}

type listedPackage struct {
	ImportPath string
	Imports    []string
	Dir        string
	Name       string
}

func goList(t *testing.T) []listedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
}

func allowed(rules []string, imp string) bool {
	for _, r := range rules {
		switch {
		case r == "*", r == imp:
			return true
		case strings.HasSuffix(r, "/*") && strings.HasPrefix(imp, strings.TrimSuffix(r, "*")):
			return true
		}
	}
	return false
}

func TestImportRules(t *testing.T) {
	for _, p := range goList(t) {
		name := rel(p.ImportPath)
		// A package without its own rule (a helper command below a package)
		// takes its nearest ancestor's.
		rules, ok := allowedImports[name]
		for parent := name; !ok && parent != "." && parent != ""; {
			parent = filepath.Dir(parent)
			rules, ok = allowedImports[parent]
		}
		if !ok {
			t.Errorf("package %s is not in allowedImports: add it with the layers it may use", name)
			continue
		}
		for _, imp := range p.Imports {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			// A package may use its own sub-packages, and a helper below a
			// package may use its ancestors.
			if r := rel(imp); !allowed(rules, r) && !strings.HasPrefix(r, name+"/") && !strings.HasPrefix(name, r+"/") {
				t.Errorf("%s imports %s, which its layer may not use", name, r)
			}
		}
	}
}

// TestPackageDocs checks that every package has a package doc comment.
func TestPackageDocs(t *testing.T) {
	for _, p := range goList(t) {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, p.Dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		documented := false
		for _, pkg := range pkgs {
			for _, f := range pkg.Files {
				if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
					documented = true
				}
			}
		}
		if !documented {
			t.Errorf("package %s has no doc comment", p.ImportPath)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/models/hub"
)

// cli runs the CLI in-process against a real engine in dataDir and
// returns stdout, stderr and the exit code.
func cli(t *testing.T, dataDir string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(args, "--data-dir", dataDir), &out, &errb)
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCLIIngestSearchAskStatsDelete(t *testing.T) {
	data, src := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(src, "rocks.md"), "# Rocks\n\n## Granite\n\nGranite forms from slowly cooling magma.\n\n## Basalt\n\nBasalt forms from lava that cools quickly.\n")
	writeFile(t, filepath.Join(src, "page.html"), "<html><head><title>Rivers</title><script>var x='granite';</script></head><body><nav>menu granite</nav><main><h1>Rivers</h1><p>Rivers carve valleys.</p></main></body></html>")
	writeFile(t, filepath.Join(src, "notes.txt"), "Sediment settles at the river mouth.\n")
	writeFile(t, filepath.Join(src, "skip.log"), "not ingested")

	out, errOut, code := cli(t, data, "ingest", src, "--json")
	if code != 0 {
		t.Fatalf("ingest: %d %s", code, errOut)
	}
	var sum ingestSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Documents != 3 || sum.Created != 3 {
		t.Fatalf("ingest summary %q: %+v %v", out, sum, err)
	}
	// Idempotent: a second ingest changes nothing.
	out, _, _ = cli(t, data, "ingest", src, "--json")
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Unchanged != 3 || sum.Created != 0 {
		t.Fatalf("second ingest: %+v", sum)
	}

	out, _, code = cli(t, data, "search", "granite", "--json")
	var res struct {
		Results []struct {
			DocID   string `json:"doc_id"`
			Section string `json:"section"`
		} `json:"results"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Results) != 1 || res.Results[0].DocID != "rocks.md" || res.Results[0].Section != "Granite" {
		t.Fatalf("search (script and nav text must not be indexed): %d %s", code, out)
	}

	// --method extractive: this checks the CLI plumbing and must not depend on
	// whether make test exported an LLM (QUARRY_LLM_URL).
	out, _, code = cli(t, data, "ask", "How does basalt form?", "--json", "--method", "extractive")
	var ans struct {
		Answer    string
		Citations []struct {
			DocID string `json:"doc_id"`
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &ans) != nil || !strings.Contains(ans.Answer, "Basalt forms from lava") || len(ans.Citations) == 0 {
		t.Fatalf("ask: %d %s", code, out)
	}

	out, _, code = cli(t, data, "stats", "--json")
	var st struct{ Documents, Chunks int }
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Documents != 3 || st.Chunks < 3 {
		t.Fatalf("stats: %d %s", code, out)
	}
	if _, errOut, code = cli(t, data, "delete", "notes.txt"); code != 0 {
		t.Fatalf("delete: %s", errOut)
	}
	if _, errOut, code = cli(t, data, "delete", "notes.txt"); code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("deleting a missing document: code %d, %q", code, errOut)
	}
	if out, _, code = cli(t, data, "check"); code != 0 || !strings.Contains(out, "consistent") {
		t.Fatalf("check: %d %s", code, out)
	}
}

func TestCLIJSONLErrorsNameTheLine(t *testing.T) {
	data, src := t.TempDir(), t.TempDir()
	f := filepath.Join(src, "docs.jsonl")
	writeFile(t, f, `{"id":"a","text":"alpha"}`+"\n"+`{"id":"b","text":`+"\n"+`{"id":"c","text":"gamma"}`+"\n")
	_, errOut, code := cli(t, data, "ingest", f)
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, ":2") {
		t.Fatalf("abort: code %d, stderr %q (want one line naming line 2)", code, errOut)
	}
	out, errOut, code := cli(t, data, "ingest", f, "--on-error", "skip", "--json")
	var sum ingestSummary
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || sum.Documents != 2 || sum.Skipped != 1 || !strings.Contains(errOut, ":2") {
		t.Fatalf("skip: code %d, %q, stderr %q", code, out, errOut)
	}
}

func TestCLIErrorsAreOneLine(t *testing.T) {
	data := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"search"}, 2, "give a query"},
		{[]string{"search", "x"}, 1, "does not exist"},
		{[]string{"ingest", "/no/such/path"}, 1, "no such file"},
		{[]string{"ingest", "--on-error", "maybe", "x"}, 2, "--on-error"},
		{[]string{"search", "x", "--k", "zero"}, 2, "invalid value"},
		{[]string{"eval", "retrieval"}, 2, "--dataset is required"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		args := c.args
		if c.args[0] != "frobnicate" {
			args = append(args, "--data-dir", data)
		}
		code := run(context.Background(), args, &out, &errb)
		lines := strings.Split(strings.TrimRight(errb.String(), "\n"), "\n")
		if code != c.code || !strings.Contains(errb.String(), c.want) || (code == 1 && len(lines) != 1) {
			t.Errorf("%v: code %d (want %d), stderr %q (want %q)", c.args, code, c.code, errb.String(), c.want)
		}
	}
}

func TestCLIUnsupportedFileIsAnError(t *testing.T) {
	data, src := t.TempDir(), t.TempDir()
	f := filepath.Join(src, "image.png")
	writeFile(t, f, "\x89PNG....")
	_, errOut, code := cli(t, data, "ingest", f)
	if code != 1 || !strings.Contains(errOut, "unsupported") {
		t.Fatalf("code %d, %q", code, errOut)
	}
}

// TestCLIIngestWithEmbedding: ingest --embedding creates the collection
// with that model, so dense and hybrid search work on it; ingesting again
// without the flag reuses it; asking for another model is a one-line error
// naming the difference, and nothing is written.
func TestCLIIngestWithEmbedding(t *testing.T) {
	if _, err := hub.Resolve("all-MiniLM-L6-v2"); err != nil {
		t.Skipf("all-MiniLM-L6-v2 not cached: run `make models` (%v)", err)
	}
	data, src := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(src, "rocks.md"), "# Rocks\n\nGranite forms from slowly cooling magma.\n")
	writeFile(t, filepath.Join(src, "rivers.md"), "# Rivers\n\nRivers carve valleys over millions of years.\n")
	if _, errOut, code := cli(t, data, "ingest", "--embedding", "all-MiniLM-L6-v2", src); code != 0 {
		t.Fatalf("ingest --embedding: %d %s", code, errOut)
	}
	for _, mode := range []string{"dense", "hybrid"} {
		out, errOut, code := cli(t, data, "search", "how do valleys form", "--mode", mode, "--json")
		var res struct {
			Results []struct {
				DocID string `json:"doc_id"`
			} `json:"results"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Results) == 0 || res.Results[0].DocID != "rivers.md" {
			t.Fatalf("%s search: %d %s %s", mode, code, out, errOut)
		}
	}
	if _, errOut, code := cli(t, data, "ingest", src); code != 0 {
		t.Fatalf("ingest without --embedding into the same collection: %d %s", code, errOut)
	}
	writeFile(t, filepath.Join(src, "new.md"), "# New\n\nNot written.\n")
	_, errOut, code := cli(t, data, "ingest", "--embedding", "multilingual-e5-small", src)
	if code == 0 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "embedding differs") {
		t.Fatalf("another model: code %d, %q", code, errOut)
	}
	if out, _, _ := cli(t, data, "stats", "--json"); !strings.Contains(out, `"documents": 2`) {
		t.Errorf("a refused ingest wrote documents: %s", out)
	}
}

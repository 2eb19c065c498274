package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/models/hub"
)

func runEmbedArgs(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	_, err = execute(context.Background(), append([]string{"embed"}, args...), &out, &errb)
	return out.String(), errb.String(), err
}

func TestEmbedLocal(t *testing.T) {
	if _, err := hub.Resolve("all-MiniLM-L6-v2"); err != nil {
		t.Skipf("all-MiniLM-L6-v2 not cached: run `make models` (%v)", err)
	}
	out, _, err := runEmbedArgs(t, "--json", "vitamin D", "--query", "bone density")
	if err != nil {
		t.Fatal(err)
	}
	var vecs [][]float32
	if err := json.Unmarshal([]byte(out), &vecs); err != nil {
		t.Fatalf("--json output is not an array of arrays: %v\n%s", err, out)
	}
	if len(vecs) != 2 || len(vecs[0]) != 384 {
		t.Fatalf("%d vectors of %d", len(vecs), len(vecs[0]))
	}
	for _, v := range vecs {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		if math.Abs(s-1) > 1e-4 {
			t.Errorf("norm² %v", s)
		}
	}

	long := strings.Repeat("protein folding ", 400)
	out, errOut, err := runEmbedArgs(t, "hello world", long)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "local:all-MiniLM-L6-v2: 384 dimensions, 2 texts as passages") ||
		!strings.Contains(lines[1], "norm 1.0000") || !strings.Contains(lines[1], `"hello world"`) ||
		strings.Count(lines[1], " ") < 9 {
		t.Errorf("output:\n%s", out)
	}
	if !strings.Contains(errOut, "1 of 2 texts are longer than 256 tokens") {
		t.Errorf("no truncation note on stderr: %q", errOut)
	}

	// Texts from stdin, one per line.
	path := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(path, []byte("first line\r\nsecond line\n"), 0o644)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := embedStdin
	embedStdin = f
	defer func() { embedStdin = old }()
	out, _, err = runEmbedArgs(t, "--json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &vecs); err != nil || len(vecs) != 2 {
		t.Errorf("stdin: %v, %d vectors", err, len(vecs))
	}
}

func TestEmbedHTTPAndErrors(t *testing.T) {
	var gotKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey = r.Header.Get("Authorization")
		var req struct {
			Inputs []string `json:"inputs"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		out := make([][]float32, len(req.Inputs))
		for i, s := range req.Inputs {
			out[i] = []float32{float32(len(s)), 0.1, 1e-7}
		}
		json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()
	t.Setenv("TEST_EMBED_KEY", "sk-cli")
	out, _, err := runEmbedArgs(t, "--model", "tei:"+srv.URL+"?query_prefix=q:%20", "--api-key-env", "TEST_EMBED_KEY", "--query", "--json", "abc")
	if err != nil {
		t.Fatal(err)
	}
	if want := "[\n  [6,0.1,1e-7]\n]\n"; out != want {
		t.Errorf("output %q, want %q (shortest float32 forms)", out, want)
	}
	if gotKey != "Bearer sk-cli" {
		t.Errorf("Authorization %q", gotKey)
	}

	var ue usageError
	if _, _, err := runEmbedArgs(t, "--model", "http://127.0.0.1:1", "x"); !errors.As(err, &ue) {
		t.Errorf("spec without protocol: %v, want a usage error", err)
	}
	if _, _, err := runEmbedArgs(t, "--model", "no-such-model-xyz", "x"); err == nil || !strings.Contains(err.Error(), "quarry models pull no-such-model-xyz") {
		t.Errorf("missing model: %v", err)
	}
}

package rewrite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/testutil"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		" 2. why do tides happen": "why do tides happen",
		"- \"moon gravity\"":      "moon gravity",
		"plain\nsecond line":      "plain",
		"   ":                     "",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidation(t *testing.T) {
	r := &Rewriter{Chat: llm.NewOpenAI("http://127.0.0.1:1", nil), Model: "m"}
	if _, err := r.Expand(context.Background(), "q", 0); err == nil {
		t.Fatal("n=0 accepted")
	}
	// No history: no model call (the unreachable server would fail).
	if q, err := r.Condense(context.Background(), nil, "q"); err != nil || q != "q" {
		t.Fatalf("%q %v", q, err)
	}
}

// realRewriter returns a Rewriter on the real local model, skipping (or
// failing under CI=true) without one.
func realRewriter(t *testing.T) *Rewriter {
	url, model := testutil.LLM(t)
	zero := 0.0
	return &Rewriter{Chat: llm.NewOllama(url, &llm.Options{Timeout: 10 * time.Minute}), Model: model, Params: llm.Params{Temperature: &zero}}
}

func TestRealRewrites(t *testing.T) {
	r := realRewriter(t)
	ctx := context.Background()
	qs, err := r.Expand(ctx, "how do vaccines train the immune system", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("expansions %q", qs)
	if len(qs) == 0 || len(qs) > 2 {
		t.Fatalf("expansions %q", qs)
	}
	for _, q := range qs {
		if q == "" || strings.Contains(q, "\n") || strings.EqualFold(q, "how do vaccines train the immune system") {
			t.Fatalf("bad expansion %q", q)
		}
	}
	q, err := r.Condense(ctx, []llm.Message{{Role: "user", Content: "Who painted the Mona Lisa?"}, {Role: "assistant", Content: "Leonardo da Vinci."}}, "When was he born?")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("condensed %q", q)
	if q == "" || strings.Contains(q, "\n") {
		t.Fatalf("condensed %q", q)
	}
}

package agent

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/testutil"
	"github.com/quarry-rag/quarry/internal/tools"
)

// realModel returns the local model (`eval "$(bash scripts/llm.sh)"`):
// QUARRY_LLM_URL/QUARRY_LLM_MODEL, else Ollama on 127.0.0.1:11435 if it is
// up. Without one it skips, or fails under CI=true.
func realModel(t *testing.T) Model {
	url, name := testutil.LLM(t)
	temp := 0.0
	return ModelFor(name, llm.NewOpenAI(url, &llm.Options{Timeout: 5 * time.Minute}), llm.Params{Temperature: &temp, MaxTokens: 200})
}

// checkWellFormed asserts what every run must satisfy, whatever the
// model's quality: a documented end state, a trace that adds up, budgets
// kept, and citations that name sources the tools returned, quoting them
// exactly.
func checkWellFormed(t *testing.T, res *Result, b Budget) {
	t.Helper()
	switch res.State {
	case StateAnswered, StateBudgetExhausted, StateFailed:
	default:
		t.Fatalf("state %v", res.State)
	}
	if res.State != StateAnswered && res.Reason == "" {
		t.Error("a run that did not answer gives no reason")
	}
	if res.Steps != len(res.Trace) || res.ToolCalls > b.ToolCalls {
		t.Errorf("steps %d, trace %d, tool calls %d (budget %d)", res.Steps, len(res.Trace), res.ToolCalls, b.ToolCalls)
	}
	executed := 0
	for _, s := range res.Trace {
		for _, c := range s.Calls {
			if c.Executed {
				executed++
			}
		}
	}
	if executed != res.ToolCalls {
		t.Errorf("trace shows %d executed calls, result says %d", executed, res.ToolCalls)
	}
	for _, c := range res.Citations {
		if c.Marker < 1 || c.Marker > len(res.Sources) {
			t.Fatalf("citation [%d] names no source", c.Marker)
		}
		if s := res.Sources[c.Marker-1]; s.DocID != c.DocID || s.Text != c.Text {
			t.Errorf("citation [%d] does not quote its source", c.Marker)
		}
	}
}

func realAgent(t *testing.T) (*Agent, Budget) {
	m := realModel(t)
	eng := samplesEngine(t)
	set := tools.Default(tools.EngineCatalog{Engine: eng}, &tools.Options{Collection: "samples"})
	b := Budget{Steps: 6, ToolCalls: 6, Wall: 8 * time.Minute}
	return New(Config{Model: m, Tools: set, Budget: b}), b.withDefaults()
}

// TestRealReAct: a ReAct run on the local Gemma 3 270M (Ollama refuses
// native tools for it, so the agent falls back to ReAct) is well-formed.
func TestRealReAct(t *testing.T) {
	a, b := realAgent(t)
	res, err := a.Run(context.Background(), tools.Scope{}, Input{Task: "What does an upsert with unchanged content do?"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkWellFormed(t, res, b)
	t.Logf("react on the local model: %s %q; %d steps, %d tool calls, %d refused, %d citations, model %.0f ms of %.0f ms; answer %q",
		res.State, res.Reason, res.Steps, res.ToolCalls, res.InvalidCalls, len(res.Citations), res.ModelMS, res.TookMS, clipRunes(res.Answer, 200))
	if res.Trace[0].Protocol != "react" && res.Trace[0].Protocol != "native" {
		t.Errorf("protocol %q", res.Trace[0].Protocol)
	}
}

// TestRealResearch: the research pipeline on the local model, planner
// included, is well-formed, and its citations verify.
func TestRealResearch(t *testing.T) {
	a, b := realAgent(t)
	c := loadMultihop(t)[1]
	res, err := a.Research(context.Background(), tools.Scope{}, Input{Task: c.Question}, &ResearchConfig{MaxRevisions: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Steps = res.Steps
	checkWellFormed(t, res, b)
	got := map[string]bool{}
	for _, s := range res.Sources {
		got[s.DocID] = true
	}
	t.Logf("research on the local model: %s %q; %d steps, sources %d (both needed documents: %v), %d citations, model %.0f ms; answer %q",
		res.State, res.Reason, res.Steps, len(res.Sources), got[c.Docs[0]] && got[c.Docs[1]], len(res.Citations), res.ModelMS, clipRunes(res.Answer, 200))
}

// TestRealMultiHop reports how often the local model's own plan retrieves
// both documents (QUARRY_AGENT_MULTIHOP=1: it makes ~30 model calls).
func TestRealMultiHop(t *testing.T) {
	if os.Getenv("QUARRY_AGENT_MULTIHOP") == "" {
		t.Skip("set QUARRY_AGENT_MULTIHOP=1 to run the multi-hop set on the local model")
	}
	a, _ := realAgent(t)
	cases := loadMultihop(t)
	hit := 0
	for _, c := range cases {
		res, err := a.Research(context.Background(), tools.Scope{}, Input{Task: c.Question}, &ResearchConfig{MaxRevisions: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, s := range res.Sources {
			got[s.DocID] = true
		}
		if got[c.Docs[0]] && got[c.Docs[1]] {
			hit++
		}
		t.Logf("%q: plan %q, both=%v, state %s", c.Question, res.Trace[0].Thought, got[c.Docs[0]] && got[c.Docs[1]], res.State)
	}
	t.Logf("multi-hop, local model as planner: both documents for %d/%d questions", hit, len(cases))
}

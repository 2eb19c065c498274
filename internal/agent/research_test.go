package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/tools"
)

var evidenceLine = regexp.MustCompile(`(?m)^\[(\d+)\] `)

// roleOf tells the pipeline's roles apart by their system prompts.
func roleOf(req fakeRequest) string {
	sys := req.Messages[0].Content
	switch {
	case strings.HasPrefix(sys, "You plan research"):
		return "planner"
	case strings.HasPrefix(sys, "You write answers"):
		return "writer"
	case strings.HasPrefix(sys, "You review"):
		return "reviewer"
	}
	return "other"
}

// scriptedPipeline answers as each role would: a fixed plan, a writer that
// cites every evidence number it was given, and reviewer verdicts in turn.
func scriptedPipeline(plan []string, verdicts ...string) func(fakeRequest) fakeReply {
	reviews := 0
	return func(req fakeRequest) fakeReply {
		switch roleOf(req) {
		case "planner":
			return fakeReply{Content: strings.Join(plan, "\n")}
		case "writer":
			var b strings.Builder
			for _, m := range evidenceLine.FindAllStringSubmatch(req.Messages[0].Content, -1) {
				fmt.Fprintf(&b, "Evidence %s says something [%s]. ", m[1], m[1])
			}
			return fakeReply{Content: strings.TrimSpace(b.String())}
		case "reviewer":
			v := "APPROVED"
			if reviews < len(verdicts) {
				v = verdicts[reviews]
			}
			reviews++
			return fakeReply{Content: v}
		}
		return fakeReply{Content: "?"}
	}
}

func TestResearchScripted(t *testing.T) {
	f := newFakeModel(t, nil)
	f.byReq = scriptedPipeline([]string{"1. deletes chunks postings", "2. unchanged upsert content hash", "2. unchanged upsert content hash"}, "REVISE: shorten it")
	a, cat := testAgent(t, f, ProtocolAuto, Budget{})
	var evs []Event
	res, err := a.Research(context.Background(), scopeA, Input{Task: "How are deletes and unchanged upserts handled?"}, nil, collect(&evs))
	if err != nil {
		t.Fatal(err)
	}
	if res.State != StateAnswered || len(res.Citations) == 0 {
		t.Fatalf("%v %q %+v", res.State, res.Reason, res)
	}
	roles := map[string]int{}
	for _, s := range res.Trace {
		roles[s.Role]++
	}
	if roles["planner"] != 1 || roles["researcher"] != 2 || roles["writer"] != 2 || roles["reviewer"] != 2 {
		t.Errorf("roles in the trace: %v (duplicate sub-question kept?)", roles)
	}
	if cat.n.Load() != 2 {
		t.Errorf("%d searches reached the engine, want 2", cat.n.Load())
	}
	docs := map[string]bool{}
	for _, c := range res.Citations {
		docs[c.DocID] = true
	}
	if !docs["deletes"] || !docs["upserts"] {
		t.Errorf("citations miss a document: %+v", res.Citations)
	}
	var tokens int
	for _, e := range evs {
		if e.Kind == EventToken {
			tokens++
		}
	}
	if tokens == 0 {
		t.Error("the writer streamed no tokens")
	}
}

// TestResearchReviewerBound: a reviewer that never approves gets at most
// MaxRevisions redrafts; a writer citing evidence that does not exist is
// sent back without asking the model.
func TestResearchReviewerBound(t *testing.T) {
	f := newFakeModel(t, nil)
	f.byReq = scriptedPipeline([]string{"deletes"}, "REVISE: a", "REVISE: b", "REVISE: c", "REVISE: d")
	a, _ := testAgent(t, f, ProtocolAuto, Budget{})
	res, _ := a.Research(context.Background(), scopeA, Input{Task: "deletes?"}, &ResearchConfig{MaxRevisions: 2}, nil)
	writers := 0
	for _, s := range res.Trace {
		if s.Role == "writer" {
			writers++
		}
	}
	if res.State != StateAnswered || writers != 3 {
		t.Errorf("state %v, %d drafts, want answered after 3 drafts", res.State, writers)
	}

	bad := 0
	f = newFakeModel(t, nil)
	f.byReq = func(req fakeRequest) fakeReply {
		switch roleOf(req) {
		case "planner":
			return fakeReply{Content: "deletes"}
		case "writer":
			if bad++; bad == 1 {
				return fakeReply{Content: "It is gone [42]."}
			}
			return fakeReply{Content: "It is gone [1]."}
		}
		return fakeReply{Content: "APPROVED"}
	}
	a, _ = testAgent(t, f, ProtocolAuto, Budget{})
	res, _ = a.Research(context.Background(), scopeA, Input{Task: "deletes?"}, nil, nil)
	if res.State != StateAnswered || res.Answer != "It is gone [1]." || bad != 2 {
		t.Fatalf("%v %q after %d drafts", res.State, res.Answer, bad)
	}
	if s := res.Trace[3]; s.Role != "reviewer" || s.Protocol != "check" || !strings.Contains(s.Thought, "[42]") {
		t.Errorf("mechanical review step: %+v", s)
	}
}

type multihopCase struct {
	Question string   `json:"question"`
	Plan     []string `json:"plan"`
	Docs     []string `json:"docs"`
}

func loadMultihop(t testing.TB) []multihopCase {
	b, err := os.ReadFile("testdata/multihop.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []multihopCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// samplesEngine ingests the sample corpus (BM25) into collection "samples".
func samplesEngine(t testing.TB) *quarry.Engine {
	t.Helper()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	ctx := context.Background()
	c, err := eng.EnsureCollection(ctx, "samples")
	if err != nil {
		t.Fatal(err)
	}
	root := "../../samples"
	paths, _ := filepath.Glob(filepath.Join(root, "*"))
	var docs []quarry.Document
	for _, p := range paths {
		if !ingest.Supported(p) {
			continue
		}
		ds, err := ingest.LoadFile(ctx, p, &ingest.Options{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, ds...)
	}
	if _, err := c.Upsert(ctx, docs, nil); err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestMultiHopScriptedPlanner: with a scripted planner, the research
// pipeline retrieves both documents a question needs for ≥ 90 % of the
// questions in testdata/multihop.json.
func TestMultiHopScriptedPlanner(t *testing.T) {
	eng := samplesEngine(t)
	set := tools.Default(tools.EngineCatalog{Engine: eng}, &tools.Options{Collection: "samples"})
	cases := loadMultihop(t)
	hit := 0
	for _, c := range cases {
		f := newFakeModel(t, nil)
		f.byReq = scriptedPipeline(c.Plan)
		a := New(Config{Model: ModelFor("fake", llm.NewOpenAI(f.srv.URL, nil), llm.Params{}), Tools: set})
		res, err := a.Research(context.Background(), tools.Scope{}, Input{Task: c.Question}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, s := range res.Sources {
			got[s.DocID] = true
		}
		if got[c.Docs[0]] && got[c.Docs[1]] {
			hit++
		} else {
			t.Logf("missed %v for %q (got %v)", c.Docs, c.Question, keys(got))
		}
		if res.State != StateAnswered {
			t.Errorf("%q: %v %q", c.Question, res.State, res.Reason)
		}
	}
	rate := float64(hit) / float64(len(cases))
	t.Logf("multi-hop, scripted planner: both documents retrieved for %d/%d questions (%.0f%%)", hit, len(cases), 100*rate)
	if rate < 0.9 {
		t.Errorf("both documents for %.0f%% of questions, want ≥ 90%%", 100*rate)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

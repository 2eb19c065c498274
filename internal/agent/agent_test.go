package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/testutil"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// react renders a ReAct action reply.
func react(thought, tool, args string) fakeReply {
	return fakeReply{Content: "Thought: " + thought + "\nAction: " + tool + "\nAction Input: " + args}
}

func final(s string) fakeReply {
	return fakeReply{Content: "Thought: I can answer now\nFinal Answer: " + s}
}

func call(tool, args string) fakeReply {
	return fakeReply{Calls: []fakeCall{{tool, args}}}
}

// scenario is one scripted run, written once per protocol.
type scenario struct {
	name     string
	native   []fakeReply
	react    []fakeReply
	budget   Budget
	state    State
	reason   string
	executed int32 // tool calls that must reach the engine
	invalid  int
	check    func(t *testing.T, res *Result, f *fakeModel)
}

func scenarios() []scenario {
	return []scenario{
		{name: "multi-step answer",
			native: []fakeReply{call("search", `{"query":"deletes chunks"}`), call("get_document", `{"id":"upserts"}`),
				{Content: "Deleting removes chunks [1]; an unchanged upsert is a no-op [2] [9]."}},
			react: []fakeReply{react("search first", "search", `{"query":"deletes chunks"}`), react("read it", "get_document", `{"id":"upserts"}`),
				final("Deleting removes chunks [1]; an unchanged upsert is a no-op [2] [9].")},
			state: StateAnswered, executed: 2,
			check: func(t *testing.T, res *Result, f *fakeModel) {
				if len(res.Citations) != 2 || res.Citations[0].DocID != "deletes" {
					t.Errorf("citations %+v", res.Citations)
				}
				var up bool
				for _, c := range res.Citations {
					up = up || c.DocID == "upserts"
				}
				if !up {
					t.Errorf("the get_document source is not cited: %+v (sources %+v)", res.Citations, res.Sources)
				}
				if len(res.InvalidCitations) != 1 || res.InvalidCitations[0] != 9 || strings.Contains(res.Answer, "[9]") {
					t.Errorf("invalid marker kept: %q %v", res.Answer, res.InvalidCitations)
				}
			}},
		{name: "hallucinated tool",
			native: []fakeReply{call("web_search", `{"query":"x"}`), {Content: "I could not search the web."}},
			react:  []fakeReply{react("web", "web_search", `{"query":"x"}`), final("I could not search the web.")},
			state:  StateAnswered, invalid: 1,
			check: func(t *testing.T, res *Result, f *fakeModel) {
				c := res.Trace[0].Calls[0]
				if c.Executed || c.ErrorKind != "unknown_tool" || !strings.Contains(c.Error, `no tool named "web_search"; available: ask, calculator, current_time, get_document, list_collections, search`) {
					t.Errorf("call %+v", c)
				}
				if !strings.Contains(lastToolMessage(f), "no tool named") {
					t.Errorf("the model was not told: %q", lastToolMessage(f))
				}
			}},
		{name: "hallucinated and missing parameters",
			native: []fakeReply{call("search", `{"query":"x","limit":3}`), call("search", `{"k":3}`), call("search", `{"query":"x","k":500}`), {Content: "done"}},
			react:  []fakeReply{react("a", "search", `{"query":"x","limit":3}`), react("b", "search", `{"k":3}`), react("c", "search", `{"query":"x","k":500}`), final("done")},
			state:  StateAnswered, invalid: 3,
			check: func(t *testing.T, res *Result, f *fakeModel) {
				want := []string{"parameter limit: is not a parameter of search", "parameter query: is required", "parameter k: must be ≤ 50"}
				for i, w := range want {
					if c := res.Trace[i].Calls[0]; c.Executed || !strings.Contains(c.Error, w) {
						t.Errorf("call %d: %+v, want %q", i, c, w)
					}
				}
			}},
		{name: "invalid JSON",
			native: []fakeReply{call("search", `{"query": "x"`), {Content: "done"}},
			react:  []fakeReply{{Content: "Thought: t\nAction: search\nAction Input: {\"query\": \"x\""}, final("done")},
			state:  StateAnswered, invalid: 1,
			check: func(t *testing.T, res *Result, f *fakeModel) {
				if c := res.Trace[0].Calls[0]; c.Executed || !strings.Contains(c.Error, "not valid JSON") {
					t.Errorf("call %+v", c)
				}
			}},
		{name: "loop",
			native: []fakeReply{call("search", `{"query":"zebra"}`), call("search", `{ "query" : "zebra" }`), call("search", `{"query":"zebra"}`), {Content: "never"}},
			react:  []fakeReply{react("a", "search", `{"query":"zebra"}`), react("a", "search", `{ "query" : "zebra" }`), react("a", "search", `{"query":"zebra"}`), final("never")},
			budget: Budget{InvalidCalls: 10},
			state:  StateFailed, reason: "loop: search called with the same arguments 3 times", executed: 1, invalid: 2},
		{name: "too many invalid calls",
			native: []fakeReply{call("a", `{}`), call("b", `{}`), call("c", `{}`), call("d", `{}`), {Content: "never"}},
			react:  []fakeReply{react("", "a", `{}`), react("", "b", `{}`), react("", "c", `{}`), react("", "d", `{}`), final("never")},
			state:  StateFailed, reason: "more than 3 invalid", invalid: 4},
		{name: "step budget",
			native: endless(false), react: endless(true), budget: Budget{Steps: 4, ToolCalls: 100},
			state: StateBudgetExhausted, reason: "step budget of 4 used", executed: 4},
		{name: "tool-call budget",
			native: endless(false), react: endless(true), budget: Budget{Steps: 50, ToolCalls: 3},
			state: StateBudgetExhausted, reason: "tool-call budget of 3 used", executed: 3},
		{name: "token budget",
			native: endless(false), react: endless(true), budget: Budget{Steps: 50, ToolCalls: 100, Tokens: 250},
			state: StateBudgetExhausted, reason: "token budget of 250 used", executed: 3},
		{name: "model returns nothing",
			native: []fakeReply{{}}, react: []fakeReply{{Content: "   "}, {Content: "hmm"}, {Content: "hmm"}, {Content: "hmm"}},
			state: StateFailed},
	}
}

// endless is a model that never stops calling tools (each call different).
func endless(text bool) []fakeReply {
	var rs []fakeReply
	for i := 0; i < 60; i++ {
		args := `{"expression":"1+` + strings.Repeat("1+", i) + `1"}`
		if text {
			rs = append(rs, react("more", "search", `{"query":"q`+strings.Repeat("x", i)+`"}`))
		} else {
			rs = append(rs, call("search", `{"query":"q`+strings.Repeat("x", i)+`"}`))
		}
		_ = args
	}
	return rs
}

func lastToolMessage(f *fakeModel) string {
	reqs := f.requests()
	if len(reqs) == 0 {
		return ""
	}
	ms := reqs[len(reqs)-1].Messages
	return ms[len(ms)-1].Content
}

// TestScripted runs every scenario with native tool calling and with the
// ReAct text protocol: each ends in its documented state, and no refused
// call reaches the engine.
func TestScripted(t *testing.T) {
	for _, proto := range []Protocol{ProtocolNative, ProtocolReAct} {
		for _, sc := range scenarios() {
			t.Run(proto.String()+"/"+sc.name, func(t *testing.T) {
				rs := sc.native
				if proto == ProtocolReAct {
					rs = sc.react
				}
				f := newFakeModel(t, script(rs...))
				a, cat := testAgent(t, f, proto, sc.budget)
				var evs []Event
				res, err := a.Run(context.Background(), scopeA, Input{Task: "how are deletes handled?"}, collect(&evs))
				if err != nil {
					t.Fatal(err)
				}
				if res.State != sc.state || !strings.Contains(res.Reason, sc.reason) {
					t.Fatalf("state %v %q, want %v %q\ntrace %+v", res.State, res.Reason, sc.state, sc.reason, res.Trace)
				}
				if got := cat.n.Load(); got != sc.executed {
					t.Errorf("%d tool calls reached the engine, want %d", got, sc.executed)
				}
				if int32(res.ToolCalls) != cat.n.Load() {
					t.Errorf("result counts %d executed calls, the engine saw %d", res.ToolCalls, cat.n.Load())
				}
				if sc.state != StateFailed || sc.name != "model returns nothing" {
					if res.InvalidCalls != sc.invalid {
						t.Errorf("invalid calls %d, want %d", res.InvalidCalls, sc.invalid)
					}
				}
				if len(res.Trace) == 0 || res.Steps != len(res.Trace) {
					t.Errorf("trace has %d steps, result says %d", len(res.Trace), res.Steps)
				}
				if last := evs[len(evs)-1]; last.Kind != EventFinal || last.Result == nil || last.Result.State != res.State {
					t.Errorf("last event %+v", last)
				}
				if sc.check != nil {
					sc.check(t, res, f)
				}
			})
		}
	}
}

// TestWallBudget: a slow model runs into the wall-time budget.
func TestWallBudget(t *testing.T) {
	for _, proto := range []Protocol{ProtocolNative, ProtocolReAct} {
		f := newFakeModel(t, script(call("search", `{"query":"x"}`)))
		f.delay = 2 * time.Second
		a, _ := testAgent(t, f, proto, Budget{Wall: 150 * time.Millisecond})
		start := time.Now()
		res, _ := a.Run(context.Background(), scopeA, Input{Task: "t"}, nil)
		if res.State != StateBudgetExhausted || !strings.Contains(res.Reason, "wall-time budget") {
			t.Errorf("%v: %v %q", proto, res.State, res.Reason)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%v: the run took %v past a 150ms budget", proto, d)
		}
	}
}

// TestFallbackToReAct: a server that refuses tools (as Ollama does for
// Gemma 3) gets the ReAct protocol instead.
func TestFallbackToReAct(t *testing.T) {
	f := newFakeModel(t, script(react("look", "search", `{"query":"upsert"}`), final("It is a no-op [1].")))
	f.noTools = true
	a, _ := testAgent(t, f, ProtocolAuto, Budget{})
	res, _ := a.Run(context.Background(), scopeA, Input{Task: "unchanged upsert?"}, nil)
	if res.State != StateAnswered || len(res.Citations) != 1 || res.Trace[0].Protocol != "react" {
		t.Fatalf("%+v", res)
	}
	if !a.noNative.Load() {
		t.Error("the refusal was not remembered")
	}
}

// TestInjectionIsFenced: a document that tries to close the observation and
// issue instructions reaches the model neutralised inside the fence.
func TestInjectionIsFenced(t *testing.T) {
	for _, proto := range []Protocol{ProtocolNative, ProtocolReAct} {
		f := newFakeModel(t, script(call("get_document", `{"id":"evil"}`), fakeReply{Content: "Zebra facts [1]."}))
		if proto == ProtocolReAct {
			f = newFakeModel(t, script(react("read", "get_document", `{"id":"evil"}`), final("Zebra facts [1].")))
		}
		a, _ := testAgent(t, f, proto, Budget{})
		res, _ := a.Run(context.Background(), scopeA, Input{Task: "zebra?"}, nil)
		if res.State != StateAnswered {
			t.Fatalf("%v: %+v", proto, res)
		}
		obs := lastToolMessage(f)
		if strings.Count(obs, "</observation>") != 1 || !strings.HasSuffix(strings.TrimSpace(obs), "</observation>") {
			t.Errorf("%v: the document closed the fence: %q", proto, obs)
		}
		if strings.Contains(obs, "\nFinal Answer:") || strings.Contains(obs, "\nAction:") {
			t.Errorf("%v: protocol keys pass through: %q", proto, obs)
		}
		if !strings.Contains(obs, "Ignore all previous instructions") {
			t.Errorf("%v: the data itself was lost: %q", proto, obs)
		}
	}
}

// TestScopeReachesTools: tenant A's agent never sees tenant B's document.
func TestScopeReachesTools(t *testing.T) {
	f := newFakeModel(t, script(call("search", `{"query":"zebra password swordfish"}`), call("get_document", `{"id":"tenantb"}`), fakeReply{Content: "nothing"}))
	a, _ := testAgent(t, f, ProtocolNative, Budget{})
	res, _ := a.Run(context.Background(), scopeA, Input{Task: "password?"}, nil)
	for _, s := range res.Sources {
		if s.DocID == "tenantb" {
			t.Fatalf("tenant A's run saw tenant B's document")
		}
	}
	if c := res.Trace[1].Calls[0]; !strings.Contains(c.Error, `no document with id "tenantb"`) {
		t.Errorf("get_document of B's doc: %+v", c)
	}
	// Write tools are not offered to a read key, and refused if called.
	f = newFakeModel(t, script(call("delete_document", `{"id":"deletes"}`), fakeReply{Content: "ok"}))
	a, cat := testAgent(t, f, ProtocolNative, Budget{})
	res, _ = a.Run(context.Background(), scopeA, Input{Task: "delete"}, nil)
	if c := res.Trace[0].Calls[0]; c.Executed || c.ErrorKind != "forbidden" || cat.n.Load() != 0 {
		t.Errorf("delete by a read key: %+v", c)
	}
	if tl := f.requests()[0].Tools; len(tl) != 6 {
		t.Errorf("a read key was offered %d tools, want 6", len(tl))
	}
}

// TestClientGone: an emit that fails (the SSE client disconnected) and a
// cancelled context both end the run as failed, without a panic.
func TestClientGone(t *testing.T) {
	f := newFakeModel(t, func(i int) fakeReply { return call("search", `{"query":"q`+strings.Repeat("x", i)+`"}`) })
	a, _ := testAgent(t, f, ProtocolNative, Budget{Steps: 50, ToolCalls: 100})
	n := 0
	res, _ := a.Run(context.Background(), scopeA, Input{Task: "t"}, func(e Event) error {
		if n++; n > 4 && e.Kind != EventFinal {
			return errors.New("write: broken pipe")
		}
		return nil
	})
	if res.State != StateFailed || !strings.Contains(res.Reason, "client gone") {
		t.Errorf("%v %q", res.State, res.Reason)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.delay = 5 * time.Second
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	res, _ = a.Run(ctx, scopeA, Input{Task: "t"}, nil)
	if res.State != StateFailed || !strings.Contains(res.Reason, "cancelled") {
		t.Errorf("%v %q", res.State, res.Reason)
	}
}

func TestBadInput(t *testing.T) {
	f := newFakeModel(t, script())
	a, _ := testAgent(t, f, ProtocolNative, Budget{})
	for _, task := range []string{"", "   ", strings.Repeat("x", MaxTaskBytes+1)} {
		if _, err := a.Run(context.Background(), scopeA, Input{Task: task}, nil); err == nil {
			t.Errorf("task of %d bytes accepted", len(task))
		}
	}
	if err := (Budget{Steps: 1000}).Validate(); err == nil || !strings.Contains(err.Error(), "budget.steps: must be ≤ 64") {
		t.Errorf("Validate: %v", err)
	}
	if len(f.requests()) != 0 {
		t.Error("a bad input reached the model")
	}
}

// TestScreenWithholdsInjection: with the engine's guard as the screen (the
// real multilingual-e5 detector), a fetched document that carries an
// instruction is withheld — the model reads a notice instead, the document
// gets no source number and cannot be cited — while a benign document
// passes; the run counts what it withheld.
func TestScreenWithholdsInjection(t *testing.T) {
	testutil.RequireModel(t, "multilingual-e5-small")
	for _, proto := range []Protocol{ProtocolNative, ProtocolReAct} {
		f := newFakeModel(t, script(call("get_document", `{"id":"evil"}`), call("get_document", `{"id":"deletes"}`),
			fakeReply{Content: "Deleting removes chunks [1]. Zebra [2]."}))
		if proto == ProtocolReAct {
			f = newFakeModel(t, script(react("read", "get_document", `{"id":"evil"}`), react("read", "get_document", `{"id":"deletes"}`),
				final("Deleting removes chunks [1]. Zebra [2].")))
		}
		a, cat := testAgent(t, f, proto, Budget{})
		a.cfg.Screen = cat.Engine.ScreenInjection
		res, err := a.Run(context.Background(), scopeA, Input{Task: "how do deletes work?"}, nil)
		if err != nil || res.State != StateAnswered {
			t.Fatalf("%v: %+v, %v", proto, res, err)
		}
		var first, second string
		for _, s := range res.Trace {
			for _, c := range s.Calls {
				if strings.Contains(c.Arguments, "evil") {
					first = c.Output
				} else {
					second = c.Output
				}
			}
		}
		if !strings.Contains(first, "[withheld") || strings.Contains(first, "Ignore all previous instructions") {
			t.Errorf("%v: the injected document reached the model: %q", proto, first)
		}
		if !strings.Contains(second, "removes its chunks") || strings.Contains(second, "[withheld") {
			t.Errorf("%v: the benign document was withheld: %q", proto, second)
		}
		if res.Withheld != 1 || len(res.Sources) != 1 || res.Sources[0].DocID != "deletes" {
			t.Fatalf("%v: withheld %d, sources %+v", proto, res.Withheld, res.Sources)
		}
		if len(res.Citations) != 1 || res.Citations[0].DocID != "deletes" || len(res.InvalidCitations) != 1 {
			t.Fatalf("%v: citations %+v, invalid %v", proto, res.Citations, res.InvalidCitations)
		}
	}
}

package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/tools"
)

func TestSessionsScopedAndExpiring(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ss := NewSessions(&SessionOptions{TTL: time.Minute, MaxSessions: 3, Now: func() time.Time { return now }})
	a, _ := ss.Create(scopeA)
	if _, err := ss.Get(tools.Scope{Tenant: "B"}, a.ID); !errors.Is(err, ErrNoSession) {
		t.Errorf("tenant B read A's session: %v", err)
	}
	if err := ss.Delete(tools.Scope{Tenant: "B"}, a.ID); !errors.Is(err, ErrNoSession) {
		t.Errorf("tenant B deleted A's session: %v", err)
	}
	if l := ss.List(tools.Scope{Tenant: "B"}); len(l) != 0 {
		t.Errorf("tenant B lists %d sessions", len(l))
	}
	ss.Create(scopeA)
	ss.Create(scopeA)
	if _, err := ss.Create(scopeA); !errors.Is(err, ErrTooManySess) {
		t.Errorf("4th session: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := ss.Get(scopeA, a.ID); !errors.Is(err, ErrNoSession) {
		t.Errorf("expired session: %v", err)
	}
	if l := ss.List(scopeA); len(l) != 0 {
		t.Errorf("%d sessions after expiry", len(l))
	}
	b, err := ss.Create(scopeA)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Delete(scopeA, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Get(scopeA, b.ID); err == nil {
		t.Error("deleted session still there")
	}
}

// TestSessionSummarises: past MaxTokens the older turns are summarised by
// the model and memory stays bounded.
func TestSessionSummarises(t *testing.T) {
	f := newFakeModel(t, func(int) fakeReply { return fakeReply{Content: "They discussed zebras."} })
	m := ModelFor("fake", llm.NewOpenAI(f.srv.URL, nil), llm.Params{})
	ss := NewSessions(&SessionOptions{MaxTokens: 200})
	se, _ := ss.Create(scopeA)
	for i := 0; i < 20; i++ {
		var err error
		se, err = ss.Append(context.Background(), scopeA, se.ID, m, Turn{"user", strings.Repeat("zebra ", 30)}, Turn{"assistant", "ok"})
		if err != nil {
			t.Fatal(err)
		}
		if tokensOf(se.Turns) > 200 {
			t.Fatalf("memory holds %d tokens, bound 200", tokensOf(se.Turns))
		}
	}
	if se.Summary != "They discussed zebras." || se.Summaries == 0 {
		t.Errorf("summary %q after %d folds", se.Summary, se.Summaries)
	}
	h := se.History()
	if h[0].Role != "system" || !strings.Contains(h[0].Content, "zebras") {
		t.Errorf("history %+v", h[0])
	}
	// Without a model the summary is the clipped text, still bounded.
	se2, _ := ss.Create(scopeA)
	for i := 0; i < 10; i++ {
		se2, _ = ss.Append(context.Background(), scopeA, se2.ID, Model{}, Turn{"user", strings.Repeat("giraffe ", 40)})
	}
	if !strings.Contains(se2.Summary, "giraffe") || len(se2.Summary) > 500 {
		t.Errorf("model-less summary of %d bytes", len(se2.Summary))
	}
}

// TestLongTermMemory: notes are stored per tenant and recalled as context;
// a read key cannot write them, and another tenant cannot recall them.
func TestLongTermMemory(t *testing.T) {
	eng := openEngine(t)
	lt := LongTerm{Catalog: tools.EngineCatalog{Engine: eng}}
	ctx := context.Background()
	if err := lt.Remember(ctx, scopeA, "s1", "what is the zebra code?", "It is 42."); err == nil {
		t.Fatal("a read key wrote memory")
	}
	wA := tools.Scope{Tenant: "A", Role: tools.RoleWrite}
	if err := lt.Remember(ctx, wA, "s1", "what is the zebra code?", "It is 42."); err != nil {
		t.Fatal(err)
	}
	got, err := lt.Recall(ctx, scopeA, "zebra code", 3)
	if err != nil || len(got) != 1 || !strings.Contains(got[0].Text, "42") {
		t.Fatalf("recall: %+v %v", got, err)
	}
	if got, _ := lt.Recall(ctx, tools.Scope{Tenant: "B"}, "zebra code", 3); len(got) != 0 {
		t.Fatalf("tenant B recalled A's memory: %+v", got)
	}
	if lt.Collection("A") != "memory-A" || !strings.HasPrefix(lt.Collection("a/b c"), "memory-") || lt.Collection("") != "memory" {
		t.Error("collection names")
	}
}

package agent

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/tools"
)

// TestServiceSessionAndMemory: a session carries the first exchange into
// the second run; long-term memory is recalled into a later session.
func TestServiceSessionAndMemory(t *testing.T) {
	f := newFakeModel(t, func(i int) fakeReply { return fakeReply{Content: "Answer number " + string(rune('A'+i))} })
	a, cat := testAgent(t, f, ProtocolNative, Budget{})
	svc := &Service{Agent: a, Sessions: NewSessions(nil), Memory: &LongTerm{Catalog: cat}}
	wA := tools.Scope{Tenant: "A", Role: tools.RoleWrite}
	se, _ := svc.Sessions.Create(wA)
	ctx := context.Background()
	if _, err := svc.Do(ctx, wA, Request{Task: "remember the okapi", SessionID: se.ID, Remember: true}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Do(ctx, wA, Request{Task: "what animal?", SessionID: se.ID}, nil); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	var sawFirst bool
	for _, m := range reqs[1].Messages {
		sawFirst = sawFirst || m.Content == "remember the okapi"
	}
	if !sawFirst {
		t.Errorf("the second run did not get the session's history: %+v", reqs[1].Messages)
	}
	got, _ := svc.Session(wA, se.ID)
	if len(got.Turns) != 4 {
		t.Errorf("session has %d turns, want 4", len(got.Turns))
	}
	// A new session recalls the long-term note.
	if _, err := svc.Do(ctx, wA, Request{Task: "okapi?", Remember: true}, nil); err != nil {
		t.Fatal(err)
	}
	reqs = f.requests()
	last := reqs[len(reqs)-1].Messages
	if !strings.Contains(last[len(last)-1].Content, "Notes from earlier sessions") || !strings.Contains(last[len(last)-1].Content, "okapi") {
		t.Errorf("no recalled note: %q", last[len(last)-1].Content)
	}
	if _, err := svc.Do(ctx, tools.Scope{Tenant: "B"}, Request{Task: "x", SessionID: se.ID}, nil); !errors.Is(err, ErrNoSession) {
		t.Errorf("tenant B used A's session: %v", err)
	}
	if _, err := ParsePipeline("chain"); err == nil {
		t.Error("unknown pipeline accepted")
	}
}

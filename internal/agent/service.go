package agent

import (
	"context"
	"fmt"

	"github.com/quarry-rag/quarry/internal/tools"
)

// Pipeline names a way of running a task.
type Pipeline int

// Pipelines.
const (
	PipelineReAct    Pipeline = iota // one agent with the tools (native calls or ReAct)
	PipelineResearch                 // planner → researcher → writer → reviewer
)

func (p Pipeline) String() string {
	switch p {
	case PipelineReAct:
		return "react"
	case PipelineResearch:
		return "research"
	}
	return fmt.Sprintf("Pipeline(%d)", int(p))
}

// MarshalText implements encoding.TextMarshaler.
func (p Pipeline) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// ParsePipeline maps "react" (or "") and "research" to a Pipeline.
func ParsePipeline(s string) (Pipeline, error) {
	switch s {
	case "", "react":
		return PipelineReAct, nil
	case "research":
		return PipelineResearch, nil
	}
	return 0, fmt.Errorf("pipeline: must be react or research, got %q", s)
}

// Request is one task for a Service.
type Request struct {
	Task     string
	Pipeline Pipeline
	// SessionID continues a session: its memory is the run's history and
	// the exchange is appended to it. "" runs without a session.
	SessionID string
	// Remember opts in to long-term memory: notes recalled before the run
	// and the answer stored after it (needs a write key to store).
	Remember bool
	Budget   Budget
}

// Service runs requests with sessions and long-term memory: what the CLI and
// the server share.
type Service struct {
	Agent    *Agent
	Sessions *Sessions // nil: requests with a SessionID fail
	Memory   *LongTerm // nil: Remember is refused
	Research *ResearchConfig
}

// Do runs req for sc. The error is for requests that never started (a bad
// task, an unknown session); every started run returns its Result.
func (s *Service) Do(ctx context.Context, sc tools.Scope, req Request, emit Emit) (*Result, error) {
	in := Input{Task: req.Task, Budget: req.Budget}
	if err := validateInput(in); err != nil {
		return nil, err
	}
	if req.SessionID != "" {
		if s.Sessions == nil {
			return nil, fmt.Errorf("%w: sessions are not enabled", ErrNoSession)
		}
		se, err := s.Sessions.Get(sc, req.SessionID)
		if err != nil {
			return nil, err
		}
		in.History = se.History()
	}
	if req.Remember {
		if s.Memory == nil {
			return nil, fmt.Errorf("remember: long-term memory is not enabled")
		}
		notes, err := s.Memory.Recall(ctx, sc, req.Task, 3)
		if err != nil {
			return nil, fmt.Errorf("remember: %w", err)
		}
		in.Context = notes
	}
	var res *Result
	var err error
	if req.Pipeline == PipelineResearch {
		res, err = s.Agent.Research(ctx, sc, in, s.Research, emit)
	} else {
		res, err = s.Agent.Run(ctx, sc, in, emit)
	}
	if err != nil {
		return nil, err
	}
	// Memory is written with a context that outlives a client that left.
	wctx := context.WithoutCancel(ctx)
	if req.SessionID != "" {
		turns := []Turn{{Role: "user", Content: req.Task}}
		if res.Answer != "" {
			turns = append(turns, Turn{Role: "assistant", Content: res.Answer})
		}
		_, _ = s.Sessions.Append(wctx, sc, req.SessionID, s.Agent.cfg.Model, turns...)
	}
	if req.Remember && res.State == StateAnswered && sc.Role.CanWrite() {
		_ = s.Memory.Remember(wctx, sc, req.SessionID, req.Task, res.Answer)
	}
	return res, nil
}

// Session returns a session of sc (for tests and the server).
func (s *Service) Session(sc tools.Scope, id string) (Session, error) {
	if s.Sessions == nil {
		return Session{}, ErrNoSession
	}
	return s.Sessions.Get(sc, id)
}

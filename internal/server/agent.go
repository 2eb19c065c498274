package server

import (
	"slices"

	"github.com/quarry-rag/quarry/internal/auth"

	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/agent"
	"github.com/quarry-rag/quarry/internal/mcpserver"
	"github.com/quarry-rag/quarry/internal/tools"
)

const agentRoute = "/v1/collections/{c}/agent"

// AgentOptions enable the agent endpoint. Sessions and /mcp work without
// them; POST /v1/collections/{c}/agent needs a model.
type AgentOptions struct {
	Model    agent.Model
	Protocol agent.Protocol
	Budget   agent.Budget
	Research *agent.ResearchConfig
	// Sessions holds conversation memory. Default agent.NewSessions(nil).
	Sessions *agent.Sessions
	// LongTermMemory lets requests opt in to long-term memory.
	LongTermMemory bool
	// NoScreen turns off the prompt-injection screen of tool results
	// (Engine.ScreenInjection), which is on by default.
	NoScreen bool
}

// agentHub is the server's agent state: per-collection tool sets and
// agents (their schemas compile once), sessions, and the MCP handler.
type agentHub struct {
	eng  *quarry.Engine
	opts AgentOptions
	cat  tools.Catalog

	mu     sync.Mutex
	agents map[string]*agent.Agent // by collection

	mcpOnce sync.Once
	mcp     http.Handler
}

func newAgentHub(eng *quarry.Engine, o *AgentOptions) *agentHub {
	h := &agentHub{eng: eng, cat: tools.EngineCatalog{Engine: eng}, agents: map[string]*agent.Agent{}}
	if o != nil {
		h.opts = *o
	}
	if h.opts.Sessions == nil {
		h.opts.Sessions = agent.NewSessions(nil)
	}
	return h
}

// agentFor returns the agent whose tools see only collection c.
func (h *agentHub) agentFor(c string) *agent.Agent {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a, ok := h.agents[c]; ok {
		return a
	}
	set := tools.Default(h.cat, &tools.Options{Collection: c, Collections: []string{c}})
	a := agent.New(agent.Config{Model: h.opts.Model, Tools: set, Protocol: h.opts.Protocol, Budget: h.opts.Budget,
		Screen: h.screen()})
	if len(h.agents) > 1000 { // collections come and go; keep the map bounded
		clear(h.agents)
	}
	h.agents[c] = a
	return a
}

// screen is the prompt-injection screen for tool results: the engine's
// guard, unless the operator turned screening off (AgentOptions.NoScreen).
func (h *agentHub) screen() agent.Screener {
	if h.opts.NoScreen {
		return nil
	}
	return h.eng.ScreenInjection
}

func (h *agentHub) mcpHandler() http.Handler {
	h.mcpOnce.Do(func() {
		h.mcp = mcpserver.Handler(h.cat, tools.Default(h.cat, nil), nil)
	})
	return h.mcp
}

// agentScope is the scope an agent or tool call runs with. With API keys
// it is the key's (set by the guard): a read or write key acts for its own
// tenant and principals whatever the body says, an admin key for the
// body's tenant when it names one. Without keys it is the body's tenant
// and principals with read access: an unauthenticated agent never writes.
func agentScope(r *http.Request, tenant string, principals []string) tools.Scope {
	if sc, ok := tools.ScopeFrom(r.Context()); ok {
		if sc.Role == tools.RoleAdmin && (tenant != "" || principals != nil) {
			sc.Tenant, sc.Principals = tenant, principals
		}
		return sc
	}
	return tools.Scope{Tenant: tenant, Principals: principals, Role: tools.RoleRead}
}

// toolScope is a key's scope as the tools see it.
func toolScope(k *auth.Key) tools.Scope {
	role, err := tools.ParseRole(string(k.Role))
	if err != nil {
		role = tools.RoleRead // an unknown role gets the least
	}
	return tools.Scope{Tenant: k.Tenant, Principals: slices.Clone(k.Principals), Role: role}
}

type budgetIn struct {
	Steps        int     `json:"steps"`
	ToolCalls    int     `json:"tool_calls"`
	InvalidCalls int     `json:"invalid_calls"`
	Tokens       int     `json:"tokens"`
	WallSeconds  float64 `json:"wall_seconds"`
}

type agentRequest struct {
	Task       string    `json:"task"`
	Pipeline   string    `json:"pipeline"`
	SessionID  string    `json:"session_id"`
	Remember   bool      `json:"remember"`
	Stream     bool      `json:"stream"`
	Budget     *budgetIn `json:"budget"`
	Tenant     string    `json:"tenant"`
	Principals []string  `json:"principals"`
}

func (in *agentRequest) toAgent() (agent.Request, error) {
	var req agent.Request
	if in.Task == "" {
		return req, invalid("task", "is required")
	}
	if len(in.Task) > agent.MaxTaskBytes {
		return req, &apiError{Code: codeTooLarge, Field: "task", Message: "is longer than 16384 bytes"}
	}
	p, err := agent.ParsePipeline(in.Pipeline)
	if err != nil {
		return req, invalid("pipeline", "must be react or research")
	}
	req = agent.Request{Task: in.Task, Pipeline: p, SessionID: in.SessionID, Remember: in.Remember}
	if b := in.Budget; b != nil {
		if b.WallSeconds < 0 || b.WallSeconds > agent.MaxWall.Seconds() {
			return req, invalid("budget.wall_seconds", "must be 0..%g", agent.MaxWall.Seconds())
		}
		req.Budget = agent.Budget{Steps: b.Steps, ToolCalls: b.ToolCalls, InvalidCalls: b.InvalidCalls, Tokens: b.Tokens,
			Wall: time.Duration(b.WallSeconds * float64(time.Second))}
		if err := req.Budget.Validate(); err != nil {
			return req, invalid("budget", "%s", err.Error())
		}
	}
	return req, nil
}

// runAgent runs a task over one collection: one JSON result, or with
// "stream": true Server-Sent Events step, tool_call, observation, token and
// final.
func (s *Server) runAgent(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	var in agentRequest
	if err := readJSON(w, r, s.opts.MaxQueryBodyBytes, &in); err != nil {
		return err
	}
	req, err := in.toAgent()
	if err != nil {
		return err
	}
	h := s.agents
	if h.opts.Model.Chat == nil {
		return &apiError{Code: codeUnavailable, Message: "no language model is configured: start the server with --llm-url and --llm-model"}
	}
	var mem *agent.LongTerm
	if h.opts.LongTermMemory {
		mem = &agent.LongTerm{Catalog: h.cat}
	} else if req.Remember {
		return invalid("remember", "long-term memory is not enabled on this server")
	}
	svc := &agent.Service{Agent: h.agentFor(col.Name()), Sessions: h.opts.Sessions, Memory: mem, Research: h.opts.Research}
	sc := agentScope(r, in.Tenant, in.Principals)
	if !in.Stream {
		res, err := svc.Do(r.Context(), sc, req, nil)
		if err != nil {
			return agentErr(err)
		}
		return s.writeJSON(w, http.StatusOK, res)
	}
	sw := s.newSSE(w, agentRoute, start)
	defer sw.close()
	_, err = svc.Do(r.Context(), sc, req, func(ev agent.Event) error {
		name := ev.Kind.String()
		switch ev.Kind {
		case agent.EventToken:
			return sw.token(name, ev)
		case agent.EventFinal:
			return sw.event(name, ev.Result)
		}
		return sw.event(name, ev)
	})
	return s.endStream(sw, r, agentErr(err), "error", func(e *apiError) any {
		return errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}}
	})
}

func agentErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, agent.ErrNoSession):
		return &apiError{Code: codeNotFound, Field: "session_id", Message: err.Error()}
	}
	var api *apiError
	if errors.As(err, &api) {
		return err
	}
	return invalid("", "%s", err.Error())
}

type sessionScopeIn struct {
	Tenant     string   `json:"tenant"`
	Principals []string `json:"principals"`
}

type sessionOut struct {
	ID        string       `json:"id"`
	Created   time.Time    `json:"created"`
	Expires   time.Time    `json:"expires"`
	Summary   string       `json:"summary,omitempty"`
	Turns     []agent.Turn `json:"turns"`
	Summaries int          `json:"summaries"`
}

func fromSession(se agent.Session) sessionOut {
	t := se.Turns
	if t == nil {
		t = []agent.Turn{}
	}
	return sessionOut{ID: se.ID, Created: se.Created, Expires: se.Expires, Summary: se.Summary, Turns: t, Summaries: se.Summaries}
}

// sessionScope: sessions belong to the key's tenant; without keys, to the
// tenant named by the ?tenant= query parameter (default the shared one).
func sessionScope(r *http.Request) tools.Scope {
	return agentScope(r, r.URL.Query().Get("tenant"), nil)
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	se, err := s.agents.opts.Sessions.Create(sessionScope(r))
	if err != nil {
		return &apiError{Code: codeUnavailable, Message: err.Error()}
	}
	return s.writeJSON(w, http.StatusCreated, fromSession(se))
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	ss := s.agents.opts.Sessions.List(sessionScope(r))
	out := make([]sessionOut, len(ss))
	for i, se := range ss {
		out[i] = fromSession(se)
	}
	return s.writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	se, err := s.agents.opts.Sessions.Get(sessionScope(r), r.PathValue("id"))
	if err != nil {
		return &apiError{Code: codeNotFound, Message: err.Error()}
	}
	return s.writeJSON(w, http.StatusOK, fromSession(se))
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.agents.opts.Sessions.Delete(sessionScope(r), r.PathValue("id")); err != nil {
		return &apiError{Code: codeNotFound, Message: err.Error()}
	}
	return s.writeJSON(w, http.StatusOK, deletedOut{Deleted: r.PathValue("id")})
}

// mcp serves the Model Context Protocol (streamable HTTP, stateless).
func (s *Server) mcp(w http.ResponseWriter, r *http.Request) {
	s.agents.mcpHandler().ServeHTTP(w, r)
}

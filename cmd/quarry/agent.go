package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/agent"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/mcpserver"
	"github.com/quarry-rag/quarry/internal/server"
	"github.com/quarry-rag/quarry/internal/tools"
)

// agentFlags are the flags of agent and mcp that say whose scope tool calls
// run with.
type agentScopeFlags struct {
	tenant     string
	principals stringList
	write      bool
}

func (a *agentScopeFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&a.tenant, "tenant", "", "tenant every tool call runs for")
	fs.Var(&a.principals, "principal", "principal of the caller, for document ACLs (repeatable)")
	fs.BoolVar(&a.write, "write", false, "allow the write tools (ingest_text, delete_document)")
}

func (a *agentScopeFlags) scope() tools.Scope {
	sc := tools.Scope{Tenant: a.tenant, Principals: a.principals, Role: tools.RoleRead}
	if a.write {
		sc.Role = tools.RoleWrite
	}
	return sc
}

// agentModel builds the agent's model client from the language-model flags.
func agentModel(l *llmFlags) (agent.Model, error) {
	if l.url == "" || l.model == "" {
		return agent.Model{}, usagef("the agent needs a language model: set --llm-url and --llm-model (or QUARRY_LLM_URL, QUARRY_LLM_MODEL)")
	}
	u, err := url.Parse(l.url)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return agent.Model{}, usagef("--llm-url %q is not a URL", l.url)
	}
	opts := &llm.Options{APIKey: l.apiKey, Timeout: l.timeout}
	provider := l.provider
	if provider == "" {
		provider = quarry.ProviderOpenAI
		if u.Port() == "11434" || strings.HasSuffix(u.Path, "/api") {
			provider = quarry.ProviderOllama
		}
	}
	base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimRight(l.url, "/"), "/v1"), "/api")
	var c llm.Chat
	switch provider {
	case quarry.ProviderOpenAI:
		c = llm.NewOpenAI(base, opts)
	case quarry.ProviderOllama:
		c = llm.NewOllama(base, opts)
	default:
		return agent.Model{}, usagef("--llm-provider must be openai or ollama, got %q", provider)
	}
	return agent.ModelFor(l.model, c, llm.Params{}), nil
}

var sessionIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func setupAgent(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var lf llmFlags
	lf.bind(fs)
	var sf agentScopeFlags
	sf.bind(fs)
	pipeline := fs.String("pipeline", "react", "react (one agent with tools) or research (planner, researcher, writer, reviewer)")
	protocol := fs.String("protocol", "auto", "tool calling: auto, native or react")
	session := fs.String("session", "", "session id: continue (or start) a conversation kept under DATA_DIR/agent-sessions; with --server, a session created on the server (POST /v1/agent/sessions)")
	steps := fs.Int("steps", 0, "step budget (default 8)")
	toolCalls := fs.Int("tool-calls", 0, "tool-call budget (default 12)")
	tokens := fs.Int("tokens", 0, "token budget (default 32000)")
	wall := fs.Duration("wall", 0, "wall-time budget (default 2m)")
	quiet := fs.Bool("quiet", false, "print only the answer, not each step")
	return func(ctx context.Context, pos []string) error {
		if len(pos) == 0 {
			return usagef("give a task")
		}
		pl, err := agent.ParsePipeline(*pipeline)
		if err != nil {
			return usagef("--pipeline: must be react or research")
		}
		proto, err := agent.ParseProtocol(*protocol)
		if err != nil {
			return usagef("--protocol: must be auto, native or react")
		}
		if *session != "" && !sessionIDRE.MatchString(*session) {
			return usagef("--session: 1-64 letters, digits, '_' or '-'")
		}
		budget := agent.Budget{Steps: *steps, ToolCalls: *toolCalls, Tokens: *tokens, Wall: *wall}
		if err := budget.Validate(); err != nil {
			return usagef("%v", err)
		}
		cl, err := remote(env)
		if err != nil {
			return err
		}
		if cl == nil {
			// A serve that recorded its address holds the directory.
			if cl = localServer(ctx, env); cl != nil {
				noteLocalServer(env, cl)
			}
		}
		if cl != nil {
			// Client mode: the server's agent, model and sessions; the
			// API key decides the scope and whether write tools run.
			for _, f := range []string{"llm-url", "llm-model", "llm-provider", "llm-api-key", "protocol", "tenant", "principal", "write"} {
				if fs.Changed(f) {
					return usagef("--%s: in client mode the agent runs on the server with its language model and the API key's scope; drop --%s", f, f)
				}
			}
			req := remoteAgentRequest{Task: strings.Join(pos, " "), Pipeline: pl.String(), SessionID: *session, Stream: !env.json && !*quiet,
				Budget: remoteBudget{Steps: *steps, ToolCalls: *toolCalls, Tokens: *tokens, WallSeconds: wall.Seconds()}}
			var emit agent.Emit
			if req.Stream {
				emit = printEvents(env.stderr, env.stdout)
			}
			res, err := cl.agent(ctx, env.collection, req, emit)
			if err != nil {
				return err
			}
			return agentOutput(env, res)
		}
		model, err := agentModel(&lf)
		if err != nil {
			return err
		}
		eng, col, err := openCollectionLLM(ctx, env, &lf)
		if err != nil {
			return err
		}
		defer eng.Close()
		cat := tools.EngineCatalog{Engine: eng}
		set := tools.Default(cat, &tools.Options{Collection: col.Name(), Collections: []string{col.Name()}})
		a := agent.New(agent.Config{Model: model, Tools: set, Protocol: proto, Screen: eng.ScreenInjection})
		sc := sf.scope()
		svc := &agent.Service{Agent: a, Sessions: agent.NewSessions(nil)}
		var sessFile string
		if *session != "" {
			sessFile = filepath.Join(env.dataDir, "agent-sessions", *session+".json")
			se := agent.Session{ID: *session}
			if b, err := os.ReadFile(sessFile); err == nil {
				if err := json.Unmarshal(b, &se); err != nil {
					return fmt.Errorf("session %s: %s is corrupt: %w", *session, sessFile, err)
				}
				se.ID = *session
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
			if err := svc.Sessions.Put(sc, se); err != nil {
				return err
			}
		}
		var emit agent.Emit
		if !env.json && !*quiet {
			emit = printEvents(env.stderr, env.stdout)
		}
		res, err := svc.Do(ctx, sc, agent.Request{Task: strings.Join(pos, " "), Pipeline: pl, SessionID: *session, Budget: budget}, emit)
		if err != nil {
			return usagef("%v", err)
		}
		if sessFile != "" {
			if se, err := svc.Session(sc, *session); err == nil {
				if err := saveSession(sessFile, se); err != nil {
					return err
				}
			}
		}
		return agentOutput(env, res)
	}
}

// agentOutput prints an agent's result; a run that did not answer is an
// error.
func agentOutput(env *cliEnv, res *agent.Result) error {
	if env.json {
		if err := writeJSONOut(env.stdout, res); err != nil {
			return err
		}
	} else {
		printResult(env.stdout, res)
	}
	if res.State != agent.StateAnswered {
		return fmt.Errorf("agent: %s: %s", res.State, res.Reason)
	}
	return nil
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// saveSession writes the session file atomically.
func saveSession(path string, se agent.Session) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(se)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// printEvents streams steps to stderr and answer tokens to stdout.
func printEvents(steps, out io.Writer) agent.Emit {
	return func(e agent.Event) error {
		switch e.Kind {
		case agent.EventStep:
			if e.Thought != "" {
				fmt.Fprintf(steps, "[%d %s] %s\n", e.Step, e.Role, clipLine(e.Thought, 200))
			} else {
				fmt.Fprintf(steps, "[%d %s]\n", e.Step, e.Role)
			}
		case agent.EventToolCall:
			fmt.Fprintf(steps, "  → %s %s\n", e.Call.Tool, clipLine(e.Call.Arguments, 200))
		case agent.EventObservation:
			if e.Call != nil && e.Call.Error != "" {
				fmt.Fprintf(steps, "  ✗ %s\n", clipLine(e.Call.Error, 200))
			} else {
				fmt.Fprintf(steps, "  ← %s\n", clipLine(strings.TrimPrefix(e.Text, "<observation"), 160))
			}
		}
		return nil
	}
}

func clipLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func printResult(w io.Writer, res *agent.Result) {
	if res.Answer != "" {
		fmt.Fprintf(w, "%s\n", strings.TrimSpace(res.Answer))
	}
	for _, c := range res.Citations {
		fmt.Fprintf(w, "  [%d] %s: %s\n", c.Marker, c.DocID, clipLine(c.Text, 120))
	}
	fmt.Fprintf(w, "(%s; %d steps, %d tool calls, %d refused, %d tokens, model %.0f ms of %.0f ms)\n", res.State, res.Steps, res.ToolCalls,
		res.InvalidCalls, res.Usage.PromptTokens+res.Usage.CompletionTokens, res.ModelMS, res.TookMS)
}

func setupMCP(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var lf llmFlags
	lf.bind(fs)
	var sf agentScopeFlags
	sf.bind(fs)
	return func(ctx context.Context, _ []string) error {
		opts := engineOptions(env)
		lf.apply(opts)
		eng, err := quarry.Open(env.dataDir, opts)
		if err != nil {
			return err
		}
		defer eng.Close()
		cat := tools.EngineCatalog{Engine: eng}
		set := tools.Default(cat, &tools.Options{Collection: env.collection})
		err = mcpserver.ServeStdio(ctx, cat, set, sf.scope())
		if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
}

// serveAgentOptions enables the agent endpoint when a model is configured.
func serveAgentOptions(l *llmFlags) *server.AgentOptions {
	if l.url == "" || l.model == "" {
		return nil
	}
	m, err := agentModel(l)
	if err != nil {
		return nil
	}
	return &server.AgentOptions{Model: m, Sessions: agent.NewSessions(&agent.SessionOptions{TTL: time.Hour})}
}

package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/tools"
)

// State is how a run ended.
type State int

// Final states.
const (
	StateAnswered        State = iota + 1 // the model gave a final answer
	StateBudgetExhausted                  // a step, call, token or time budget ran out
	StateFailed                           // a model error, too many invalid calls, a loop, cancellation
)

func (s State) String() string {
	switch s {
	case StateAnswered:
		return "answered"
	case StateBudgetExhausted:
		return "budget_exhausted"
	case StateFailed:
		return "failed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *State) UnmarshalText(b []byte) error {
	for _, v := range []State{StateAnswered, StateBudgetExhausted, StateFailed} {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("agent: unknown state %q", b)
}

// Protocol is how the agent asks the model for tool calls.
type Protocol int

// Protocols.
const (
	// ProtocolAuto uses native tool calling when the model's client
	// supports it and falls back to ReAct when the server refuses tools.
	ProtocolAuto Protocol = iota
	ProtocolNative
	ProtocolReAct
)

func (p Protocol) String() string {
	switch p {
	case ProtocolAuto:
		return "auto"
	case ProtocolNative:
		return "native"
	case ProtocolReAct:
		return "react"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// ParseProtocol maps "auto", "native" and "react" to a Protocol.
func ParseProtocol(s string) (Protocol, error) {
	switch s {
	case "", "auto":
		return ProtocolAuto, nil
	case "native":
		return ProtocolNative, nil
	case "react":
		return ProtocolReAct, nil
	}
	return 0, fmt.Errorf("agent: unknown protocol %q (want auto, native or react)", s)
}

// Budget bounds a run. Zero fields take the defaults.
type Budget struct {
	Steps        int           // model calls; default 8
	ToolCalls    int           // executed tool calls; default 12
	InvalidCalls int           // refused calls and unparseable replies tolerated; default 3
	Tokens       int           // prompt + completion tokens over the run; default 32000
	Wall         time.Duration // default 2m
}

// Limits on budgets a request may ask for.
const (
	MaxSteps     = 64
	MaxToolCalls = 128
	MaxTokens    = 1 << 20
	MaxWall      = 30 * time.Minute
	MaxTaskBytes = 16 << 10
)

func (b Budget) withDefaults() Budget {
	if b.Steps <= 0 {
		b.Steps = 8
	}
	if b.ToolCalls <= 0 {
		b.ToolCalls = 12
	}
	if b.InvalidCalls <= 0 {
		b.InvalidCalls = 3
	}
	if b.Tokens <= 0 {
		b.Tokens = 32000
	}
	if b.Wall <= 0 {
		b.Wall = 2 * time.Minute
	}
	return b
}

// Validate reports a budget above the limits.
func (b Budget) Validate() error {
	switch {
	case b.Steps > MaxSteps:
		return fmt.Errorf("budget.steps: must be ≤ %d", MaxSteps)
	case b.ToolCalls > MaxToolCalls:
		return fmt.Errorf("budget.tool_calls: must be ≤ %d", MaxToolCalls)
	case b.Tokens > MaxTokens:
		return fmt.Errorf("budget.tokens: must be ≤ %d", MaxTokens)
	case b.Wall > MaxWall:
		return fmt.Errorf("budget.wall: must be ≤ %s", MaxWall)
	case b.Steps < 0 || b.ToolCalls < 0 || b.Tokens < 0 || b.Wall < 0 || b.InvalidCalls < 0:
		return errors.New("budget: values must not be negative")
	}
	return nil
}

// Model is the language model a run uses.
type Model struct {
	Name string
	// Chat serves the ReAct protocol and the pipeline's writer and
	// reviewer.
	Chat llm.Chat
	// Tools, when set, offers native tool calling (both built-in clients
	// implement it).
	Tools  llm.ToolCaller
	Params llm.Params
}

// ModelFor returns a Model over one client, using its native tool calling
// when it has one.
func ModelFor(name string, c llm.Chat, p llm.Params) Model {
	m := Model{Name: name, Chat: c, Params: p}
	if tc, ok := c.(llm.ToolCaller); ok {
		m.Tools = tc
	}
	return m
}

// Config configures an Agent.
type Config struct {
	Model    Model
	Tools    *tools.Set
	Protocol Protocol
	Budget   Budget
	// System is prepended to the built-in instructions.
	System string
	// Screen, when set, scores tool results for prompt injection before
	// the model reads them (the engine's guard): a source scoring at or
	// above the threshold is withheld — the model is told it was, and it
	// cannot be cited — and a text result is replaced by the notice.
	Screen Screener
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// Agent runs tasks. It is safe for concurrent use.
type Agent struct {
	cfg Config
	// noNative is set once the server refused tools: later runs go
	// straight to ReAct.
	noNative atomic.Bool
}

// New returns an Agent for cfg.
func New(cfg Config) *Agent {
	cfg.Budget = cfg.Budget.withDefaults()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Tools == nil {
		cfg.Tools = tools.NewSet()
	}
	return &Agent{cfg: cfg}
}

// EventKind names a streamed event.
type EventKind int

// Event kinds, as the SSE event names say.
const (
	EventStep        EventKind = iota + 1 // a model call finished: thought, role
	EventToolCall                         // the model asked for a tool
	EventObservation                      // what the model is told back (result or error)
	EventToken                            // streamed answer text
	EventFinal                            // the run ended; Result is set
)

func (k EventKind) String() string {
	switch k {
	case EventStep:
		return "step"
	case EventToolCall:
		return "tool_call"
	case EventObservation:
		return "observation"
	case EventToken:
		return "token"
	case EventFinal:
		return "final"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// MarshalText implements encoding.TextMarshaler.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *EventKind) UnmarshalText(b []byte) error {
	for v := EventStep; v <= EventFinal; v++ {
		if v.String() == string(b) {
			*k = v
			return nil
		}
	}
	return fmt.Errorf("agent: unknown event kind %q", b)
}

// Event is one streamed piece of a run.
type Event struct {
	Kind    EventKind `json:"kind"`
	Role    string    `json:"role,omitempty"`
	Step    int       `json:"step"`
	Thought string    `json:"thought,omitempty"`
	Call    *Call     `json:"call,omitempty"`
	Text    string    `json:"text,omitempty"`
	Result  *Result   `json:"result,omitempty"`
}

// Emit receives events; an error from it stops the run (state failed).
type Emit func(Event) error

// Call is one tool call in a trace.
type Call struct {
	ID        string `json:"id,omitempty"`
	Tool      string `json:"tool"`
	Arguments string `json:"arguments"`
	Executed  bool   `json:"executed"`
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
	Output    string `json:"output,omitempty"`  // the observation text given to the model
	Sources   []int  `json:"sources,omitempty"` // source numbers this call added
	// Withheld counts the parts of the result Config.Screen kept from the
	// model (prompt-injection scores at or above its threshold).
	Withheld int             `json:"withheld,omitempty"`
	Data     json.RawMessage `json:"-"`
}

// Step is one model call in a trace.
type Step struct {
	N        int     `json:"n"`
	Role     string  `json:"role"`
	Protocol string  `json:"protocol"`
	Thought  string  `json:"thought,omitempty"`
	Calls    []Call  `json:"calls,omitempty"`
	Answer   string  `json:"answer,omitempty"`
	Error    string  `json:"error,omitempty"`
	ModelMS  float64 `json:"model_ms"`
	Tokens   int     `json:"tokens"`
}

// Source is a numbered piece of a document a tool returned.
type Source struct {
	N int `json:"n"`
	tools.Source
}

// Citation is a verified [n] marker of the final answer.
type Citation struct {
	Marker  int    `json:"marker"`
	DocID   string `json:"doc_id"`
	ChunkID string `json:"chunk_id,omitempty"`
	Title   string `json:"title,omitempty"`
	Text    string `json:"text"`
}

// Usage counts model tokens over a run.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Result is a finished run, whatever its state.
type Result struct {
	State     State      `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	Answer    string     `json:"answer"`
	Citations []Citation `json:"citations"`
	// InvalidCitations are markers the answer used that name no source;
	// they were removed from Answer.
	InvalidCitations []int    `json:"invalid_citations,omitempty"`
	Sources          []Source `json:"sources"`
	Trace            []Step   `json:"trace"`
	Steps            int      `json:"steps"`
	ToolCalls        int      `json:"tool_calls"`
	InvalidCalls     int      `json:"invalid_calls"`
	// Withheld counts tool-result parts the screen kept from the model.
	Withheld int   `json:"withheld,omitempty"`
	Usage    Usage `json:"usage"`
	// ModelMS is the time spent waiting for the model; TookMS the whole run.
	ModelMS float64 `json:"model_ms"`
	TookMS  float64 `json:"took_ms"`
}

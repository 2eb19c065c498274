package query

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/generate"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/retrieve"
	"github.com/quarry-rag/quarry/internal/rewrite"
	"github.com/quarry-rag/quarry/internal/store"
)

// Mode is a retrieval mode.
type Mode string

// Retrieval modes.
const (
	ModeBM25   Mode = "bm25"
	ModeDense  Mode = "dense"
	ModeHybrid Mode = "hybrid" // BM25 and dense in parallel, fused
)

// Fusion is how a hybrid search merges its lexical and dense lists.
type Fusion string

// Fusions.
const (
	FusionRRF      Fusion = "rrf"
	FusionWeighted Fusion = "weighted"
	// FusionBackend lets a backend that fuses itself (store.Hybrider) do
	// it; on others it is RRF.
	FusionBackend Fusion = "backend"
)

// Method is how an answer is written.
type Method string

// Answer methods.
const (
	MethodExtractive Method = "extractive"
	MethodLLM        Method = "llm"
	MethodNone       Method = "none" // nothing relevant was retrieved
)

// Rewrite is a query rewriting method.
type Rewrite string

// Rewrite methods.
const (
	RewriteNone  Rewrite = ""
	RewriteMulti Rewrite = "multi" // paraphrases, each retrieved, fused by RRF
	RewriteHyDE  Rewrite = "hyde"  // retrieve with a hypothetical answer passage
)

// Limits and defaults of requests.
const (
	DefaultK        = 10
	DefaultAskK     = 5
	MaxK            = 1000
	MaxQueryBytes   = 8192
	DefaultMMRDepth = 50 // the default candidate pool of MMR
	// RerankDepth is how many first-stage candidates a reranker reads.
	RerankDepth = 50
	// HybridDepth is how many candidates each retriever contributes to
	// hybrid fusion.
	HybridDepth     = 100
	MaxHistory      = 50
	MaxHistoryBytes = 64 << 10
	// MultiRRFK is the RRF k that fuses the lists of a multi-query search.
	MultiRRFK = 60
)

// Caps are what a collection can serve; plans are checked against them.
type Caps struct {
	Collection string // its name, for messages
	Embedding  bool   // it has an embedding model (dense, hybrid, MMR, HyDE vectors)
	Reranker   bool   // it has a cross-encoder; every plan reranks once
}

// Plan is a search or a question, validated once and typed: every stage
// reads its settings from here and none re-validates. Build it with
// NewSearchPlan, NewRewritePlan or NewAskPlan.
type Plan struct {
	Query    string // the query or question as asked
	K        int    // results returned
	Mode     Mode
	Language string // query language for analysis; "" = detect
	Scope    store.Scope
	NoText   bool // leave Hit.Text empty (forced off when reranking)

	Fusion Fusion
	fuse   retrieve.FuseOptions
	alpha  float64 // weighted fusion's dense weight; backend fusion's Alpha as asked

	MMR      float64 // lambda; 0 = off
	MMRDepth int     // MMR's candidate pool; 0 when off
	Ef       int
	Exact    bool
	Rerank   bool
	Depth    int // candidates per retriever
	FuseK    int // candidates kept after fusion (and read by the reranker)

	Rewrite    Rewrite
	Expansions int
	History    []llm.Message

	// Ask only.
	Method       Method
	MaxSentences int
	NoCache      bool
	LLM          llm.Settings // effective model settings (defaults applied)
	// The caller's tools and the turns after the question (AskRequest).
	Tools      []llm.ToolSpec
	ToolChoice []byte
	ToolTurns  []llm.ToolMessage

	// Set by Hooks.Guard: QueryVector is the question's embedding when the
	// guard computed it with the collection's own embedder (retrieval reuses
	// it); Guard is its report, copied to the response.
	QueryVector []float32
	Guard       *GuardReport
	// rawMode is the mode as asked, part of the answer cache's key.
	rawMode string
}

// CheckQuery validates the text of a query or question under field.
func CheckQuery(field, q string) error {
	if strings.TrimSpace(q) == "" {
		return base.Invalidf(field, "is required")
	}
	if len(q) > MaxQueryBytes {
		return base.TooLarge(field, "is %d bytes; the limit is %d", len(q), MaxQueryBytes)
	}
	if !utf8.ValidString(q) {
		return base.Invalidf(field, "is not valid UTF-8")
	}
	return nil
}

func checkK(k *int, def int) error {
	if *k == 0 {
		*k = def
	}
	if *k < 1 || *k > MaxK {
		return base.Invalidf("k", "must be between 1 and %d, got %d", MaxK, *k)
	}
	return nil
}

// resolveMode applies the default mode and checks that the collection can
// serve the one asked for.
func resolveMode(mode string, caps *Caps) (Mode, error) {
	switch Mode(mode) {
	case "":
		if caps.Embedding {
			return ModeHybrid, nil
		}
		return ModeBM25, nil
	case ModeBM25:
		return ModeBM25, nil
	case ModeDense, ModeHybrid:
		if !caps.Embedding {
			return "", base.Invalidf("mode", "%q needs an embedding model, and collection %q has none (set \"embedding\" when creating it)", mode, caps.Collection)
		}
		return Mode(mode), nil
	}
	return "", base.Invalidf("mode", "unknown mode %q (want bm25, dense or hybrid)", mode)
}

// NewSearchPlan validates a search request against what the collection
// can serve.
func NewSearchPlan(req *SearchRequest, caps Caps) (*Plan, error) {
	p := &Plan{Query: req.Query, K: req.K, Language: req.Language, NoText: req.NoText, Ef: req.Ef, Exact: req.Exact,
		rawMode: req.Mode}
	if err := CheckQuery("query", req.Query); err != nil {
		return nil, err
	}
	if err := checkK(&p.K, DefaultK); err != nil {
		return nil, err
	}
	var err error
	if p.Mode, err = resolveMode(req.Mode, &caps); err != nil {
		return nil, err
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, base.Invalidf("filter", "%v", err)
	}
	p.Fusion = Fusion(req.Fusion)
	switch p.Fusion {
	case "":
		p.Fusion = FusionRRF
	case FusionRRF, FusionWeighted, FusionBackend:
	default:
		return nil, base.Invalidf("fusion", "unknown fusion %q (want rrf, weighted or backend)", req.Fusion)
	}
	if req.Alpha < 0 || req.Alpha > 1 || req.Alpha != req.Alpha {
		return nil, base.Invalidf("alpha", "must be between 0 and 1, got %v", req.Alpha)
	}
	p.alpha = req.Alpha
	if p.Fusion == FusionWeighted && req.Alpha == 0 {
		p.alpha = 0.5
	}
	p.fuse = retrieve.FuseOptions{Method: retrieve.RRF, RRFK: req.RRFK}
	if p.Fusion == FusionWeighted {
		p.fuse.Method = retrieve.Weighted
	}
	if req.Ef < 0 || req.Ef > 4096 {
		return nil, base.Invalidf("ef", "must be between 1 and 4096, got %d", req.Ef)
	}
	if err := p.setMMR(req.MMR, req.MMRDepth, &caps); err != nil {
		return nil, err
	}
	p.Scope = store.Scope{Tenant: req.Tenant, Principals: req.Principals, Filter: req.Filter}
	p.Rerank = caps.Reranker && !req.NoRerank
	p.size()
	return p, nil
}

// setMMR validates the MMR fields and sets the MMR candidate pool, 0 when
// MMR is off.
func (p *Plan) setMMR(lambda float64, depth int, caps *Caps) error {
	if lambda != lambda || lambda < 0 || lambda > 1 {
		return base.Invalidf("mmr", "must be between 0 (off) and 1, got %v", lambda)
	}
	if depth < 0 || depth > MaxK {
		return base.Invalidf("mmr_depth", "must be between 1 and %d, got %d", MaxK, depth)
	}
	if lambda == 0 {
		if depth != 0 {
			return base.Invalidf("mmr_depth", "is set but mmr is off (set mmr to a lambda in (0, 1])")
		}
		return nil
	}
	if !caps.Embedding {
		return base.Invalidf("mmr", "needs chunk vectors, and collection %q has no embedding model", caps.Collection)
	}
	if depth == 0 {
		depth = DefaultMMRDepth
	}
	p.MMR, p.MMRDepth = lambda, min(max(depth, p.K), MaxK)
	return nil
}

// size derives the candidate depths: each retriever reads Depth, fusion
// keeps FuseK, the reranker reads FuseK and MMR chooses among MMRDepth.
func (p *Plan) size() {
	p.Depth = max(p.K, p.MMRDepth)
	if p.Mode == ModeHybrid {
		p.Depth = max(p.Depth, HybridDepth)
	}
	p.FuseK = max(p.K, p.MMRDepth)
	if p.Rerank {
		// The cross-encoder reads the candidates' text.
		p.Depth, p.NoText = max(p.Depth, RerankDepth), false
		p.FuseK = max(p.FuseK, RerankDepth)
	}
	p.fuse.K = p.FuseK
}

// hybridWeights are the weights of a query's lexical and dense lists in
// its fusion: 1 and 1 under RRF, 1−alpha and alpha under weighted fusion.
func (p *Plan) hybridWeights() (lex, dense float64) {
	if p.fuse.Method == retrieve.Weighted {
		return 1 - p.alpha, p.alpha
	}
	return 1, 1
}

// NewRewritePlan validates a search whose query the language model
// rewrites first (multi-query or HyDE). s is the collection's model
// settings before the request's overrides.
func NewRewritePlan(req *SearchRequest, rw *SearchRewrite, caps Caps, s llm.Settings) (*Plan, error) {
	p, err := NewSearchPlan(req, caps)
	if err != nil {
		return nil, err
	}
	if err := p.setLLM(rw.Model, rw.Params, rw.History, s); err != nil {
		return nil, err
	}
	if rw.Method == "" {
		return nil, base.Invalidf("rewrite", "is required (multi or hyde)")
	}
	if err := p.setRewrite(rw.Method, rw.Expansions); err != nil {
		return nil, err
	}
	return p, nil
}

// NewAskPlan validates a question. s is the collection's model settings
// before the request's overrides.
func NewAskPlan(req *AskRequest, caps Caps, s llm.Settings) (*Plan, error) {
	p := &Plan{Query: req.Question, K: req.K, MaxSentences: req.MaxSentences, NoCache: req.NoCache, rawMode: req.Mode,
		Fusion: FusionRRF, fuse: retrieve.FuseOptions{Method: retrieve.RRF}}
	if err := CheckQuery("question", req.Question); err != nil {
		return nil, err
	}
	if err := checkK(&p.K, DefaultAskK); err != nil {
		return nil, err
	}
	if p.MaxSentences == 0 {
		p.MaxSentences = 3
	}
	if p.MaxSentences < 1 || p.MaxSentences > 20 {
		return nil, base.Invalidf("max_sentences", "must be between 1 and 20, got %d", p.MaxSentences)
	}
	if err := p.setLLM(req.Model, req.Params, req.History, s); err != nil {
		return nil, err
	}
	switch Method(req.Method) {
	case "":
		p.Method = MethodExtractive
		if p.LLM.On() {
			p.Method = MethodLLM
		}
	case MethodExtractive:
		p.Method = MethodExtractive
	case MethodLLM:
		if !p.LLM.On() {
			return nil, base.Invalidf("method", "\"llm\" needs a language model, and none is configured (set --llm-url and --llm-model, or QUARRY_LLM_URL and QUARRY_LLM_MODEL)")
		}
		p.Method = MethodLLM
	default:
		return nil, base.Invalidf("method", "unknown method %q (want extractive or llm)", req.Method)
	}
	if err := p.setRewrite(req.Rewrite, req.Expansions); err != nil {
		return nil, err
	}
	var err error
	if p.Mode, err = resolveMode(req.Mode, &caps); err != nil {
		return nil, err
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, base.Invalidf("filter", "%v", err)
	}
	p.Scope = store.Scope{Tenant: req.Tenant, Principals: req.Principals, Filter: req.Filter}
	p.Rerank = caps.Reranker
	if err := p.setTools(req); err != nil {
		return nil, err
	}
	p.size()
	return p, nil
}

// setTools checks the caller's tools and tool turns (the server checks
// them in detail, naming its own fields; these are the engine's bounds).
func (p *Plan) setTools(req *AskRequest) error {
	if len(req.Tools) == 0 && len(req.ToolTurns) == 0 {
		return nil
	}
	if p.Method != MethodLLM {
		return base.Invalidf("tools", "need the llm method and a language model")
	}
	if len(req.Tools) > MaxTools {
		return base.Invalidf("tools", "has %d tools; the limit is %d", len(req.Tools), MaxTools)
	}
	for i, t := range req.Tools {
		if t.Name == "" {
			return base.Invalidf(fmt.Sprintf("tools[%d].name", i), "is required")
		}
	}
	if len(req.ToolTurns) > MaxHistory {
		return base.Invalidf("tool_turns", "has %d messages; the limit is %d", len(req.ToolTurns), MaxHistory)
	}
	size := 0
	for i, m := range req.ToolTurns {
		if m.Role != "assistant" && m.Role != "tool" {
			return base.Invalidf(fmt.Sprintf("tool_turns[%d].role", i), "must be assistant or tool, got %q", m.Role)
		}
		size += len(m.Content)
		for _, c := range m.ToolCalls {
			size += len(c.Arguments)
		}
	}
	if size > MaxHistoryBytes {
		return base.TooLarge("tool_turns", "is %d bytes; the limit is %d", size, MaxHistoryBytes)
	}
	p.Tools, p.ToolChoice, p.ToolTurns = req.Tools, req.ToolChoice, req.ToolTurns
	p.NoCache = true // an answer to this exchange is not an answer to the question
	return nil
}

// setLLM validates the request's model fields and merges them over s.
func (p *Plan) setLLM(model string, params llm.Params, history []Message, s llm.Settings) error {
	if len(model) > 256 || !utf8.ValidString(model) {
		return base.Invalidf("model", "must be a UTF-8 name of at most 256 bytes")
	}
	if err := CheckParams("params", params); err != nil {
		return err
	}
	if len(history) > MaxHistory {
		return base.Invalidf("history", "has %d messages; the limit is %d", len(history), MaxHistory)
	}
	size := 0
	p.History = make([]llm.Message, len(history))
	for i, m := range history {
		switch m.Role {
		case "user", "assistant", "system":
		default:
			return base.Invalidf(fmt.Sprintf("history[%d].role", i), "must be user, assistant or system, got %q", m.Role)
		}
		if !utf8.ValidString(m.Content) {
			return base.Invalidf(fmt.Sprintf("history[%d].content", i), "is not valid UTF-8")
		}
		size += len(m.Content)
		p.History[i] = llm.Message{Role: m.Role, Content: m.Content}
	}
	if size > MaxHistoryBytes {
		return base.TooLarge("history", "is %d bytes; the limit is %d", size, MaxHistoryBytes)
	}
	if model != "" {
		s.Model = model
	}
	s.Params = s.Params.Over(params).Clone()
	s.EnsureDefaults(generate.DefaultContextWindow, generate.DefaultAnswerTokens)
	p.LLM = s
	return nil
}

func (p *Plan) setRewrite(method string, expansions int) error {
	p.Rewrite, p.Expansions = Rewrite(method), expansions
	switch p.Rewrite {
	case RewriteNone:
		if expansions != 0 {
			return base.Invalidf("expansions", "is set but rewrite is not \"multi\"")
		}
	case RewriteMulti, RewriteHyDE:
		if !p.LLM.On() {
			return base.Invalidf("rewrite", "%q needs a language model, and none is configured", method)
		}
		if p.Rewrite == RewriteMulti && p.Expansions == 0 {
			p.Expansions = 3
		}
		if p.Expansions < 0 || p.Expansions > rewrite.MaxExpansions || (p.Rewrite == RewriteHyDE && p.Expansions != 0) {
			return base.Invalidf("expansions", "must be between 1 and %d with rewrite \"multi\", got %d", rewrite.MaxExpansions, p.Expansions)
		}
	default:
		return base.Invalidf("rewrite", "unknown rewrite %q (want multi or hyde)", method)
	}
	return nil
}

// CheckParams checks p with llm.Params.Validate and names the field under
// prefix ("params.temperature").
func CheckParams(prefix string, p llm.Params) error {
	if p.MaxTokens < 0 {
		return base.Invalidf(prefix+".max_tokens", "must be between 1 and %d, got %d", llm.MaxMaxTokens, p.MaxTokens)
	}
	err := p.Validate()
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), llm.ErrInvalidParams.Error()+": ")
	field, rest, _ := strings.Cut(msg, " ")
	return base.Invalidf(prefix+"."+field, "%s", strings.TrimSpace(rest))
}

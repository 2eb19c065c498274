package quarry

import (
	"context"
	"errors"
	"sync"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/guard"
	"github.com/quarry-rag/quarry/internal/guardstage"
	"github.com/quarry-rag/quarry/internal/query"
)

// GuardConfig sets the prompt-injection guardrails (see docs/security.md,
// "Guardrails"). Empty fields take the engine's (Options.Guard), then the
// defaults.
type GuardConfig struct {
	// Question is what happens to a question scored as a prompt injection
	// before retrieval: "flag" (default: answered, marked guard.flagged in
	// the response), "block" (refused: HTTP 400 prompt_injection with the
	// score) or "off".
	Question string `json:"question,omitempty"`
	// Chunks is what happens to a retrieved chunk scored as an injection
	// when it would enter a language model's prompt: "exclude" (default:
	// left out), "flag" (kept; the output rails watch for its
	// instructions) or "off". Search results always keep such chunks.
	Chunks string `json:"chunks,omitempty"`
	// Threshold is the score, in (0, 1), at and above which a text is an
	// injection. Default 0: the detector's (0.5).
	Threshold float64 `json:"threshold,omitempty"`
}

// validate reports the first invalid field under prefix ("guard.").
func (g *GuardConfig) validate(prefix string) error {
	if g.Question != "" {
		if _, err := guard.ParseQuestionPolicy(g.Question); err != nil {
			return invalidf(prefix+"question", "must be block, flag or off, got %q", g.Question)
		}
	}
	if g.Chunks != "" {
		if _, err := guard.ParseChunkPolicy(g.Chunks); err != nil {
			return invalidf(prefix+"chunks", "must be exclude, flag or off, got %q", g.Chunks)
		}
	}
	if g.Threshold != 0 && !(g.Threshold > 0 && g.Threshold < 1) {
		return invalidf(prefix+"threshold", "must be in (0, 1), got %v", g.Threshold)
	}
	return nil
}

// merged is g with its empty fields taken from def.
func (g GuardConfig) merged(def GuardConfig) GuardConfig {
	if g.Question == "" {
		g.Question = def.Question
	}
	if g.Chunks == "" {
		g.Chunks = def.Chunks
	}
	if g.Threshold == 0 {
		g.Threshold = def.Threshold
	}
	return g
}

// localGuard is the engine's own detector (its own multilingual-e5-small),
// opened on first use by a collection that does not embed with that
// encoder, and closed with the engine.
type localGuard struct {
	mu     sync.Mutex
	det    *guard.Detector
	err    error
	tried  bool
	closed bool
	open   func(*guard.Options) (*guard.Detector, error) // guard.OpenLocal; tests replace it
}

func (l *localGuard) get() (*guard.Detector, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	if !l.tried {
		l.tried = true
		open := l.open
		if open == nil {
			open = guard.OpenLocal
		}
		l.det, l.err = open(nil)
	}
	return l.det, l.err
}

func (l *localGuard) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.det != nil {
		err := l.det.Close()
		l.det = nil
		return err
	}
	return nil
}

// guardStages builds the collection's guard stages.
func (c *Collection) guardStages() *guardstage.Stages {
	e := c.engine
	g := c.cfg.Guard.merged(e.opts.Guard)
	qp, _ := guard.ParseQuestionPolicy(g.Question) // validated; "" is flag
	cp, _ := guard.ParseChunkPolicy(g.Chunks)      // validated; "" is exclude
	var (
		mu     sync.Mutex
		shared *guard.Detector
		emb    embed.Embedder
	)
	// sharedDet is the detector on the collection's own model when that
	// is the detector's encoder: no second copy, and the vectors the
	// pipeline computes (the question's, the chunks') serve both.
	sharedDet := func() (*guard.Detector, embed.Embedder) {
		if c.cfg.Embedding == "" {
			return nil, nil
		}
		ce, err := c.embedder() // the engine's cached model, looked up each time
		if err != nil || ce == nil {
			return nil, nil
		}
		mu.Lock()
		defer mu.Unlock()
		if ce != emb { // first use, or the engine's model was replaced
			shared, emb = nil, ce
			if d, err := guard.New(ce, nil); err == nil {
				shared = d
			}
		}
		if shared == nil {
			return nil, nil
		}
		return shared, emb
	}
	detector := func() (*guard.Detector, embed.Embedder, error) {
		if d, ce := sharedDet(); d != nil {
			return d, ce, nil
		}
		d, err := e.guardLocal.get()
		return d, nil, err
	}
	return guardstage.New(guardstage.Config{Question: qp, Chunks: cp, Threshold: g.Threshold,
		Detector: detector, Shared: sharedDet, Logger: e.opts.Logger.With("collection", c.name)})
}

// ErrPromptInjection is the class of a question refused by the guard
// (question policy block); errors.As a *PromptInjectionError for its score.
var ErrPromptInjection = guard.ErrBlocked

// PromptInjectionError is a refused question's score and the threshold.
type PromptInjectionError = guard.BlockedError

// ErrGuardUnavailable: the question policy is block and the detector's
// model could not be loaded, so no question is admitted.
var ErrGuardUnavailable = guardstage.ErrUnavailable

// GuardReport and GuardIssue are what the guardrails found in a request
// (Answer.Guard, SearchResponse.Guard).
type (
	GuardReport = query.GuardReport
	GuardIssue  = query.GuardIssue
)

// ScreenInjection scores texts for prompt injection with the engine's own
// detector (multilingual-e5-small and its head, loaded on first use) and
// returns the scores and the detector's threshold: the screen the agents
// run tool results through before a model reads them. Where the model
// cannot be loaded the rules stand in (score 1 for a text they match, 0
// otherwise), so a missing model never lets an obvious instruction
// through nor fails the run.
func (e *Engine) ScreenInjection(ctx context.Context, texts []string) ([]float64, float64, error) {
	d, err := e.guardLocal.get()
	if errors.Is(err, ErrClosed) {
		return nil, 0, err
	}
	if err != nil {
		out := make([]float64, len(texts))
		for i, t := range texts {
			if guard.RulesMatch(t) {
				out[i] = 1
			}
		}
		return out, 0.5, nil
	}
	res, err := d.CheckMany(ctx, texts, embed.Passage)
	if err != nil {
		return nil, 0, err
	}
	out := make([]float64, len(res))
	for i, r := range res {
		out[i] = r.Score
	}
	return out, d.Threshold(), nil
}

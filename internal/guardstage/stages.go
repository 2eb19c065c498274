package guardstage

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/guard"
	"github.com/quarry-rag/quarry/internal/query"
)

// ErrUnavailable: the detector could not be loaded and the question
// policy is block, so no question can be admitted.
var ErrUnavailable = errors.New("the prompt-injection guard is unavailable")

// Detector resolves the detector and, when it shares the collection's
// embedder, that embedder (nil otherwise): the question is then embedded
// once for both the guard and retrieval.
type Detector func() (det *guard.Detector, shared embed.Embedder, err error)

// Config configures the stages of one collection.
type Config struct {
	Question  guard.QuestionPolicy
	Chunks    guard.ChunkPolicy
	Threshold float64 // 0: the detector's
	Detector  Detector
	// Shared returns the detector built on the collection's own embedder
	// when that is the detector's encoder, else nil (chunks are then not
	// scored at ingest: a second encoder pass over every chunk would cost
	// more than the ingest itself; see ScoreIngest).
	Shared func() (*guard.Detector, embed.Embedder)
	Logger *slog.Logger
}

// Stages holds a collection's guard stages; see the package doc.
type Stages struct {
	cfg    Config
	warned sync.Once

	mu     sync.Mutex
	scores map[uint64]float64 // chunk key → score, bounded by maxMemo
}

// maxMemo bounds the table of chunk scores computed at query time.
const maxMemo = 8192

// New returns the stages for cfg.
func New(cfg Config) *Stages {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Stages{cfg: cfg, scores: map[uint64]float64{}}
}

// Hooks installs the stages into h (keeping h.Tracer).
func (s *Stages) Hooks(h *query.Hooks) {
	h.Guard, h.Context, h.Answer = s, s, s
}

func (s *Stages) detector() (*guard.Detector, embed.Embedder, error) {
	d, shared, err := s.cfg.Detector()
	if err != nil {
		s.warned.Do(func() {
			s.cfg.Logger.Warn("prompt-injection guard: the detector model cannot be loaded; questions are checked by rules only (policy flag) or refused (policy block)", "err", err)
		})
	}
	return d, shared, err
}

func (s *Stages) threshold(d *guard.Detector) float64 {
	if s.cfg.Threshold > 0 {
		return s.cfg.Threshold
	}
	if d != nil {
		return d.Threshold()
	}
	return 0.5
}

// hasShared reports whether the collection embeds with the detector's
// encoder, so a question's vector serves both retrieval and the guard.
func (s *Stages) hasShared() bool {
	if s.cfg.Shared == nil {
		return false
	}
	d, _ := s.cfg.Shared()
	return d != nil
}

// CheckQuestion scores plan.Query (Hooks.Guard).
func (s *Stages) CheckQuestion(ctx context.Context, plan *query.Plan) error {
	if s.cfg.Question == guard.QuestionOff {
		return nil
	}
	// The user's earlier turns are scored with the question: an
	// instruction planted in the history reaches the model through the
	// condensed question.
	var turns []string
	for _, m := range plan.History {
		if m.Role == "user" && strings.TrimSpace(m.Content) != "" {
			turns = append(turns, m.Content)
		}
	}
	rulesOnly := func() {
		for _, t := range append([]string{plan.Query}, turns...) {
			if rulesMatch(t) {
				plan.Guard = &query.GuardReport{Flagged: true, Score: 1, RulesOnly: true}
				return
			}
		}
	}
	if s.cfg.Question != guard.QuestionBlock && !s.hasShared() {
		// A collection that does not embed with the detector's encoder:
		// under flag, the rules (microseconds) instead of an encoder pass
		// (~4–20 ms, more than the rest of a search or an ask's own
		// overhead) — and without loading the detector's own model (a
		// second or more). Every check under block runs the detector.
		rulesOnly()
		return nil
	}
	d, shared, err := s.detector()
	if err != nil {
		if s.cfg.Question == guard.QuestionBlock {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		rulesOnly()
		return nil
	}
	var res []guard.Result
	if shared != nil {
		vecs, err := shared.Embed(ctx, []string{plan.Query}, embed.Query)
		if err != nil {
			return fmt.Errorf("%w: embedding the question: %w", base.ErrUpstream, err)
		}
		plan.QueryVector = vecs[0]
		res, err = d.ScoreVectors(ctx, []string{plan.Query}, vecs, embed.Query)
		if err != nil {
			return err
		}
	} else if res, err = d.CheckMany(ctx, []string{plan.Query}, embed.Query); err != nil {
		return err
	}
	r := res[0]
	if len(turns) > 0 {
		tr, err := d.CheckMany(ctx, turns, embed.Query)
		if err != nil {
			return err
		}
		for _, t := range tr {
			if t.Score > r.Score {
				r = t
			}
		}
	}
	th := s.threshold(d)
	r.Injection = r.Score >= th
	switch s.cfg.Question.Question(r) {
	case guard.Block:
		return &guard.BlockedError{Score: r.Score, Threshold: th}
	case guard.Flag:
		plan.Guard = &query.GuardReport{Flagged: true, Score: r.Score}
	}
	return nil
}

// rulesMatch is the fallback without a model.
func rulesMatch(text string) bool { return guard.RulesMatch(text) }

func chunkKey(h *base.Hit) uint64 {
	f := fnv.New64a()
	f.Write([]byte(h.ChunkID))
	f.Write([]byte{0})
	f.Write([]byte(h.Text))
	return f.Sum64()
}

// chunkScores returns the injection score of each hit, computing the
// ones not yet known (one batched detector call).
func (s *Stages) chunkScores(ctx context.Context, d *guard.Detector, shared embed.Embedder, hits []base.Hit) ([]float64, error) {
	out := make([]float64, len(hits))
	var todo []int
	s.mu.Lock()
	for i := range hits {
		if hits[i].Injection != nil { // scored at ingest
			out[i] = *hits[i].Injection
		} else if v, ok := s.scores[chunkKey(&hits[i])]; ok {
			out[i] = v
		} else {
			todo = append(todo, i)
		}
	}
	s.mu.Unlock()
	if len(todo) == 0 {
		return out, nil
	}
	texts := make([]string, len(todo))
	withVecs := shared != nil
	vecs := make([][]float32, len(todo))
	for j, i := range todo {
		texts[j] = hits[i].Text
		vecs[j] = hits[i].Vector
		if hits[i].Vector == nil {
			withVecs = false
		}
	}
	var res []guard.Result
	var err error
	if withVecs {
		res, err = d.ScoreVectors(ctx, texts, vecs, embed.Passage)
	} else {
		res, err = d.CheckMany(ctx, texts, embed.Passage)
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.scores)+len(todo) > maxMemo {
		clear(s.scores)
	}
	for j, i := range todo {
		out[i] = res[j].Score
		s.scores[chunkKey(&hits[i])] = res[j].Score
	}
	s.mu.Unlock()
	return out, nil
}

// FilterContext drops flagged chunks from an LLM prompt under policy
// exclude (Hooks.Context).
func (s *Stages) FilterContext(ctx context.Context, _ string, hits []base.Hit) ([]base.Hit, error) {
	if s.cfg.Chunks == guard.ChunkOff || len(hits) == 0 {
		return hits, nil
	}
	d, shared, err := s.detector()
	if err != nil {
		// Without a model, chunks are screened by the rules alone.
		kept := hits[:0:0]
		for _, h := range hits {
			if s.cfg.Chunks != guard.ChunkExclude || !rulesMatch(h.Text) {
				kept = append(kept, h)
			}
		}
		return kept, nil
	}
	scores, err := s.chunkScores(ctx, d, shared, hits)
	if err != nil {
		return nil, err
	}
	th := s.threshold(d)
	kept := make([]base.Hit, 0, len(hits))
	for i, h := range hits {
		if s.cfg.Chunks.ForLLM(scores[i], th) == guard.Exclude {
			s.cfg.Logger.Info("prompt-injection guard: chunk excluded from the prompt", "chunk", h.ChunkID, "score", scores[i])
			continue
		}
		kept = append(kept, h)
	}
	return kept, nil
}

// CheckAnswer runs the output rails on an LLM answer (Hooks.Answer).
func (s *Stages) CheckAnswer(ctx context.Context, question string, ans *query.Answer) error {
	if ans.Method != string(query.MethodLLM) || ans.Answer == "" {
		return nil
	}
	in := guard.AnswerInput{Answer: ans.Answer}
	for _, h := range ans.Sources {
		in.Sources = append(in.Sources, h.Text)
		if h.Title != "" {
			in.Sources = append(in.Sources, h.Title)
		}
	}
	in.Sources = append(in.Sources, question)
	if ans.Guard != nil && ans.Guard.Flagged {
		in.Flagged = append(in.Flagged, question)
	}
	if s.cfg.Chunks != guard.ChunkOff {
		if d, shared, err := s.detector(); err == nil {
			scores, err := s.chunkScores(ctx, d, shared, ans.Sources)
			if err != nil {
				return err
			}
			for i, sc := range scores {
				if sc >= s.threshold(d) {
					in.Flagged = append(in.Flagged, ans.Sources[i].Text)
				}
			}
		}
	}
	v := guard.CheckAnswer(in)
	if !v.Flagged && !v.Withheld {
		return nil
	}
	if ans.Guard == nil {
		ans.Guard = &query.GuardReport{}
	}
	for _, is := range v.Issues {
		ans.Guard.AnswerIssues = append(ans.Guard.AnswerIssues, query.GuardIssue{Kind: is.Kind.String(), Value: is.Value})
	}
	if v.Withheld {
		ans.Guard.Withheld, ans.Guard.Reason = true, v.Reason
		ans.Answer, ans.Citations, ans.Grounded = v.Reason, []query.Citation{}, false
	}
	return nil
}

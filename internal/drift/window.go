package drift

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Recorder is what the query pipeline calls to feed drift monitoring.
// Implementations are safe for concurrent use and never block on I/O.
type Recorder interface {
	// ObserveQuery records one search: the query's embedding (nil for a
	// lexical-only search), the fused top-1 score (ignored when empty) and
	// whether retrieval returned nothing. vec is copied.
	ObserveQuery(vec []float32, top1 float64, empty bool)
	// ObserveAnswer records one generated answer: whether it abstained
	// (said it does not know) and whether it was grounded (cites at least
	// one retrieved source).
	ObserveAnswer(abstained, grounded bool)
	// ObserveGuard records one prompt-injection guard check and whether it
	// flagged the input.
	ObserveGuard(flagged bool)
	// ObserveFeedback records one user rating: thumbs up or down.
	ObserveFeedback(up bool)
}

// WindowOptions bound a Window.
type WindowOptions struct {
	// MaxEmbeddings bounds the reservoir of query embeddings. Default 256.
	MaxEmbeddings int
	// MaxScores bounds the reservoir of top-1 scores. Default 2048.
	MaxScores int
	// Seed seeds the reservoir sampling, for reproducible windows.
	Seed uint64
}

func (o *WindowOptions) ensureDefaults() {
	if o.MaxEmbeddings <= 0 {
		o.MaxEmbeddings = 256
	}
	if o.MaxScores <= 0 {
		o.MaxScores = 2048
	}
	o.MaxEmbeddings = min(o.MaxEmbeddings, maxEmbeddings)
	o.MaxScores = min(o.MaxScores, maxScores)
}

// Window is a bounded sample of one period of traffic. It implements
// Recorder. The zero Window is not usable; call NewWindow.
type Window struct {
	opts WindowOptions

	// mu protects the following fields.
	mu struct {
		sync.Mutex
		rng       *rand.Rand
		start     time.Time
		last      time.Time
		vecSeen   int64
		scoreSeen int64
		s         Sample
	}
}

var _ Recorder = (*Window)(nil)

// NewWindow returns an empty window opened now.
func NewWindow(opts WindowOptions) *Window {
	opts.ensureDefaults()
	w := &Window{opts: opts}
	w.mu.rng = rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15))
	w.mu.start = time.Now()
	return w
}

// ObserveQuery implements Recorder.
func (w *Window) ObserveQuery(vec []float32, top1 float64, empty bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.touchLocked()
	s := &w.mu.s
	s.Counts.Queries++
	if empty {
		s.Counts.Empty++
	} else if finite(top1) {
		w.mu.scoreSeen++
		if i := reservoirSlot(w.mu.rng, w.mu.scoreSeen, w.opts.MaxScores); i == len(s.Scores) {
			s.Scores = append(s.Scores, top1)
		} else if i >= 0 {
			s.Scores[i] = top1
		}
	}
	if len(vec) == 0 || (s.Dim != 0 && len(vec) != s.Dim) || !finiteVec(vec) {
		return // no embedding, or one from another model: not comparable
	}
	s.Dim = len(vec)
	w.mu.vecSeen++
	i := reservoirSlot(w.mu.rng, w.mu.vecSeen, w.opts.MaxEmbeddings)
	if i < 0 {
		return
	}
	c := append([]float32(nil), vec...)
	if i == len(s.Embeddings) {
		s.Embeddings = append(s.Embeddings, c)
	} else {
		s.Embeddings[i] = c
	}
}

// ObserveAnswer implements Recorder.
func (w *Window) ObserveAnswer(abstained, grounded bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.touchLocked()
	c := &w.mu.s.Counts
	c.Answers++
	if abstained {
		c.Abstained++
	}
	if grounded {
		c.Grounded++
	}
}

// ObserveGuard implements Recorder.
func (w *Window) ObserveGuard(flagged bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.touchLocked()
	w.mu.s.Counts.Guarded++
	if flagged {
		w.mu.s.Counts.Flagged++
	}
}

// ObserveFeedback implements Recorder.
func (w *Window) ObserveFeedback(up bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.touchLocked()
	w.mu.s.Counts.Feedback++
	if up {
		w.mu.s.Counts.Up++
	}
}

func (w *Window) touchLocked() { w.mu.last = time.Now() }

// Started is when the window was opened.
func (w *Window) Started() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mu.start
}

// Sample returns a copy of the window's contents.
func (w *Window) Sample() *Sample {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.mu.s
	s.Version = sampleVersion
	s.Start = w.mu.start.UTC()
	s.End = w.mu.last.UTC()
	if s.End.IsZero() || s.End.Before(s.Start) {
		s.End = s.Start
	}
	s.Embeddings = make([][]float32, len(w.mu.s.Embeddings))
	for i, v := range w.mu.s.Embeddings {
		s.Embeddings[i] = append([]float32(nil), v...)
	}
	s.Scores = append([]float64(nil), w.mu.s.Scores...)
	return &s
}

// reservoirSlot is algorithm R: for the seen-th item (1-based) of a
// reservoir of capacity k, the slot to write (len == seen-1 appends while
// filling) or -1 to drop it.
func reservoirSlot(rng *rand.Rand, seen int64, k int) int {
	if seen <= int64(k) {
		return int(seen - 1)
	}
	if j := rng.Int64N(seen); j < int64(k) {
		return int(j)
	}
	return -1
}

package drift

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MonitorOptions configure a Monitor. The zero value is valid.
type MonitorOptions struct {
	// Window bounds each window's samples.
	Window WindowOptions
	// Period is how long a current window stays open before it is closed
	// and a new one opened. Default 1h. The first closed window becomes
	// the baseline unless one was set with SetBaseline.
	Period time.Duration
	// Compare tunes the tests.
	Compare Options
	// Registerer receives the drift gauges when not nil.
	Registerer prometheus.Registerer
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// Monitor keeps, per collection, a baseline sample and a rolling current
// window, and compares them on demand. It is safe for concurrent use.
type Monitor struct {
	opts   MonitorOptions
	gauges *Gauges

	// mu protects cols.
	mu   sync.Mutex
	cols map[string]*collectionWindows
}

type collectionWindows struct {
	baseline *Sample
	previous *Sample // the last closed window
	current  *Window
	opened   time.Time
}

// NewMonitor returns a Monitor with no collections yet.
func NewMonitor(opts MonitorOptions) *Monitor {
	if opts.Period <= 0 {
		opts.Period = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Monitor{opts: opts, gauges: NewGauges(opts.Registerer), cols: map[string]*collectionWindows{}}
}

// Recorder returns the recorder for collection c. Each call observes into
// the window open at that moment.
func (m *Monitor) Recorder(c string) Recorder { return collectionRecorder{m, c} }

// SetBaseline pins collection c's baseline (from a saved window, or after
// a deliberate change such as a new embedder or corpus).
func (m *Monitor) SetBaseline(c string, s *Sample) error {
	if err := s.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.windowsLocked(c).baseline = s
	return nil
}

// Windows returns copies of collection c's baseline (nil until one is
// set or the first window closes) and current window.
func (m *Monitor) Windows(c string) (baseline, current *Sample) {
	m.mu.Lock()
	cw := m.windowsLocked(c)
	baseline, w := cw.baseline, cw.current
	m.mu.Unlock()
	return baseline, w.Sample()
}

// Report compares collection c's current window (or the last closed one,
// when the current holds fewer than MinEmbeddings queries) with its
// baseline, and updates the gauges. Without a baseline yet, the verdict
// is TooFew.
func (m *Monitor) Report(c string) *Report {
	m.mu.Lock()
	cw := m.windowsLocked(c)
	base, prev, w := cw.baseline, cw.previous, cw.current
	m.mu.Unlock()
	if base == nil {
		rep := &Report{Verdict: TooFew, Summary: "No verdict: no baseline yet. The first window becomes the baseline when it closes; or set one from a saved window.", Results: []Result{}}
		for _, st := range Stats {
			rep.Results = append(rep.Results, Result{Stat: st, Verdict: TooFew, PValue: 1, Message: "no verdict: no baseline yet"})
		}
		return rep
	}
	cur := w.Sample()
	o := m.opts.Compare
	o.ensureDefaults()
	if len(cur.Embeddings) < o.MinEmbeddings && prev != nil && prev != base {
		cur = prev
	}
	rep := Compare(base, cur, m.opts.Compare)
	m.gauges.Set(c, rep)
	return rep
}

// windowsLocked returns c's windows, creating them or rolling the current
// one over as needed.
func (m *Monitor) windowsLocked(c string) *collectionWindows {
	now := m.opts.Now()
	cw := m.cols[c]
	if cw == nil {
		cw = &collectionWindows{current: NewWindow(m.opts.Window), opened: now}
		m.cols[c] = cw
	}
	if now.Sub(cw.opened) >= m.opts.Period {
		closed := cw.current.Sample()
		cw.previous = closed
		if cw.baseline == nil {
			cw.baseline = closed
		}
		wo := m.opts.Window
		wo.Seed += uint64(now.UnixNano())
		cw.current, cw.opened = NewWindow(wo), now
	}
	return cw
}

func (m *Monitor) window(c string) *Window {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.windowsLocked(c).current
}

type collectionRecorder struct {
	m *Monitor
	c string
}

func (r collectionRecorder) ObserveQuery(vec []float32, top1 float64, empty bool) {
	r.m.window(r.c).ObserveQuery(vec, top1, empty)
}
func (r collectionRecorder) ObserveAnswer(abstained, grounded bool) {
	r.m.window(r.c).ObserveAnswer(abstained, grounded)
}
func (r collectionRecorder) ObserveGuard(flagged bool) { r.m.window(r.c).ObserveGuard(flagged) }
func (r collectionRecorder) ObserveFeedback(up bool)   { r.m.window(r.c).ObserveFeedback(up) }

// Gauges returns the monitor's Prometheus gauges.
func (m *Monitor) Gauges() *Gauges { return m.gauges }

package server

// Evaluation jobs: POST /v1/evals runs internal/ragbench's Evaluate (what
// `quarry eval rag` runs) in the background on a dataset inside the
// operator's dataset root, one job at a time; GET /v1/evals/{id} shows its
// progress and, when done, the report with per-question rows; DELETE
// cancels a job or removes a finished one. Jobs are kept in
// EvalOptions.Dir, one JSON file each, written atomically, so results
// survive a restart (a job the restart interrupted is marked failed).
// Admin only (guard.go): a run reads files on the server and asks every
// question without a tenant scope.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ragbench"
	"github.com/quarry-rag/quarry/internal/vfs"
)

// EvalOptions enable the evaluation endpoints (Options.Evals).
type EvalOptions struct {
	// DatasetRoot is the folder clients name datasets in, by a relative
	// name ("xquad/en", "qa/questions.jsonl"); nothing outside it can be
	// read, symbolic links included. Required.
	DatasetRoot string
	// Dir keeps the jobs, one JSON file each (the data directory's
	// evals/). Required.
	Dir string
	// Scratch opens an empty engine in a folder, into which a dataset
	// folder's corpus is indexed for the run (the CLI's engine options, the
	// language model included). Default: quarry.Open with no options.
	Scratch func(dir string) (*quarry.Engine, error)
	// Judge is the judge model of "judge": true (URL, Model, APIKey,
	// Timeout). Default nil: judged metrics are refused.
	Judge *ragbench.JudgeConfig
	// MaxJobs bounds the jobs kept; the oldest finished one is removed to
	// make room. Default 50.
	MaxJobs int
	// MaxActive bounds the jobs queued or running. Default 4.
	MaxActive int
	// MaxQuestions bounds a job's "limit". Default 1000.
	MaxQuestions int
}

// evalStatus is a job's state.
type evalStatus string

const (
	evalQueued     evalStatus = "queued"
	evalRunning    evalStatus = "running"
	evalCancelling evalStatus = "cancelling"
	evalDone       evalStatus = "done"
	evalFailed     evalStatus = "failed"
	evalCancelled  evalStatus = "cancelled"
)

func (s evalStatus) finished() bool {
	return s == evalDone || s == evalFailed || s == evalCancelled
}

// evalPhase is what a running job is doing.
type evalPhase string

const (
	phaseIndexing evalPhase = "indexing"
	phaseAsking   evalPhase = "asking"
)

// Defaults of an evaluation request.
const (
	defaultEvalLimit   = 100
	defaultEvalMaxDrop = 0.02
	maxDatasetName     = 512
	maxListedDatasets  = 1000
	maxWalkedEntries   = 50_000
)

// evalRequest is the body of POST /v1/evals.
type evalRequest struct {
	Dataset      string            `json:"dataset"`
	Collection   string            `json:"collection,omitempty"`
	Method       string            `json:"method,omitempty"`
	Mode         string            `json:"mode,omitempty"`
	K            int               `json:"k,omitempty"`
	MaxSentences int               `json:"max_sentences,omitempty"`
	Limit        int               `json:"limit,omitempty"`
	Judge        bool              `json:"judge,omitempty"`
	Metrics      []ragbench.Metric `json:"metrics,omitempty"`
	Baseline     string            `json:"baseline,omitempty"`
	MaxDrop      *float64          `json:"max_drop,omitempty"`
}

// evalJob is a job as stored and as sent.
type evalJob struct {
	ID       string      `json:"id"`
	Status   evalStatus  `json:"status"`
	Phase    evalPhase   `json:"phase,omitempty"`
	Request  evalRequest `json:"request"`
	Kind     datasetKind `json:"kind"`
	Created  time.Time   `json:"created"`
	Started  *time.Time  `json:"started,omitempty"`
	Finished *time.Time  `json:"finished,omitempty"`
	// Done of Total questions asked; Indexed corpus documents (folders).
	Done    int    `json:"done"`
	Total   int    `json:"total"`
	Indexed int    `json:"indexed"`
	Error   string `json:"error,omitempty"`
	// Regressions are the metrics that dropped against Request.Baseline
	// by more than its max_drop (ragbench.Compare); BaselineError says why
	// they could not be compared.
	Regressions   []string         `json:"regressions,omitempty"`
	BaselineError string           `json:"baseline_error,omitempty"`
	Report        *ragbench.Report `json:"report,omitempty"`

	cancel context.CancelFunc
}

// datasetKind is what a dataset name resolves to.
type datasetKind string

const (
	// kindFolder is an XQuAD-style folder: its corpus is indexed for the
	// run, no collection is asked.
	kindFolder datasetKind = "folder"
	// kindQuestions is a JSONL question file asked of a collection.
	kindQuestions datasetKind = "questions"
)

type evalDataset struct {
	Name string      `json:"name"`
	Kind datasetKind `json:"kind"`
}

// evalHub runs and keeps the jobs.
type evalHub struct {
	opts *EvalOptions // nil: evaluation is off
	root string       // DatasetRoot with its symbolic links resolved
	eng  *quarry.Engine
	s    *Server

	mu      sync.Mutex
	jobs    map[string]*evalJob
	queue   []string // queued job ids, oldest first
	running *evalJob
	closed  bool
	wg      sync.WaitGroup // the running job's goroutine
	saveMu  sync.Mutex     // serialises writes of job files
}

func newEvalHub(s *Server, eng *quarry.Engine, o *EvalOptions) *evalHub {
	h := &evalHub{s: s, eng: eng, jobs: map[string]*evalJob{}}
	if o == nil {
		return h
	}
	oc := *o
	setDefault(&oc.MaxJobs, 50)
	setDefault(&oc.MaxActive, 4)
	setDefault(&oc.MaxQuestions, 1000)
	if oc.Scratch == nil {
		oc.Scratch = func(dir string) (*quarry.Engine, error) { return quarry.Open(dir, nil) }
	}
	root, err := filepath.EvalSymlinks(oc.DatasetRoot)
	if err == nil {
		root, err = filepath.Abs(root)
	}
	if err == nil {
		err = os.MkdirAll(oc.Dir, 0o755)
	}
	if err != nil || oc.DatasetRoot == "" || oc.Dir == "" {
		s.log.Error("evaluation disabled: bad dataset root or job folder", "root", oc.DatasetRoot, "dir", oc.Dir, "err", err)
		return h
	}
	h.opts, h.root = &oc, root
	h.load()
	return h
}

func (s *Server) registerEvals() {
	s.evals = newEvalHub(s, s.eng, s.opts.Evals)
	s.handle("GET /v1/evals/datasets", s.listEvalDatasets)
	s.handle("POST /v1/evals", s.startEval)
	s.handle("GET /v1/evals", s.listEvals)
	s.handle("GET /v1/evals/{id}", s.getEval)
	s.handle("DELETE /v1/evals/{id}", s.deleteEval)
}

var errEvalsOff = &apiError{Code: codeNotFound, Message: "evaluation is not enabled on this server: the operator starts it with `quarry serve --eval-datasets DIR`"}

func (h *evalHub) on() error {
	if h.opts == nil {
		return errEvalsOff
	}
	return nil
}

// load reads the stored jobs; one a restart interrupted is marked failed.
func (h *evalHub) load() {
	ents, err := os.ReadDir(h.opts.Dir)
	if err != nil {
		h.s.log.Error("reading evaluation jobs", "dir", h.opts.Dir, "err", err)
		return
	}
	var jobs []*evalJob
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, "quarry-evalrag-") && e.IsDir() {
			os.RemoveAll(filepath.Join(h.opts.Dir, name)) // a scratch engine a crash left behind
			continue
		}
		if !strings.HasSuffix(name, ".json") || !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(h.opts.Dir, name))
		var j evalJob
		if err == nil {
			err = json.Unmarshal(b, &j)
		}
		if err != nil || j.ID+".json" != name {
			h.s.log.Warn("skipping an unreadable evaluation job", "file", name, "err", err)
			continue
		}
		j.Report = summary(j.Report)
		jobs = append(jobs, &j)
	}
	slices.SortFunc(jobs, func(a, b *evalJob) int { return a.Created.Compare(b.Created) })
	for _, j := range jobs {
		if !j.Status.finished() {
			now := time.Now().UTC()
			j.Status, j.Phase, j.Finished = evalFailed, "", &now
			j.Error = "interrupted: the server stopped before this evaluation finished; start it again"
			h.save(j)
		}
		h.jobs[j.ID] = j
	}
	for len(h.jobs) > h.opts.MaxJobs && h.evictOldest() {
	}
}

// save writes j's file atomically. Called without h.mu held.
func (h *evalHub) save(j *evalJob) {
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	h.mu.Lock()
	b, err := json.Marshal(j)
	_, kept := h.jobs[j.ID]
	h.mu.Unlock()
	h.write(j.ID, b, kept, err)
}

// write stores a job's JSON; h.saveMu held. A removed job stays removed.
func (h *evalHub) write(id string, b []byte, kept bool, err error) {
	if err == nil && kept {
		err = vfs.WriteFileAtomic(vfs.Default, filepath.Join(h.opts.Dir, id+".json"), func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		})
	}
	if err != nil {
		h.s.log.Error("saving an evaluation job", "id", id, "err", err)
	}
}

// evictOldest removes the oldest finished job; h.mu held (or no other
// goroutine yet). It reports whether there was one.
func (h *evalHub) evictOldest() bool {
	var old *evalJob
	for _, j := range h.jobs {
		if j.Status.finished() && (old == nil || j.Created.Before(old.Created)) {
			old = j
		}
	}
	if old == nil {
		return false
	}
	delete(h.jobs, old.ID)
	os.Remove(filepath.Join(h.opts.Dir, old.ID+".json"))
	return true
}

// stop cancels the running job and waits for it; queued jobs stay queued
// on disk and are marked interrupted when the server starts again.
func (h *evalHub) stop() {
	h.mu.Lock()
	h.closed = true
	if h.running != nil && h.running.cancel != nil {
		h.running.cancel()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// checkDatasetName refuses anything but a clean relative name.
func checkDatasetName(name string) error {
	switch {
	case name == "":
		return invalid("dataset", "is required: the name of a dataset folder or .jsonl file inside the server's dataset root (GET /v1/evals/datasets lists them)")
	case len(name) > maxDatasetName || !utf8.ValidString(name):
		return invalid("dataset", "must be a UTF-8 name of at most %d bytes", maxDatasetName)
	case strings.ContainsAny(name, "\\\x00:") || strings.HasPrefix(name, "/") || filepath.IsAbs(name):
		return invalid("dataset", "must be a relative name inside the dataset root, not a path or URL")
	case path.Clean(name) != name:
		return invalid("dataset", "must be a clean relative name (no empty, '.' or '..' segments)")
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." || strings.HasPrefix(seg, ".") {
			return invalid("dataset", "must not have '..' or hidden segments")
		}
	}
	return nil
}

// within reports whether p is root or inside it (both cleaned, absolute).
func within(root, p string) bool {
	return p == root || strings.HasPrefix(p, root+string(filepath.Separator))
}

// resolve turns a dataset name into a real path inside the root: the name
// and, for a folder, each file the run reads must not lead outside it
// through a symbolic link. (The operator owns the root; a link swapped in
// between this check and the read is outside the threat model.)
func (h *evalHub) resolve(name string) (string, datasetKind, error) {
	if err := checkDatasetName(name); err != nil {
		return "", "", err
	}
	real, err := filepath.EvalSymlinks(filepath.Join(h.root, filepath.FromSlash(name)))
	if err != nil {
		return "", "", &apiError{Code: codeNotFound, Field: "dataset", Message: fmt.Sprintf("dataset %q is not in the dataset root", name)}
	}
	escape := invalid("dataset", "dataset %q leads outside the dataset root through a symbolic link", name)
	if !within(h.root, real) {
		return "", "", escape
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", "", err
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() || !strings.HasSuffix(name, ".jsonl") {
			return "", "", invalid("dataset", "dataset %q is neither a folder nor a .jsonl question file", name)
		}
		return real, kindQuestions, nil
	}
	for _, f := range []string{"corpus.jsonl", "queries.jsonl", "answers.jsonl", "qrels/test.tsv"} {
		p, err := filepath.EvalSymlinks(filepath.Join(real, filepath.FromSlash(f)))
		if errors.Is(err, fs.ErrNotExist) {
			if f == "qrels/test.tsv" {
				continue
			}
			return "", "", invalid("dataset", "dataset folder %q has no %s (want corpus.jsonl, queries.jsonl, answers.jsonl)", name, f)
		}
		if err != nil {
			return "", "", err
		}
		if !within(h.root, p) {
			return "", "", escape
		}
	}
	return real, kindFolder, nil
}

// datasets lists the root's datasets: folders with corpus, queries and
// answers, and other .jsonl files, a few levels deep; links not followed.
func (h *evalHub) datasets() []evalDataset {
	out := []evalDataset{}
	seen := 0
	filepath.WalkDir(h.root, func(p string, d fs.DirEntry, err error) error {
		if seen++; seen > maxWalkedEntries || len(out) >= maxListedDatasets {
			return filepath.SkipAll // a huge root is listed in part; any name in it can still be run
		}
		if err != nil {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(h.root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || strings.Count(rel, "/") > 4 {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if isFile(filepath.Join(p, "corpus.jsonl")) && isFile(filepath.Join(p, "queries.jsonl")) && isFile(filepath.Join(p, "answers.jsonl")) {
				out = append(out, evalDataset{Name: rel, Kind: kindFolder})
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && strings.HasSuffix(rel, ".jsonl") && checkDatasetName(rel) == nil && looksLikeQuestions(p) {
			out = append(out, evalDataset{Name: rel, Kind: kindQuestions})
		}
		return nil
	})
	return out
}

// looksLikeQuestions reports whether a .jsonl file's first line is an
// object with a "question": corpora, BEIR queries and other JSONL are
// not offered (they could still be named, and would fail with the
// loader's error naming the line).
func looksLikeQuestions(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var first map[string]json.RawMessage
		if json.Unmarshal(line, &first) != nil {
			return false
		}
		_, ok := first["question"]
		return ok
	}
	return false
}

func isFile(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

func (s *Server) listEvalDatasets(w http.ResponseWriter, r *http.Request) error {
	if err := s.evals.on(); err != nil {
		return err
	}
	return s.writeJSON(w, http.StatusOK, map[string]any{"datasets": s.evals.datasets()})
}

// validate checks a request against the server's bounds and fills its
// defaults.
func (h *evalHub) validate(ctx context.Context, in *evalRequest) (string, datasetKind, error) {
	p, kind, err := h.resolve(in.Dataset)
	if err != nil {
		return "", "", err
	}
	if in.Method == "" {
		in.Method = quarry.MethodExtractive
	}
	if in.Limit == 0 {
		in.Limit = min(defaultEvalLimit, h.opts.MaxQuestions)
	}
	if in.K == 0 {
		in.K = 5
	}
	if in.MaxSentences == 0 {
		in.MaxSentences = 1
	}
	if in.MaxDrop == nil {
		d := defaultEvalMaxDrop
		in.MaxDrop = &d
	}
	switch {
	case in.Method != quarry.MethodExtractive && in.Method != quarry.MethodLLM:
		return "", "", invalid("method", "must be %q or %q", quarry.MethodExtractive, quarry.MethodLLM)
	case in.Mode != "" && in.Mode != quarry.ModeBM25 && in.Mode != quarry.ModeDense && in.Mode != quarry.ModeHybrid:
		return "", "", invalid("mode", "must be bm25, dense or hybrid")
	case in.K < 1 || in.K > quarry.MaxK:
		return "", "", invalid("k", "must be between 1 and %d", quarry.MaxK)
	case in.MaxSentences < 1 || in.MaxSentences > 20:
		return "", "", invalid("max_sentences", "must be between 1 and 20")
	case in.Limit < 1 || in.Limit > h.opts.MaxQuestions:
		return "", "", invalid("limit", "must be between 1 and %d (this server's bound on questions per evaluation)", h.opts.MaxQuestions)
	case !(*in.MaxDrop >= 0 && *in.MaxDrop <= 1):
		return "", "", invalid("max_drop", "must be between 0 and 1")
	case in.Judge && h.opts.Judge == nil:
		return "", "", invalid("judge", "this server has no judge model: the operator sets one with quarry serve --llm-url and --llm-model")
	case len(in.Metrics) > len(ragbench.AllMetrics):
		return "", "", invalid("metrics", "at most %d metrics", len(ragbench.AllMetrics))
	}
	for i, m := range in.Metrics {
		if !slices.Contains(ragbench.AllMetrics, m) {
			return "", "", invalid(fmt.Sprintf("metrics[%d]", i), "unknown metric %q", m)
		}
		if judged(m) && !in.Judge {
			return "", "", invalid(fmt.Sprintf("metrics[%d]", i), "%s needs \"judge\": true", m)
		}
	}
	if kind == kindQuestions {
		if in.Collection == "" {
			return "", "", invalid("collection", "is required: %q is a question file, asked of a collection", in.Dataset)
		}
		if _, err := h.eng.Collection(ctx, in.Collection); err != nil {
			return "", "", withField(err, "collection")
		}
	} else {
		in.Collection = "" // a folder brings its own corpus
	}
	if in.Baseline != "" {
		h.mu.Lock()
		b, ok := h.jobs[in.Baseline]
		h.mu.Unlock()
		if !ok {
			return "", "", &apiError{Code: codeNotFound, Field: "baseline", Message: fmt.Sprintf("no evaluation %q to compare with", in.Baseline)}
		}
		if b.Report == nil {
			return "", "", invalid("baseline", "evaluation %q has no results to compare with", in.Baseline)
		}
	}
	return p, kind, nil
}

func withField(err error, field string) error {
	e, _ := toAPIError(err)
	c := *e
	c.Field = field
	return &c
}

func judged(m ragbench.Metric) bool {
	switch m {
	case ragbench.Faithfulness, ragbench.AnswerRelevancy, ragbench.ContextPrecision, ragbench.ContextRecall:
		return true
	}
	return false
}

func (s *Server) startEval(w http.ResponseWriter, r *http.Request) error {
	h := s.evals
	if err := h.on(); err != nil {
		return err
	}
	var in evalRequest
	if err := readJSON(w, r, s.opts.MaxQueryBodyBytes, &in); err != nil {
		return err
	}
	_, kind, err := h.validate(r.Context(), &in)
	if err != nil {
		return err
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	j := &evalJob{ID: hex.EncodeToString(id[:]), Status: evalQueued, Request: in, Kind: kind, Created: time.Now().UTC(), Total: in.Limit}
	h.mu.Lock()
	active := len(h.queue)
	if h.running != nil {
		active++
	}
	switch {
	case h.closed:
		h.mu.Unlock()
		return &apiError{Code: codeUnavailable, Message: "the server is shutting down", RetryAfter: 5 * time.Second}
	case active >= h.opts.MaxActive:
		h.mu.Unlock()
		return &apiError{Code: codeUnavailable, Message: fmt.Sprintf("%d evaluations are queued or running, this server's limit: wait for one to finish or cancel one", active), RetryAfter: 30 * time.Second}
	}
	for len(h.jobs) >= h.opts.MaxJobs && h.evictOldest() {
	}
	h.jobs[j.ID] = j
	h.queue = append(h.queue, j.ID)
	h.mu.Unlock()
	h.save(j)
	h.mu.Lock()
	h.pump()
	out := j.view()
	h.mu.Unlock()
	w.Header().Set("Location", "/v1/evals/"+j.ID)
	return s.writeJSON(w, http.StatusAccepted, out)
}

// pump starts the next queued job if none is running; h.mu held.
func (h *evalHub) pump() {
	if h.running != nil || h.closed {
		return
	}
	for len(h.queue) > 0 {
		id := h.queue[0]
		h.queue = h.queue[1:]
		j, ok := h.jobs[id]
		if !ok || j.Status != evalQueued {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		now := time.Now().UTC()
		j.Status, j.Started, j.cancel = evalRunning, &now, cancel
		h.running = j
		h.wg.Add(1)
		go h.run(ctx, j)
		return
	}
}

// run executes one job on its own goroutine (owned by h, waited for by
// stop).
func (h *evalHub) run(ctx context.Context, j *evalJob) {
	defer h.wg.Done()
	defer j.cancel()
	h.save(j)
	rep, err := h.evaluate(ctx, j)
	now := time.Now().UTC()
	// The final state and its file change together (saveMu): a reader that
	// sees the job finished finds its rows in the file.
	h.saveMu.Lock()
	h.mu.Lock()
	j.Finished, j.Phase = &now, ""
	if rep != nil {
		filterMetrics(rep, j.Request.Metrics)
		j.Report = rep
		j.Done = rep.Questions
	}
	switch {
	case ctx.Err() != nil:
		j.Status = evalCancelled
		if rep == nil {
			j.Error = "cancelled before the first question"
		}
	case err != nil:
		j.Status, j.Error = evalFailed, err.Error()
	case rep.Questions > 0 && rep.Errors == rep.Questions:
		j.Status, j.Error = evalFailed, "every question failed: "+firstError(rep)
	default:
		j.Status = evalDone
	}
	if j.Status == evalDone && j.Request.Baseline != "" {
		if b, ok := h.jobs[j.Request.Baseline]; ok && b.Report != nil {
			dropped, err := ragbench.Compare(b.Report, rep, *j.Request.MaxDrop)
			if err != nil {
				j.BaselineError = err.Error()
			}
			j.Regressions = dropped
		} else {
			j.BaselineError = "the baseline evaluation was removed"
		}
	}
	h.running = nil
	b, merr := json.Marshal(j)
	_, kept := h.jobs[j.ID]
	h.mu.Unlock()
	h.write(j.ID, b, kept, merr)
	h.saveMu.Unlock()
	h.mu.Lock()
	j.Report = summary(j.Report) // the rows are on disk; memory keeps the means
	h.pump()
	h.mu.Unlock()
}

// summary is rep without its per-question rows. Finished jobs keep only
// this in memory (a 1,000-question report is megabytes); GET
// /v1/evals/{id} reads the rows from the job's file.
func summary(rep *ragbench.Report) *ragbench.Report {
	if rep == nil || rep.Results == nil {
		return rep
	}
	r := *rep
	r.Results = nil
	return &r
}

func firstError(rep *ragbench.Report) string {
	for _, r := range rep.Results {
		if r.Error != "" {
			return r.Error
		}
	}
	return ""
}

// evaluate is the job's ragbench.Evaluate: the same Spec the CLI builds.
func (h *evalHub) evaluate(ctx context.Context, j *evalJob) (*ragbench.Report, error) {
	in := j.Request
	p, kind, err := h.resolve(in.Dataset)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s", messageOf(err))
	}
	spec := ragbench.Spec{Path: p, Name: in.Dataset, Limit: in.Limit, Scratch: h.opts.Scratch, ScratchDir: h.opts.Dir,
		Opts: ragbench.Options{Method: in.Method, Mode: in.Mode, K: in.K, MaxSentences: in.MaxSentences}}
	if kind == kindQuestions {
		if spec.Collection, err = h.eng.Collection(ctx, in.Collection); err != nil {
			return nil, fmt.Errorf("collection %q: %w", in.Collection, err)
		}
	} else {
		h.mu.Lock()
		j.Phase = phaseIndexing
		h.mu.Unlock()
		spec.Indexed = func(n int) {
			h.mu.Lock()
			j.Indexed += n
			h.mu.Unlock()
		}
	}
	if in.Judge {
		jc := *h.opts.Judge
		spec.Judge = &jc
	}
	spec.Opts.Progress = func(done, total int) {
		h.mu.Lock()
		j.Phase, j.Done, j.Total = phaseAsking, done, total
		h.mu.Unlock()
	}
	return ragbench.Evaluate(ctx, spec)
}

func messageOf(err error) string {
	e, _ := toAPIError(err)
	return e.Message
}

// filterMetrics keeps only the requested metrics (all when none).
func filterMetrics(rep *ragbench.Report, keep []ragbench.Metric) {
	if len(keep) == 0 {
		return
	}
	drop := func(m ragbench.Metric) bool { return !slices.Contains(keep, m) }
	for m := range rep.Metrics {
		if drop(m) {
			delete(rep.Metrics, m)
			delete(rep.Counts, m)
		}
	}
	for i := range rep.Results {
		for m := range rep.Results[i].Scores {
			if drop(m) {
				delete(rep.Results[i].Scores, m)
			}
		}
	}
}

// view copies j for a response, its report without the per-question rows;
// h.mu held.
func (j *evalJob) view() evalJob {
	c := *j
	c.cancel = nil
	c.Report = summary(c.Report)
	return c
}

func (s *Server) listEvals(w http.ResponseWriter, r *http.Request) error {
	h := s.evals
	if err := h.on(); err != nil {
		return err
	}
	h.mu.Lock()
	out := make([]evalJob, 0, len(h.jobs))
	for _, j := range h.jobs {
		out = append(out, j.view())
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b evalJob) int { return b.Created.Compare(a.Created) }) // newest first
	return s.writeJSON(w, http.StatusOK, map[string]any{"evals": out})
}

func (h *evalHub) job(id string) (*evalJob, error) {
	j, ok := h.jobs[id]
	if !ok {
		return nil, &apiError{Code: codeNotFound, Message: fmt.Sprintf("no evaluation %q", id)}
	}
	return j, nil
}

func (s *Server) getEval(w http.ResponseWriter, r *http.Request) error {
	h := s.evals
	if err := h.on(); err != nil {
		return err
	}
	h.mu.Lock()
	j, err := h.job(r.PathValue("id"))
	var out evalJob
	if err == nil {
		out = j.view()
	}
	h.mu.Unlock()
	if err != nil {
		return err
	}
	if out.Status.finished() && out.Report != nil {
		// A finished job's file is final: it holds the per-question rows.
		h.saveMu.Lock()
		b, err := os.ReadFile(filepath.Join(h.opts.Dir, out.ID+".json"))
		h.saveMu.Unlock()
		if errors.Is(err, fs.ErrNotExist) {
			return &apiError{Code: codeNotFound, Message: fmt.Sprintf("no evaluation %q", out.ID)} // removed meanwhile
		}
		if err != nil {
			return fmt.Errorf("reading evaluation %s: %w", out.ID, err)
		}
		var full evalJob
		if err := json.Unmarshal(b, &full); err != nil {
			return fmt.Errorf("reading evaluation %s: %w", out.ID, err)
		}
		out = full
	}
	return s.writeJSON(w, http.StatusOK, out)
}

// deleteEval cancels a queued or running job (202, it stops after the
// question being asked and keeps its partial results) or removes a
// finished one (200).
func (s *Server) deleteEval(w http.ResponseWriter, r *http.Request) error {
	h := s.evals
	if err := h.on(); err != nil {
		return err
	}
	h.mu.Lock()
	j, err := h.job(r.PathValue("id"))
	if err != nil {
		h.mu.Unlock()
		return err
	}
	switch j.Status {
	case evalQueued:
		now := time.Now().UTC()
		j.Status, j.Finished = evalCancelled, &now
		h.queue = slices.DeleteFunc(h.queue, func(id string) bool { return id == j.ID })
	case evalRunning:
		j.Status = evalCancelling
		j.cancel()
	case evalCancelling:
	default:
		delete(h.jobs, j.ID)
		h.mu.Unlock()
		h.saveMu.Lock()
		err := os.Remove(filepath.Join(h.opts.Dir, j.ID+".json"))
		h.saveMu.Unlock()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return s.writeJSON(w, http.StatusOK, map[string]string{"deleted": j.ID})
	}
	out := j.view()
	h.mu.Unlock()
	if out.Status == evalCancelled {
		h.save(j)
	}
	return s.writeJSON(w, http.StatusAccepted, out)
}

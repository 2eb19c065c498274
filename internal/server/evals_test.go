package server

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/auth"
	"github.com/quarry-rag/quarry/internal/ragbench"
)

func writeTestFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// evalRoot is a dataset root: rocks/ (an XQuAD-style folder of four
// paragraphs and six questions) and qa.jsonl (questions for the seeded
// collection "c").
func evalRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "rocks")
	writeTestFile(t, filepath.Join(dir, "corpus.jsonl"), strings.Join([]string{
		`{"_id":"p0","title":"Granite","text":"Granite is an igneous rock. Granite forms from slowly cooling magma deep underground. It is rich in quartz and feldspar."}`,
		`{"_id":"p1","title":"Basalt","text":"Basalt is a volcanic rock. Basalt forms when lava cools quickly at the surface. Most of the ocean floor is basalt."}`,
		`{"_id":"p2","title":"Nile","text":"The Nile is a river in Africa. The Nile is about 6,650 kilometres long. It flows north into the Mediterranean Sea."}`,
		`{"_id":"p3","title":"Everest","text":"Mount Everest is the highest mountain on Earth. Its summit is 8,849 metres above sea level. It lies in the Himalayas."}`,
	}, "\n")+"\n")
	writeTestFile(t, filepath.Join(dir, "queries.jsonl"), strings.Join([]string{
		`{"_id":"q1","text":"How does granite form?"}`,
		`{"_id":"q2","text":"Where does basalt cool?"}`,
		`{"_id":"q3","text":"How long is the Nile?"}`,
		`{"_id":"q4","text":"Into which sea does the Nile flow?"}`,
		`{"_id":"q5","text":"How high is the summit of Mount Everest?"}`,
		`{"_id":"q6","text":"In which mountain range does Everest lie?"}`,
	}, "\n")+"\n")
	writeTestFile(t, filepath.Join(dir, "answers.jsonl"), strings.Join([]string{
		`{"_id":"q1","answers":["from slowly cooling magma"]}`,
		`{"_id":"q2","answers":["at the surface"]}`,
		`{"_id":"q3","answers":["6,650 kilometres"]}`,
		`{"_id":"q4","answers":["the Mediterranean Sea"]}`,
		`{"_id":"q5","answers":["8,849 metres"]}`,
		`{"_id":"q6","answers":["the Himalayas"]}`,
	}, "\n")+"\n")
	writeTestFile(t, filepath.Join(dir, "qrels", "test.tsv"), "query-id\tcorpus-id\tscore\nq1\tp0\t1\nq2\tp1\t1\nq3\tp2\t1\nq4\tp2\t1\nq5\tp3\t1\nq6\tp3\t1\n")
	var qa []string
	for i := range 40 {
		qa = append(qa, fmt.Sprintf(`{"id":"z%d","question":"When are zebracorn sightings reported? (%d)","reference":"every spring"}`, i, i))
	}
	writeTestFile(t, filepath.Join(root, "qa.jsonl"), strings.Join(qa, "\n")+"\n")
	return root
}

// evalHarness is a harness with evaluation on, over root, keeping jobs in
// dir; the running job is stopped when the test ends.
func evalHarness(t *testing.T, root, dir string, opts Options, engOpts *quarry.Options) *harness {
	t.Helper()
	if opts.Evals == nil {
		opts.Evals = &EvalOptions{}
	}
	opts.Evals.DatasetRoot, opts.Evals.Dir = root, dir
	h := newHarnessEngine(t, opts, engOpts)
	t.Cleanup(h.srv.evals.stop)
	return h
}

// waitEval polls a job until it has finished.
func waitEval(t *testing.T, h *harness, id string) *response {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := h.do("GET", "/v1/evals/"+id, nil).mustStatus(t, http.StatusOK)
		if evalStatus(r.str("status")).finished() {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("evaluation %s still %s after 60 s: %s", id, r.str("status"), r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEvalsOffByDefault(t *testing.T) {
	h := newHarness(t, Options{})
	for _, rq := range [][2]string{{"GET", "/v1/evals"}, {"GET", "/v1/evals/datasets"}, {"GET", "/v1/evals/abc"}, {"DELETE", "/v1/evals/abc"}} {
		r := h.do(rq[0], rq[1], nil)
		wantError(t, r, http.StatusNotFound, codeNotFound, "")
		if !strings.Contains(r.str("error.message"), "evaluation is not enabled") {
			t.Errorf("%s %s: message %q does not say evaluation is off", rq[0], rq[1], r.str("error.message"))
		}
	}
	wantError(t, h.do("POST", "/v1/evals", map[string]any{"dataset": "rocks"}), http.StatusNotFound, codeNotFound, "")
}

func TestEvalsAdminOnly(t *testing.T) {
	st, err := auth.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	admin := mustKey(t, st, auth.Spec{Role: auth.RoleAdmin})
	read := mustKey(t, st, auth.Spec{Role: auth.RoleRead})
	write := mustKey(t, st, auth.Spec{Role: auth.RoleWrite})
	root := evalRoot(t)
	writeTestFile(t, filepath.Join(root, "docs", "corpus-like.jsonl"), `{"_id":"d1","text":"not a question file"}`+"\n")
	h := evalHarness(t, root, t.TempDir(), Options{Keys: st}, nil)
	as := func(key string) {
		h.header = http.Header{}
		if key != "" {
			h.header.Set("Authorization", "Bearer "+key)
		}
	}
	routes := [][2]string{{"GET", "/v1/evals"}, {"GET", "/v1/evals/datasets"}, {"GET", "/v1/evals/x"}, {"DELETE", "/v1/evals/x"}, {"POST", "/v1/evals"}}
	for _, rq := range routes {
		var body any
		if rq[0] == "POST" {
			body = map[string]any{"dataset": "rocks"}
		}
		as("")
		wantError(t, h.do(rq[0], rq[1], body), http.StatusUnauthorized, codeUnauthenticated, "")
		for _, k := range []string{read, write} {
			as(k)
			wantError(t, h.do(rq[0], rq[1], body), http.StatusForbidden, codeForbidden, "")
		}
	}
	as(admin)
	r := h.do("GET", "/v1/evals/datasets", nil).mustStatus(t, http.StatusOK)
	var names []string
	for _, d := range r.list("datasets") {
		m := d.(map[string]any)
		names = append(names, m["name"].(string)+":"+m["kind"].(string))
	}
	if strings.Join(names, ",") != "qa.jsonl:questions,rocks:folder" {
		t.Errorf("datasets %v, want qa.jsonl (questions) and rocks (folder), not the corpus-like file", names)
	}
	r = h.do("POST", "/v1/evals", map[string]any{"dataset": "rocks", "limit": 2}).mustStatus(t, http.StatusAccepted)
	waitEval(t, h, r.str("id"))
}

func TestEvalsRefuseEscapes(t *testing.T) {
	root := evalRoot(t)
	outside := t.TempDir()
	writeTestFile(t, filepath.Join(outside, "secret.jsonl"), `{"question":"q","reference":"r"}`+"\n")
	writeTestFile(t, filepath.Join(outside, "queries.jsonl"), `{"_id":"q1","text":"x"}`+"\n")
	if err := os.Symlink(filepath.Join(outside, "secret.jsonl"), filepath.Join(root, "link.jsonl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	// A folder inside the root whose queries.jsonl is a link out.
	sneaky := filepath.Join(root, "sneaky")
	for _, f := range []string{"corpus.jsonl", "answers.jsonl"} {
		writeTestFile(t, filepath.Join(sneaky, f), "")
	}
	if err := os.Symlink(filepath.Join(outside, "queries.jsonl"), filepath.Join(sneaky, "queries.jsonl")); err != nil {
		t.Fatal(err)
	}
	h := evalHarness(t, root, t.TempDir(), Options{}, nil)
	for _, name := range []string{"../" + filepath.Base(outside) + "/secret.jsonl", "/etc/passwd", outside + "/secret.jsonl",
		"rocks/../qa.jsonl", "./qa.jsonl", "rocks/", "http://example.com/qa.jsonl", `..\qa.jsonl`, "link.jsonl",
		"linkdir/secret.jsonl", "linkdir", "sneaky", ".hidden", "", strings.Repeat("a", 600)} {
		r := h.do("POST", "/v1/evals", map[string]any{"dataset": name, "collection": "c"})
		wantError(t, r, http.StatusBadRequest, codeInvalid, "dataset")
	}
	wantError(t, h.do("POST", "/v1/evals", map[string]any{"dataset": "nope"}), http.StatusNotFound, codeNotFound, "dataset")
	for _, d := range h.do("GET", "/v1/evals/datasets", nil).list("datasets") {
		if n := d.(map[string]any)["name"].(string); strings.HasPrefix(n, "link") {
			t.Errorf("dataset list offers %s, a link out of the root", n)
		}
	}
	if n := len(h.do("GET", "/v1/evals", nil).list("evals")); n != 0 {
		t.Errorf("%d jobs exist after refused requests", n)
	}
}

func TestEvalsBounds(t *testing.T) {
	h := evalHarness(t, evalRoot(t), t.TempDir(), Options{Evals: &EvalOptions{MaxQuestions: 10}}, nil)
	h.upsert("c", map[string]any{"id": "z", "text": "Zebracorn sightings are reported every spring in the valley."})
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"dataset": "rocks", "limit": 11}, "limit"},
		{map[string]any{"dataset": "rocks", "limit": -1}, "limit"},
		{map[string]any{"dataset": "rocks", "k": 1001}, "k"},
		{map[string]any{"dataset": "rocks", "max_sentences": 21}, "max_sentences"},
		{map[string]any{"dataset": "rocks", "method": "oracle"}, "method"},
		{map[string]any{"dataset": "rocks", "mode": "telepathy"}, "mode"},
		{map[string]any{"dataset": "rocks", "judge": true}, "judge"},
		{map[string]any{"dataset": "rocks", "metrics": []string{"vibes"}}, "metrics[0]"},
		{map[string]any{"dataset": "rocks", "metrics": []string{"faithfulness"}}, "metrics[0]"},
		{map[string]any{"dataset": "rocks", "max_drop": 2}, "max_drop"},
		{map[string]any{"dataset": "qa.jsonl"}, "collection"},
		{map[string]any{"dataset": "rocks", "url": "http://x"}, "url"},
	} {
		wantError(t, h.do("POST", "/v1/evals", c.body), http.StatusBadRequest, codeInvalid, c.field)
	}
	wantError(t, h.do("POST", "/v1/evals", map[string]any{"dataset": "qa.jsonl", "collection": "missing"}), http.StatusNotFound, codeNotFound, "collection")
	wantError(t, h.do("POST", "/v1/evals", map[string]any{"dataset": "rocks", "baseline": "0123"}), http.StatusNotFound, codeNotFound, "baseline")
	wantError(t, h.do("GET", "/v1/evals?all=1", nil), http.StatusBadRequest, codeInvalid, "all")
}

// slowLLM answers every question after delay: a run that takes long
// enough to be cancelled (a scripted model server, named as such).
func slowLLM(t *testing.T, delay time.Duration) string {
	return faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stream bool `json:"stream"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		text := "Zebracorn sightings are reported every spring [1]."
		if req.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": text}}}})
			fmt.Fprintf(w, "data: %s\n\n", b)
			b, _ = json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
			fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}}})
	})
}

func TestEvalsOneAtATimeAndCancel(t *testing.T) {
	url := slowLLM(t, 150*time.Millisecond)
	h := evalHarness(t, evalRoot(t), t.TempDir(), Options{Evals: &EvalOptions{MaxActive: 2}},
		&quarry.Options{LLM: quarry.LLMConfig{URL: url + "/v1", Model: "slow-scripted"}})
	h.upsert("c", map[string]any{"id": "z", "title": "Sightings", "text": "Zebracorn sightings are reported every spring in the valley."})
	body := map[string]any{"dataset": "qa.jsonl", "collection": "c", "method": "llm", "limit": 40}
	first := h.do("POST", "/v1/evals", body).mustStatus(t, http.StatusAccepted)
	if first.header.Get("Location") != "/v1/evals/"+first.str("id") {
		t.Errorf("Location %q", first.header.Get("Location"))
	}
	second := h.do("POST", "/v1/evals", body).mustStatus(t, http.StatusAccepted)
	r := h.do("POST", "/v1/evals", body)
	wantError(t, r, http.StatusServiceUnavailable, codeUnavailable, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("a refused job has no Retry-After")
	}
	// One at a time: the second waits while the first runs.
	deadline := time.Now().Add(30 * time.Second)
	for {
		f := h.do("GET", "/v1/evals/"+first.str("id"), nil)
		if f.get("done").(float64) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress: %s", f.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := h.do("GET", "/v1/evals/"+second.str("id"), nil).str("status"); s != string(evalQueued) {
		t.Errorf("second job %s while the first runs, want queued", s)
	}
	// Cancel the queued one, then the running one: partial results kept.
	h.do("DELETE", "/v1/evals/"+second.str("id"), nil).mustStatus(t, http.StatusAccepted)
	if s := h.do("GET", "/v1/evals/"+second.str("id"), nil).str("status"); s != string(evalCancelled) {
		t.Errorf("queued job after DELETE: %s", s)
	}
	h.do("DELETE", "/v1/evals/"+first.str("id"), nil).mustStatus(t, http.StatusAccepted)
	f := waitEval(t, h, first.str("id"))
	done := int(f.get("report.questions").(float64))
	if f.str("status") != string(evalCancelled) || done < 2 || done >= 40 || f.get("report.partial") != true {
		t.Errorf("cancelled job: status %s, %d questions, partial %v", f.str("status"), done, f.get("report.partial"))
	}
	// A finished job is removed by DELETE, file and all.
	if r := h.do("DELETE", "/v1/evals/"+first.str("id"), nil).mustStatus(t, http.StatusOK); r.str("deleted") != first.str("id") {
		t.Errorf("DELETE of a finished job: %s", r.body)
	}
	wantError(t, h.do("GET", "/v1/evals/"+first.str("id"), nil), http.StatusNotFound, codeNotFound, "")
	if _, err := os.Stat(filepath.Join(h.srv.opts.Evals.Dir, first.str("id")+".json")); !os.IsNotExist(err) {
		t.Errorf("removed job's file: %v", err)
	}
}

func TestEvalsResultsPersist(t *testing.T) {
	root, dir := evalRoot(t), t.TempDir()
	h := evalHarness(t, root, dir, Options{}, nil)
	r := h.do("POST", "/v1/evals", map[string]any{"dataset": "rocks", "k": 3, "max_sentences": 2,
		"metrics": []string{"answer_recall", "citation_hit_any", "retrieval_hit"}}).mustStatus(t, http.StatusAccepted)
	if r.str("status") != string(evalQueued) && r.str("status") != string(evalRunning) {
		t.Errorf("new job status %q", r.str("status"))
	}
	id := r.str("id")
	got := waitEval(t, h, id)
	if got.str("status") != string(evalDone) {
		t.Fatalf("job ended %s: %s", got.str("status"), got.body)
	}
	if got.str("report.dataset") != "rocks" || got.get("report.questions").(float64) != 6 || got.get("indexed").(float64) != 4 {
		t.Errorf("report header: %s", got.body)
	}
	metrics := got.get("report.metrics").(map[string]any)
	if len(metrics) != 3 || metrics["answer_recall"].(float64) < 0.5 || metrics["retrieval_hit"].(float64) < 0.8 {
		t.Errorf("metrics %v: want the three asked for, answer recall ≥ 0.5 and hit ≥ 0.8 on this easy set", metrics)
	}
	rows := got.list("report.results")
	if len(rows) != 6 {
		t.Fatalf("%d rows", len(rows))
	}
	h.srv.evals.mu.Lock()
	inMemory := h.srv.evals.jobs[id].Report.Results
	h.srv.evals.mu.Unlock()
	if inMemory != nil {
		t.Errorf("a finished job keeps its %d rows in memory; they belong in its file", len(inMemory))
	}
	row := rows[0].(map[string]any)
	if row["question"] != "How does granite form?" || row["answer"] == "" || len(row["contexts"].([]any)) == 0 || len(row["scores"].(map[string]any)) != 3 {
		t.Errorf("first row %v", row)
	}
	// The same run as the CLI's: the report equals ragbench.Evaluate's.
	want, err := ragbench.Evaluate(t.Context(), ragbench.Spec{Path: filepath.Join(root, "rocks"), Name: "rocks",
		Scratch: func(d string) (*quarry.Engine, error) { return quarry.Open(d, nil) }, Limit: 100,
		Opts: ragbench.Options{Method: quarry.MethodExtractive, K: 3, MaxSentences: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if want.Metrics[ragbench.AnswerRecall] != metrics["answer_recall"].(float64) || want.Results[0].Answer != row["answer"] {
		t.Errorf("server run differs from ragbench.Evaluate: recall %v vs %v", metrics["answer_recall"], want.Metrics[ragbench.AnswerRecall])
	}
	// A second run against the first as baseline: nothing dropped.
	r2 := h.do("POST", "/v1/evals", map[string]any{"dataset": "rocks", "k": 3, "max_sentences": 2, "baseline": id,
		"metrics": []string{"answer_recall", "citation_hit_any", "retrieval_hit"}}).mustStatus(t, http.StatusAccepted)
	got2 := waitEval(t, h, r2.str("id"))
	if got2.str("status") != string(evalDone) || got2.get("regressions") != nil || got2.str("baseline_error") != "" {
		t.Errorf("baseline run: %s", got2.body)
	}
	list := h.do("GET", "/v1/evals", nil).mustStatus(t, http.StatusOK).list("evals")
	if len(list) != 2 || list[0].(map[string]any)["id"] != r2.str("id") {
		t.Fatalf("list %v, want two jobs newest first", list)
	}
	if rep := list[0].(map[string]any)["report"].(map[string]any); rep["results"] != nil || rep["metrics"] == nil {
		t.Errorf("the list carries per-question rows or no metrics: %v", rep)
	}
	// A job the server was running when it stopped, as left on disk.
	now := time.Now().UTC()
	stale, _ := json.Marshal(evalJob{ID: "00stale0", Status: evalRunning, Request: evalRequest{Dataset: "rocks"}, Kind: kindFolder, Created: now, Started: &now})
	writeTestFile(t, filepath.Join(dir, "00stale0.json"), string(stale))
	writeTestFile(t, filepath.Join(dir, "torn.json"), `{"id":"torn","sta`)

	// Restart: a new server over the same folder has the results.
	h2 := evalHarness(t, root, dir, Options{}, nil)
	again := h2.do("GET", "/v1/evals/"+id, nil).mustStatus(t, http.StatusOK)
	if again.str("status") != string(evalDone) || len(again.list("report.results")) != 6 ||
		again.get("report.metrics").(map[string]any)["answer_recall"] != metrics["answer_recall"] {
		t.Errorf("after restart: %s", again.body)
	}
	s := h2.do("GET", "/v1/evals/00stale0", nil).mustStatus(t, http.StatusOK)
	if s.str("status") != string(evalFailed) || !strings.Contains(s.str("error"), "interrupted") {
		t.Errorf("a job interrupted by the restart: %s", s.body)
	}
	if n := len(h2.do("GET", "/v1/evals", nil).list("evals")); n != 3 {
		t.Errorf("%d jobs after restart, want 3 (the torn file skipped)", n)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.tmp*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestEvalsKeepBoundedJobs(t *testing.T) {
	h := evalHarness(t, evalRoot(t), t.TempDir(), Options{Evals: &EvalOptions{MaxJobs: 2}}, nil)
	var ids []string
	for range 3 {
		r := h.do("POST", "/v1/evals", map[string]any{"dataset": "rocks", "limit": 1}).mustStatus(t, http.StatusAccepted)
		waitEval(t, h, r.str("id"))
		ids = append(ids, r.str("id"))
	}
	list := h.do("GET", "/v1/evals", nil).list("evals")
	if len(list) != 2 || list[1].(map[string]any)["id"] != ids[1] {
		t.Errorf("kept %v, want the two newest of %v", list, ids)
	}
	wantError(t, h.do("GET", "/v1/evals/"+ids[0], nil), http.StatusNotFound, codeNotFound, "")
	files, _ := filepath.Glob(filepath.Join(h.srv.opts.Evals.Dir, "*.json"))
	if len(files) != 2 {
		t.Errorf("%d job files, want 2", len(files))
	}
}

// FuzzEvalDatasetName: whatever the name, a dataset that resolves is a real
// path inside the root, reached by a name checkDatasetName accepts.
func FuzzEvalDatasetName(f *testing.F) {
	for _, s := range []string{"rocks", "qa.jsonl", "../x", "/etc/passwd", "a/../b", "out/secret.jsonl", "rocks/corpus.jsonl", "C:\\x", "%2e%2e/x", "rocks//", "ok/..", "\x00"} {
		f.Add(s)
	}
	root := evalRoot(f)
	outside := f.TempDir()
	writeTestFile(f, filepath.Join(outside, "secret.jsonl"), `{"question":"q","reference":"r"}`+"\n")
	if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
		f.Fatal(err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		f.Fatal(err)
	}
	h := &evalHub{root: realRoot, opts: &EvalOptions{}}
	f.Fuzz(func(t *testing.T, name string) {
		p, kind, err := h.resolve(name)
		if err != nil {
			return
		}
		if checkDatasetName(name) != nil {
			t.Fatalf("%q resolved though the name check refuses it", name)
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil || !within(realRoot, real) {
			t.Fatalf("%q resolved to %s (%v), outside %s", name, real, err, realRoot)
		}
		if kind != kindFolder && kind != kindQuestions {
			t.Fatalf("%q: kind %q", name, kind)
		}
	})
}

// scriptedJudge is an OpenAI-compatible judge model that agrees with
// everything, in the JSON each RAGAS prompt asks for (a scripted model
// server, named as such: it pins the judge's wiring, not its quality; the
// real judge runs in internal/ragbench's TestJudgeOllama).
func scriptedJudge(t *testing.T, calls *atomic.Int32) string {
	exactly := regexp.MustCompile(`exactly (\d+) (?:verdicts|values)`)
	return faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		calls.Add(1)
		p := req.Messages[len(req.Messages)-1].Content
		ones := func(key string) string {
			n := 1
			if m := exactly.FindStringSubmatch(p); m != nil {
				fmt.Sscan(m[1], &n)
			}
			return `{"` + key + `": [` + strings.TrimSuffix(strings.Repeat("1, ", n), ", ") + `]}`
		}
		var content string
		switch {
		case strings.Contains(p, "Break the answer"):
			content = `{"statements": ["Granite forms from cooling magma."]}`
		case strings.Contains(p, "different questions"):
			content = `{"questions": ["How does granite form?"], "noncommittal": 0}`
		case strings.Contains(p, "attributed"):
			content = ones("attributed")
		default:
			content = ones("verdicts")
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"index": 0,
			"message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}},
			"usage": map[string]any{"prompt_tokens": 10, "completion_tokens": 5}})
	})
}

func TestEvalsWithJudge(t *testing.T) {
	if _, err := os.Stat(filepath.Join(quarryHome(t), "models", ragbench.DefaultJudgeEmbedding, "model.safetensors")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not cached; `make models` fetches it", ragbench.DefaultJudgeEmbedding)
		}
		t.Skipf("%s is not cached (make models): answer relevancy needs it", ragbench.DefaultJudgeEmbedding)
	}
	var calls atomic.Int32
	url := scriptedJudge(t, &calls)
	h := evalHarness(t, evalRoot(t), t.TempDir(), Options{Evals: &EvalOptions{
		Judge: &ragbench.JudgeConfig{URL: url + "/v1", Model: "scripted-judge", Timeout: 10 * time.Second}}}, nil)
	r := h.do("POST", "/v1/evals", map[string]any{"dataset": "rocks", "limit": 2, "judge": true,
		"metrics": []string{"answer_recall", "faithfulness", "answer_relevancy", "context_precision", "context_recall"}}).mustStatus(t, http.StatusAccepted)
	got := waitEval(t, h, r.str("id"))
	if got.str("status") != string(evalDone) || got.str("report.judge_model") != "scripted-judge" || got.get("report.judge_errors").(float64) != 0 {
		t.Fatalf("judged run: %s", got.body)
	}
	m := got.get("report.metrics").(map[string]any)
	for _, k := range []string{"faithfulness", "context_precision", "context_recall"} {
		if v, _ := m[k].(float64); math.Abs(v-1) > 1e-6 { // RAGAS's average precision adds 1e-10
			t.Errorf("%s = %v, want 1 from a judge that agrees with everything", k, m[k])
		}
	}
	if ar, _ := m["answer_relevancy"].(float64); !(ar > 0 && ar <= 1) {
		t.Errorf("answer_relevancy %v", m["answer_relevancy"])
	}
	if calls.Load() < 8 {
		t.Errorf("the judge was asked %d times for two questions", calls.Load())
	}
	// Judge off: no judged metric, no judge call.
	before := calls.Load()
	r = h.do("POST", "/v1/evals", map[string]any{"dataset": "rocks", "limit": 2}).mustStatus(t, http.StatusAccepted)
	got = waitEval(t, h, r.str("id"))
	if _, ok := got.get("report.metrics").(map[string]any)["faithfulness"]; ok || calls.Load() != before {
		t.Errorf("judge off: metrics %v, %d judge calls", got.get("report.metrics"), calls.Load()-before)
	}
}

package server

import (
	"github.com/quarry-rag/quarry/internal/testutil"

	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/web"
)

// chromium finds a headless browser: $QUARRY_CHROMIUM, else Debian's
// chromium. In CI (CI=true) a missing browser fails the test, since `make
// test` installs it; elsewhere the test is skipped with a message.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("QUARRY_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium found: `make test` installs Debian's chromium (scripts/deps.sh)")
	}
	t.Skip("no chromium found (set QUARRY_CHROMIUM or run scripts/deps.sh); skipping the browser test")
	return ""
}

// quarryHome is $QUARRY_HOME, default ~/.cache/quarry.
func quarryHome(t *testing.T) string {
	if home := os.Getenv("QUARRY_HOME"); home != "" {
		return home
	}
	dir, err := os.UserHomeDir()
	if err != nil {
		t.Skipf("no home directory: %v", err)
	}
	return filepath.Join(dir, ".cache", "quarry")
}

// venvPython returns the Python of a venv under $QUARRY_HOME/name with the
// packages of testdata/<req>, creating it on first use. Without python3
// or pip it skips, or fails under CI=true.
func venvPython(t *testing.T, name, req string) string {
	return testutil.Venv(t, name, filepath.Join("testdata", req))
}

// hostileTitle and hostileText are a document written to break out of
// the page: every one of them must show as text.
const (
	hostileTitle = `<img src=x onerror="window.__xss='title'"><script>window.__xss='title-script'</script>`
	hostileText  = `Obsidian is volcanic glass. <script>window.__xss='text'</script><img src=x onerror="window.__xss='img'"> It forms when lava cools very fast. <a href="javascript:window.__xss='link'">click</a>`
)

// fakeLLM is a scripted OpenAI-compatible chat server, named as such: it
// streams answers whose shape the browser test needs (citations of a
// known source, an abstention, a huge answer, a failure), which a real
// small model does not write on demand. Everything else in the test is real.
type fakeLLM struct {
	firstTokenDelay time.Duration
}

// fencedTitle is a title as internal/generate writes it into a source
// header: no angle brackets, double quotes made single, spaces folded.
func fencedTitle(t string) string {
	t = strings.Map(func(r rune) rune {
		switch r {
		case '"':
			return '\''
		case '<', '>':
			return -1
		}
		return r
	}, t)
	return strings.Join(strings.Fields(t), " ")
}

// blockRE finds the prompt's fenced source blocks (internal/generate):
// <source id="n" title="…">.
var blockRE = regexp.MustCompile(`(?m)^<source id="(\d+)"(?: title="([^"]*)")?>$`)

func (f *fakeLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Stream   bool `json:"stream"`
		Messages []struct {
			Role    string `json:"role"`
			Content any    `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, `{"error":{"message":"fake: bad request"}}`, 400)
		return
	}
	var prompt strings.Builder
	for _, m := range req.Messages {
		fmt.Fprintf(&prompt, "%v\n", m.Content)
	}
	p := prompt.String()
	q := p // the question: after the prompt's last "Question: "
	if i := strings.LastIndex(p, "Question: "); i >= 0 {
		q = p[i:]
	}
	if !req.Stream { // a rewriting call (condensing a follow-up)
		// The standalone question is the follow-up itself.
		follow := "How does granite form?"
		if i := strings.LastIndex(p, "Follow-up question: "); i >= 0 {
			follow, _, _ = strings.Cut(p[i+len("Follow-up question: "):], "\n")
		}
		b, _ := json.Marshal(map[string]any{"id": "x", "object": "chat.completion", "created": 1, "model": "fake",
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": follow}, "finish_reason": "stop"}},
			"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 5}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
		return
	}
	marker := func(title string) string {
		for _, m := range blockRE.FindAllStringSubmatch(p, -1) {
			if m[2] == fencedTitle(title) {
				return m[1]
			}
		}
		return "9"
	}
	var pieces []string
	switch {
	case strings.Contains(q, "explode"):
		http.Error(w, `{"error":{"message":"fake: the model crashed"}}`, 500)
		return
	case strings.Contains(q, "weather"):
		pieces = []string{"I don't know", " based on", " the sources."}
	case strings.Contains(q, "huge"):
		g := marker("Granite")
		for i := range 3000 {
			pieces = append(pieces, fmt.Sprintf(" word%d", i))
			if i%500 == 499 {
				pieces = append(pieces, " Granite forms from slowly cooling magma deep underground ["+g+"].\n")
			}
		}
	case strings.Contains(q, "obsidian"):
		o := marker(hostileTitle)
		pieces = []string{"Obsidian", " is volcanic", " glass [" + o + "]", "."}
	default:
		g, b := marker("Granite"), marker("Basalt")
		pieces = []string{"Granite", " forms from", " slowly cooling", " magma deep underground [" + g + "].",
			" Basalt forms", " when lava cools", " quickly at the surface [" + b + "]."}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	fl := w.(http.Flusher)
	fl.Flush()
	time.Sleep(f.firstTokenDelay)
	gap := time.Duration(0)
	if strings.Contains(q, "Slowly") {
		gap = 150 * time.Millisecond // long enough to see the answer grow
	}
	for _, piece := range pieces {
		time.Sleep(gap)
		b, _ := json.Marshal(map[string]any{"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "fake",
			"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": piece}, "finish_reason": nil}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		fl.Flush()
	}
	fmt.Fprint(w, `data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"fake","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":20}}`+"\n\n")
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

// tokenClock wraps the server and records when the first answer token of
// each question was written to the client (the server's first-token time).
// It also cuts the connection of questions containing "dropme" after the
// first tokens: a fault (the network dying mid-answer) the real server
// cannot be made to produce from a browser.
type tokenClock struct {
	next http.Handler
	mu   sync.Mutex
	at   map[string]time.Time
}

type clockWriter struct {
	http.ResponseWriter
	once func()
	drop bool
	n    int
}

func (c *clockWriter) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("event: token")) {
		c.once()
		c.n++
		if c.drop && c.n > 2 {
			time.Sleep(300 * time.Millisecond) // the browser reads what came before the network dies
			panic(http.ErrAbortHandler)
		}
	}
	return c.ResponseWriter.Write(b)
}
func (c *clockWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (tc *tokenClock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != "POST" || !strings.HasSuffix(r.URL.Path, "/ask") {
		tc.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var q struct {
		Question string `json:"question"`
	}
	json.Unmarshal(body, &q)
	var once sync.Once
	cw := &clockWriter{ResponseWriter: w, drop: strings.Contains(q.Question, "dropme"), once: func() {
		once.Do(func() {
			tc.mu.Lock()
			tc.at[q.Question] = time.Now()
			tc.mu.Unlock()
		})
	}}
	tc.next.ServeHTTP(cw, r)
}

// fakeKeyGate stands in for the API keys another change adds: /v1 routes
// need "Authorization: Bearer test-key", else a 401 in the server's error
// shape. Named as a fake; it only lets the test drive the UI's key field.
func fakeKeyGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") && r.Header.Get("Authorization") != "Bearer test-key" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":"unauthorized","message":"missing or expired API key"}}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// uiReport is what testdata/ui_browser.py prints.
type uiReport struct {
	Failures       []string           `json:"failures"`
	Skipped        []string           `json:"skipped"`
	Passed         []string           `json:"passed"`
	FirstTokenMS   map[string]float64 `json:"first_token_epoch_ms"`
	ColdLoadMS     float64            `json:"cold_load_ms"`
	ColdLoadsMS    []float64          `json:"cold_loads_ms"`
	PageBytes      int                `json:"page_bytes"`
	ConsoleErrors  []string           `json:"console_errors"`
	FailedRequests []string           `json:"failed_requests"`
	Screenshots    []string           `json:"screenshots"`
}

// TestWebUIInRealBrowser drives the web UI in Debian's Chromium with
// Playwright (the Python package, in a venv under $QUARRY_HOME; no browser
// download) against a real server over a real engine: every page and flow,
// hostile documents, lost connections, a missing key, screenshots at 390
// and 1400 px checked for overflow. testdata/ui_browser.py holds the flows;
// this test serves them and checks what the server saw.
func TestWebUIInRealBrowser(t *testing.T) {
	bin := chromium(t)
	py := venvPython(t, "venv-playwright", "playwright-requirements.txt")

	llm := httptest.NewServer(&fakeLLM{firstTokenDelay: 50 * time.Millisecond})
	defer llm.Close()
	dataDir := t.TempDir()
	eng, err := quarry.Open(filepath.Join(dataDir, "engine"), &quarry.Options{LLM: quarry.LLMConfig{URL: llm.URL + "/v1", Model: "fake-scripted"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	var rocksCfg *quarry.CollectionConfig
	dense := modelCached(t)
	if dense {
		rocksCfg = &quarry.CollectionConfig{Embedding: embeddingModel}
	}
	rocks, _, err := eng.CreateCollection(ctx, "rocks", rocksCfg)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Sediment settles in layers over time. ", 200)
	if _, err := rocks.Upsert(ctx, []quarry.Document{
		{ID: "granite", Title: "Granite", Text: "Über Gesteine.\n\nGranite forms from slowly cooling magma deep underground. It is rich in quartz and feldspar.\n\n" + long + "\n\nGranite is used for countertops."},
		{ID: "basalt", Title: "Basalt", Text: "Basalt forms when lava cools quickly at the surface. It is dark and fine grained.", Metadata: quarry.Metadata{"kind": base.String("igneous")}},
		{ID: "rivers", Title: "Rivers", Text: "Rivers carve valleys over millions of years. 河流在数百万年间切割出山谷。 النهر يحفر الوديان. नदियाँ घाटियाँ बनाती हैं।"},
		{ID: "xss/<b>doc</b>", Title: hostileTitle, Text: hostileText},
		{ID: "private", Title: "Private granite notes", Text: "Granite notes for team-a only.", Tenant: "acme", ACL: []string{"team-a"}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.EnsureCollection(ctx, "empty"); err != nil {
		t.Fatal(err)
	}

	// Evaluation: a dataset folder (indexed per run) and a question file
	// for the rocks collection whose question is hostile markup.
	evalDatasets := evalRoot(t)
	writeTestFile(t, filepath.Join(evalDatasets, "rocks-qa.jsonl"), strings.Join([]string{
		`{"id":"hostile","question":"How does granite form? <img src=x onerror=\"window.__xss='eval'\"><script>window.__xss='eval-script'</script>","reference":"from slowly cooling magma"}`,
		`{"id":"basalt","question":"How does basalt form?","answers":["when lava cools quickly"]}`,
	}, "\n")+"\n")
	srv := New(eng, Options{FeedbackDir: filepath.Join(dataDir, "feedback"), HeartbeatInterval: -1,
		Evals: &EvalOptions{DatasetRoot: evalDatasets, Dir: filepath.Join(dataDir, "evals")}})
	defer srv.evals.stop()
	noEvals := httptest.NewServer(New(eng, Options{HeartbeatInterval: -1}))
	defer noEvals.Close()
	clock := &tokenClock{next: srv, at: map[string]time.Time{}}
	open := httptest.NewServer(clock)
	defer open.Close()
	gated := httptest.NewServer(fakeKeyGate(clock))
	defer gated.Close()

	artifacts := os.Getenv("QUARRY_UI_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(quarryHome(t), "artifacts", "ui")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, r := range srv.routes {
		routes[r] = true
	}
	cfg := map[string]any{
		"base": open.URL, "gated": gated.URL, "chromium": bin, "artifacts": artifacts, "dense": dense,
		"has_upload": routes["POST /v1/collections/{c}/files"], "has_delete": routes["DELETE /v1/collections/{c}"],
		"has_list":      routes["GET /v1/collections/{c}/documents"],
		"has_patch":     routes["PATCH /v1/collections/{c}"],
		"hostile_title": hostileTitle,
		"no_evals":      noEvals.URL,
	}
	cfgJSON, _ := json.Marshal(cfg)
	runCtx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, py, filepath.Join("testdata", "ui_browser.py"), string(cfgJSON))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ui_browser.py: %v\n%s", err, stderr.Bytes())
	}
	var rep uiReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report: %v\n%s\n%s", err, out, stderr.Bytes())
	}
	for _, p := range rep.Passed {
		t.Logf("pass: %s", p)
	}
	for _, s := range rep.Skipped {
		t.Logf("SKIPPED: %s", s)
	}
	for _, f := range rep.Failures {
		t.Errorf("browser: %s", f)
	}
	if len(rep.ConsoleErrors) > 0 {
		t.Errorf("console errors in the clean flows: %q", rep.ConsoleErrors)
	}
	if len(rep.FailedRequests) > 0 {
		t.Errorf("failed requests in the clean flows: %q", rep.FailedRequests)
	}
	t.Logf("screenshots in %s: %d", artifacts, len(rep.Screenshots))

	// First token: when the browser had drawn it vs when the server wrote
	// it, over every streamed answer; the median must be under 50 ms.
	clock.mu.Lock()
	var lags []float64
	for q, browser := range rep.FirstTokenMS {
		server, ok := clock.at[q]
		if !ok {
			t.Errorf("the server wrote no token for %q", q)
			continue
		}
		lag := browser - float64(server.UnixNano())/1e6
		lags = append(lags, lag)
		t.Logf("first token of %q drawn %.1f ms after the server wrote it", q, lag)
	}
	clock.mu.Unlock()
	if len(lags) < 5 {
		t.Errorf("first-token times of %d answers measured, want at least 5", len(lags))
	} else {
		slices.Sort(lags)
		med := lags[len(lags)/2]
		t.Logf("first token drawn: median %.1f ms after the server's first token (min %.1f, max %.1f, n=%d)", med, lags[0], lags[len(lags)-1], len(lags))
		if med >= 50 {
			if load, ok := machineOverloaded(); ok {
				t.Logf("median first-token lag %.1f ms not asserted: load average %.1f", med, load)
			} else {
				t.Errorf("first token drawn %.1f ms (median) after the server wrote it, want < 50 ms", med)
			}
		}
	}
	// Page weight and cold load.
	total := 0
	fs.WalkDir(web.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && slices.Contains([]string{".html", ".js", ".css"}, filepath.Ext(p)) {
			b, _ := fs.ReadFile(web.Files, p)
			total += len(b)
		}
		return nil
	})
	t.Logf("page weight %d bytes (embedded), %d bytes loaded by the browser; cold load %.1f ms (best of %v)", total, rep.PageBytes, rep.ColdLoadMS, rep.ColdLoadsMS)
	if total >= 300<<10 || rep.PageBytes >= 300<<10 {
		t.Errorf("page weight %d / %d bytes, want < 300 KB", total, rep.PageBytes)
	}
	if rep.ColdLoadMS <= 0 || rep.ColdLoadMS >= 200 {
		// The machine is shared; a page load is CPU-bound in the browser,
		// so on an overloaded machine the figure measures the others.
		if load, ok := machineOverloaded(); ok {
			t.Logf("cold load %.1f ms, over 200 ms, not asserted: load average %.1f on %d CPUs", rep.ColdLoadMS, load, runtime.NumCPU())
		} else {
			t.Errorf("cold load %.1f ms, want < 200 ms (load average %.1f)", rep.ColdLoadMS, load)
		}
	}

	// Feedback given in the browser is stored with question and sources.
	f, err := os.Open(filepath.Join(dataDir, "feedback", feedbackFile))
	if err != nil {
		t.Fatalf("no feedback stored: %v", err)
	}
	defer f.Close()
	var recs []feedbackRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, maxFeedbackRecord+2)
	for sc.Scan() {
		var rec feedbackRecord
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 || recs[0].Rating != ratingDown || recs[0].Comment == "" || len(recs[0].Sources) == 0 || recs[0].Question == "" {
		t.Errorf("stored feedback %+v, want the browser's thumbs down with comment and sources", recs)
	}
}

func modelCached(t *testing.T) bool {
	_, err := os.Stat(filepath.Join(quarryHome(t), "models", embeddingModel, "model.safetensors"))
	if err != nil && os.Getenv("CI") == "true" {
		t.Fatalf("model %s is not cached; `make models` fetches it", embeddingModel)
	}
	return err == nil
}

// machineOverloaded reports the 1-minute load average and whether it is over
// twice the CPU count.
func machineOverloaded() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	var load float64
	if _, err := fmt.Sscan(string(b), &load); err != nil {
		return 0, false
	}
	return load, load > 2*float64(runtime.NumCPU())
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// miniXQuAD writes a small XQuAD-style set: four paragraphs, six questions.
func miniXQuAD(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mini")
	writeFile(t, filepath.Join(dir, "corpus.jsonl"), strings.Join([]string{
		`{"_id":"p0","text":"Granite is an igneous rock. Granite forms from slowly cooling magma deep underground. It is rich in quartz and feldspar."}`,
		`{"_id":"p1","text":"Basalt is a volcanic rock. Basalt forms when lava cools quickly at the surface. Most of the ocean floor is basalt."}`,
		`{"_id":"p2","text":"The Nile is a river in Africa. The Nile is about 6,650 kilometres long. It flows north into the Mediterranean Sea."}`,
		`{"_id":"p3","text":"Mount Everest is the highest mountain on Earth. Its summit is 8,849 metres above sea level. It lies in the Himalayas."}`,
	}, "\n")+"\n")
	writeFile(t, filepath.Join(dir, "queries.jsonl"), strings.Join([]string{
		`{"_id":"q1","text":"How does granite form?"}`,
		`{"_id":"q2","text":"Where does basalt cool?"}`,
		`{"_id":"q3","text":"How long is the Nile?"}`,
		`{"_id":"q4","text":"Into which sea does the Nile flow?"}`,
		`{"_id":"q5","text":"How high is the summit of Mount Everest?"}`,
		`{"_id":"q6","text":"In which mountain range does Everest lie?"}`,
	}, "\n")+"\n")
	writeFile(t, filepath.Join(dir, "answers.jsonl"), strings.Join([]string{
		`{"_id":"q1","answers":["from slowly cooling magma"]}`,
		`{"_id":"q2","answers":["at the surface"]}`,
		`{"_id":"q3","answers":["6,650 kilometres"]}`,
		`{"_id":"q4","answers":["the Mediterranean Sea"]}`,
		`{"_id":"q5","answers":["8,849 metres"]}`,
		`{"_id":"q6","answers":["the Himalayas"]}`,
	}, "\n")+"\n")
	writeFile(t, filepath.Join(dir, "qrels", "test.tsv"), "query-id\tcorpus-id\tscore\nq1\tp0\t1\nq2\tp1\t1\nq3\tp2\t1\nq4\tp2\t1\nq5\tp3\t1\nq6\tp3\t1\n")
	return dir
}

type ragJSON struct {
	Dataset   string             `json:"dataset"`
	Questions int                `json:"questions"`
	Errors    int                `json:"errors"`
	Metrics   map[string]float64 `json:"metrics"`
	Latency   map[string]struct {
		P50 float64 `json:"p50_ms"`
		P99 float64 `json:"p99_ms"`
	} `json:"latency"`
	Results []struct {
		Answer    string `json:"answer"`
		Citations []struct {
			DocID string `json:"doc_id"`
		} `json:"citations"`
	} `json:"results"`
}

func TestEvalRAGCLI(t *testing.T) {
	// The CLI plumbing, extractive: with make test's QUARRY_LLM_URL the judge
	// would default to the local model and the run would take minutes (the
	// judged metrics are tested in internal/ragbench, scripted and real).
	t.Setenv("QUARRY_LLM_URL", "")
	t.Setenv("QUARRY_LLM_MODEL", "")
	set := miniXQuAD(t)
	data, reports := t.TempDir(), t.TempDir()
	out, errOut, code := cli(t, data, "eval", "rag", "--dataset", set, "--json", "--report", reports, "--k", "3", "--max-sentences", "2")
	if code != 0 {
		t.Fatalf("eval rag: exit %d: %s", code, errOut)
	}
	var rep ragJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
	if rep.Dataset != filepath.Base(filepath.Dir(set))+"/mini" || rep.Questions != 6 || rep.Errors != 0 {
		t.Fatalf("report header %+v", rep)
	}
	// Every question's paragraph is retrieved and its answer sentence is
	// among the two quoted: the metrics must say so.
	for _, m := range []string{"answer_recall", "citation_hit_any", "retrieval_hit"} {
		if rep.Metrics[m] < 0.99 {
			t.Errorf("%s = %.3f, want 1 on this easy set; answers %+v", m, rep.Metrics[m], rep.Results)
		}
	}
	for _, s := range []string{"retrieval", "rerank", "generation", "total"} {
		if _, ok := rep.Latency[s]; !ok {
			t.Errorf("latency lacks stage %s", s)
		}
	}
	if rep.Latency["total"].P99 < rep.Latency["total"].P50 || rep.Latency["total"].P50 <= 0 {
		t.Errorf("total latency %+v", rep.Latency["total"])
	}

	// The baseline gate: a baseline that scored higher fails with exit 3
	// naming the metric; the same run passes.
	basePath := filepath.Join(t.TempDir(), "base.json")
	writeFile(t, basePath, out)
	if _, errOut, code := cli(t, data, "eval", "rag", "--dataset", set, "--k", "3", "--max-sentences", "2", "--baseline", basePath); code != 0 {
		t.Fatalf("same run against its own baseline: exit %d %s", code, errOut)
	}
	var raw map[string]any
	json.Unmarshal([]byte(out), &raw)
	raw["metrics"].(map[string]any)["f1"] = rep.Metrics["f1"] + 0.1
	b, _ := json.Marshal(raw)
	writeFile(t, basePath, string(b))
	_, errOut, code = cli(t, data, "eval", "rag", "--dataset", set, "--k", "3", "--max-sentences", "2", "--baseline", basePath)
	if code != 3 || !strings.Contains(errOut, "f1 ") || strings.Contains(errOut, "answer_recall") {
		t.Fatalf("regressed run: exit %d, stderr %q; want 3 naming f1 only", code, errOut)
	}
	raw["dataset"] = "xquad/de"
	b, _ = json.Marshal(raw)
	writeFile(t, basePath, string(b))
	_, errOut, code = cli(t, data, "eval", "rag", "--dataset", set, "--k", "3", "--max-sentences", "2", "--baseline", basePath)
	if code != 1 || !strings.Contains(errOut, `"xquad/de"`) || !strings.Contains(errOut, basePath) {
		t.Fatalf("baseline of another dataset: exit %d, stderr %q", code, errOut)
	}

	// Bad input: one line naming file and line, exit 1.
	writeFile(t, filepath.Join(set, "answers.jsonl"), `{"_id":"q1","answers":[]}`+"\n")
	_, errOut, code = cli(t, data, "eval", "rag", "--dataset", set)
	if code != 1 || !strings.Contains(errOut, "answers.jsonl:1:") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("empty answers: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = cli(t, data, "eval", "rag", "--dataset", set, "--method", "magic")
	if code != 2 {
		t.Fatalf("bad --method: exit %d %q", code, errOut)
	}

	checkReportInBrowser(t, filepath.Join(reports, "rag-report.html"))
}

// checkReportInBrowser opens the HTML report in headless Chromium, checks
// the rendered DOM has the plots and the per-question table, and takes a
// screenshot in which the bar chart's colour must appear.
func checkReportInBrowser(t *testing.T, path string) {
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	dom, err := exec.CommandContext(ctx, bin, append(args, "--dump-dom", "file://"+path)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, want := range []string{`<svg`, `aria-label="metric means"`, `id="questions"`, "How long is the Nile?", "answer_recall"} {
		if !strings.Contains(string(dom), want) {
			t.Fatalf("rendered report lacks %q", want)
		}
	}
	shot := filepath.Join(t.TempDir(), "report.png")
	if out, err := exec.CommandContext(ctx, bin, append(args, "--screenshot="+shot, "--window-size=1200,900", "file://"+path)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	bars := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 0x4a && g>>8 == 0x7b && b>>8 == 0xd0 {
				bars++
			}
		}
	}
	if bars < 2000 {
		t.Fatalf("the screenshot shows %d pixels of the bar colour; the plots did not render", bars)
	}
	t.Logf("report screenshot: %d bar pixels", bars)
}

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
		t.Fatal("no chromium found: scripts/deps.sh installs Debian's chromium")
	}
	t.Skip("no chromium found (set QUARRY_CHROMIUM or run scripts/deps.sh)")
	return ""
}

// TestServeEvalDatasets: `quarry serve --eval-datasets DIR` runs the
// evaluation `quarry eval rag` runs, from the API, and a second serve over
// the same data directory still has its results; a bad folder stops
// start-up with one line.
func TestServeEvalDatasets(t *testing.T) {
	t.Setenv("QUARRY_LLM_URL", "")
	t.Setenv("QUARRY_LLM_MODEL", "")
	set := miniXQuAD(t)
	root, data := filepath.Dir(set), t.TempDir()
	if _, errOut, code := cli(t, data, "serve", "--addr", "127.0.0.1:0", "--eval-datasets", filepath.Join(root, "nope")); code != 1 || !strings.Contains(errOut, "--eval-datasets") {
		t.Errorf("serve with a missing dataset folder: exit %d, %q", code, errOut)
	}
	serve := func() (string, func()) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		var out, errb bytes.Buffer
		go func() {
			done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", data, "--eval-datasets", root}, &out, &errb)
		}()
		for i := 0; i < 200; i++ {
			if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		return "http://" + addr, func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d: %s", code, errb.String())
			}
		}
	}
	getJSON := func(url string, v any) int {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(v)
		return resp.StatusCode
	}
	type job struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Report *struct {
			Questions int                `json:"questions"`
			Metrics   map[string]float64 `json:"metrics"`
			Results   []struct {
				Answer string `json:"answer"`
			} `json:"results"`
		} `json:"report"`
	}
	url, stop := serve()
	resp, err := http.Post(url+"/v1/evals", "application/json", strings.NewReader(`{"dataset":"mini","k":3,"max_sentences":2,"limit":4}`))
	if err != nil {
		t.Fatal(err)
	}
	var j job
	json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || j.ID == "" {
		t.Fatalf("POST /v1/evals: %d %+v", resp.StatusCode, j)
	}
	deadline := time.Now().Add(60 * time.Second)
	for j.Status != "done" {
		if time.Now().After(deadline) || j.Status == "failed" || j.Status == "cancelled" {
			t.Fatalf("job %+v", j)
		}
		time.Sleep(100 * time.Millisecond)
		getJSON(url+"/v1/evals/"+j.ID, &j)
	}
	if j.Report == nil || j.Report.Questions != 4 || len(j.Report.Results) != 4 || j.Report.Metrics["answer_recall"] == 0 {
		t.Fatalf("report %+v", j.Report)
	}
	stop()

	url, stop = serve()
	defer stop()
	var again job
	if code := getJSON(url+"/v1/evals/"+j.ID, &again); code != 200 || again.Status != "done" || len(again.Report.Results) != 4 ||
		again.Report.Metrics["answer_recall"] != j.Report.Metrics["answer_recall"] {
		t.Errorf("after a restart: %d %+v", code, again)
	}
}

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// TestChatAcceptsOpenAIFields: the fields chat front-ends send are
// accepted; bad values are 400s naming the field.
func TestChatAcceptsOpenAIFields(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("rocks", map[string]any{"id": "g", "text": "Granite forms from slowly cooling magma."})
	base := func() map[string]any {
		return map[string]any{"model": "rocks", "messages": []any{map[string]any{"role": "user", "content": "How does granite form?"}}}
	}
	all := base()
	for k, v := range map[string]any{
		"frequency_penalty": 0.2, "presence_penalty": 0.1, "logit_bias": map[string]any{"42": 10}, "logprobs": true,
		"top_logprobs": 3, "metadata": map[string]any{"a": "b"}, "response_format": map[string]any{"type": "text"},
		"parallel_tool_calls": true, "store": false, "service_tier": "auto",
		"reasoning_effort": "low", "prompt_cache_key": "k", "safety_identifier": "s", "modalities": []any{"text"},
	} {
		all[k] = v
	}
	r := h.do("POST", "/v1/chat/completions", all).mustStatus(t, http.StatusOK)
	if c := r.list("choices"); len(c) != 1 || !strings.Contains(c[0].(map[string]any)["message"].(map[string]any)["content"].(string), "Granite") {
		t.Errorf("answer %s", r.body)
	}
	for field, v := range map[string]any{
		"frequency_penalty": 2.5, "presence_penalty": -3, "logit_bias": map[string]any{"x": 1}, "top_logprobs": 3,
		"response_format": map[string]any{"type": "yaml"}, "tool_choice": "auto", "reasoning_effort": "max",
	} {
		body := base()
		body[field] = v
		r := h.do("POST", "/v1/chat/completions", body)
		if r.status != http.StatusBadRequest || !strings.HasPrefix(r.str("error.param"), field) {
			t.Errorf("%s=%v: %d %s", field, v, r.status, r.body)
		}
	}
	body := base()
	body["tools"] = []any{map[string]any{"type": "function", "function": map[string]any{}}}
	if r := h.do("POST", "/v1/chat/completions", body); r.status != http.StatusBadRequest || r.str("error.param") != "tools[0].function.name" {
		t.Errorf("tool without name: %s", r.body)
	}
}

// TestOpenAIPythonCompat runs testdata/openai_compat.py (the official
// openai package) against a real port: the extra chat fields, two bad
// values, and embeddings in base64 (the SDK's default) and float, which
// must agree with each other and with the engine.
func TestOpenAIPythonCompat(t *testing.T) {
	py := openAIPython(t)
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	col, err := eng.EnsureCollection(ctx, "rocks")
	if err != nil {
		t.Fatal(err)
	}
	col.Upsert(ctx, []quarry.Document{{ID: "granite", Text: "Granite forms from slowly cooling magma deep underground."}}, nil)
	if _, _, err := eng.CreateCollection(ctx, "vectors", &quarry.CollectionConfig{Embedding: "all-MiniLM-L6-v2"}); err != nil {
		t.Skipf("no local embedding model (make models): %v", err)
	}
	want, _, err := eng.Embed(ctx, "vectors", []string{"granite is igneous"}, false)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- New(eng, Options{}).Serve(sctx, ln) }()
	defer func() { stop(); <-served }()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(rctx, py, filepath.Join("testdata", "openai_compat.py"), "http://"+ln.Addr().String()+"/v1", "rocks", "vectors")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openai_compat.py: %v\n%s", err, stderr.Bytes())
	}
	var r struct {
		Chat struct {
			Content      string `json:"content"`
			FinishReason string `json:"finish_reason"`
		} `json:"chat"`
		BadPenalty, BadFormat, BadModel *struct {
			Class  string `json:"class"`
			Status int    `json:"status"`
			Param  string `json:"param"`
		} `json:"-"`
		Embeddings struct {
			N, Dim, Index1, Usage int
			First                 []float64 `json:"first"`
		} `json:"embeddings"`
		FloatFirst []float64 `json:"float_first"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var errs map[string]*struct {
		Class  string `json:"class"`
		Status int    `json:"status"`
		Param  string `json:"param"`
	}
	json.Unmarshal(out, &errs)
	t.Logf("%s", out)
	if !strings.Contains(r.Chat.Content, "Granite forms") || r.Chat.FinishReason != "stop" {
		t.Errorf("chat with the extra fields: %+v", r.Chat)
	}
	for k, param := range map[string]string{"bad_penalty": "frequency_penalty", "bad_format": "response_format.type", "bad_model": "model",
		"json_needs_llm": "response_format", "bad_schema": "response_format.json_schema.schema", "bad_tool": "tools[0].function.name"} {
		if e := errs[k]; e == nil || e.Class != "BadRequestError" || e.Param != param {
			t.Errorf("%s: %+v", k, e)
		}
	}
	e := r.Embeddings
	if e.N != 2 || e.Dim != 384 || e.Index1 != 1 || e.Usage != 6 {
		t.Errorf("embeddings %+v", e)
	}
	for i := range 4 {
		if math.Abs(e.First[i]-float64(want[0][i])) > 1e-6 || math.Abs(r.FloatFirst[i]-float64(want[0][i])) > 1e-6 {
			t.Errorf("component %d: base64 %v, float %v, engine %v", i, e.First[i], r.FloatFirst[i], want[0][i])
		}
	}
}

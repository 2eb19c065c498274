package server

import (
	"github.com/quarry-rag/quarry/internal/testutil"

	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// openAIPython returns the Python of a venv with the official openai
// package (testdata/openai-requirements.txt), creating it under
// $QUARRY_HOME/venv-openai (default ~/.cache/quarry) on first use. Without
// python3 or pip it skips, or fails under CI=true.
func openAIPython(t *testing.T) string {
	return testutil.Venv(t, "venv-openai", filepath.Join("testdata", "openai-requirements.txt"))
}

// sdkReport is what testdata/openai_client.py prints.
type sdkReport struct {
	SDKVersion     string   `json:"sdk_version"`
	Models         []string `json:"models"`
	RetrievedModel string   `json:"retrieved_model"`
	NonStream      struct {
		Object, ID, Model, Role, Content string
		FinishReason                     string        `json:"finish_reason"`
		Citations                        []citationOut `json:"citations"`
		Usage                            *chatUsage    `json:"usage"`
		Method                           string        `json:"method"`
	} `json:"nonstream"`
	Stream struct {
		Chunks        int           `json:"chunks"`
		Content       string        `json:"content"`
		Roles         []string      `json:"roles"`
		FinishReasons []string      `json:"finish_reasons"`
		Citations     []citationOut `json:"citations"`
		Usage         *chatUsage    `json:"usage"`
		IDs           int           `json:"ids"`
	} `json:"stream"`
	Conversation struct {
		Content string `json:"content"`
	} `json:"conversation"`
	Errors map[string]*sdkError `json:"-"` // filled by runSDK
}

type sdkError struct {
	Class   string `json:"class"`
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Param   string `json:"param"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

// TestOpenAIPythonSDK runs the official openai Python package against the
// server on a real port: models.list, chat.completions.create without and
// with streaming, a conversation, and three errors. Extractive answers
// always; with the real local model too (skipped without one, outside CI).
func TestOpenAIPythonSDK(t *testing.T) {
	py := openAIPython(t)
	t.Run("extractive", func(t *testing.T) {
		r := runSDK(t, py, nil)
		if r.NonStream.Method != "extractive" || !strings.Contains(r.NonStream.Content, "Granite forms from slowly cooling magma deep underground. [1]") {
			t.Errorf("non-streamed answer %q (%s), want the extractive quote", r.NonStream.Content, r.NonStream.Method)
		}
		if r.Stream.Content != r.NonStream.Content {
			t.Errorf("streamed %q, non-streamed %q", r.Stream.Content, r.NonStream.Content)
		}
		if len(r.NonStream.Citations) == 0 || r.NonStream.Citations[0].DocID != "granite" || r.NonStream.Citations[0].Text != "Granite forms from slowly cooling magma deep underground." {
			t.Errorf("citations %+v", r.NonStream.Citations)
		}
		if len(r.Stream.Citations) != len(r.NonStream.Citations) {
			t.Errorf("streamed citations %+v", r.Stream.Citations)
		}
	})
	t.Run("llm", func(t *testing.T) {
		cfg := realLLM(t)
		r := runSDK(t, py, &cfg)
		if r.NonStream.Method != "llm" || strings.TrimSpace(r.NonStream.Content) == "" {
			t.Errorf("non-streamed answer %q (%s), want one from the model", r.NonStream.Content, r.NonStream.Method)
		}
		if strings.TrimSpace(r.Stream.Content) == "" || r.Stream.Chunks < 4 {
			t.Errorf("streamed %q in %d chunks, want the model's answer in pieces", r.Stream.Content, r.Stream.Chunks)
		}
		if r.NonStream.Usage == nil || r.NonStream.Usage.CompletionTokens <= 0 || r.Stream.Usage == nil || r.Stream.Usage.CompletionTokens <= 0 {
			t.Errorf("usage %+v / %+v, want the model's token counts", r.NonStream.Usage, r.Stream.Usage)
		}
		if strings.TrimSpace(r.Conversation.Content) == "" {
			t.Errorf("empty answer to a conversation (the first question's: %q)", r.NonStream.Content)
		} else {
			t.Logf("conversation: %q", r.Conversation.Content)
		}
	})
}

// runSDK serves the rocks corpus (with the language model cfg, if any) on
// a real port and runs the SDK script against it. It checks what does not
// depend on how the answer was written.
func runSDK(t *testing.T, py string, cfg *quarry.LLMConfig) *sdkReport {
	t.Helper()
	var opts *quarry.Options
	if cfg != nil {
		opts = &quarry.Options{LLM: *cfg}
	}
	eng, err := quarry.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, err := eng.EnsureCollection(context.Background(), "rocks")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(context.Background(), []quarry.Document{
		{ID: "granite", Title: "Granite", Text: "Granite forms from slowly cooling magma deep underground. It is rich in quartz and feldspar."},
		{ID: "basalt", Title: "Basalt", Text: "Basalt forms when lava cools quickly at the surface. It is dark and fine grained."},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.EnsureCollection(context.Background(), "rivers"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	srv := New(eng, Options{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	runCtx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, py, filepath.Join("testdata", "openai_client.py"), "http://"+ln.Addr().String()+"/v1", "rocks", granite)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openai_client.py: %v\n%s", err, stderr.Bytes())
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("the script's output is not JSON: %v\n%s", err, out)
	}
	var r sdkReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	r.Errors = map[string]*sdkError{}
	for _, k := range []string{"unknown_model", "bad_temperature", "no_user_message"} {
		var e *sdkError
		if err := json.Unmarshal(raw[k], &e); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		r.Errors[k] = e
	}
	t.Logf("openai %s: %d stream chunks; answer %q", r.SDKVersion, r.Stream.Chunks, r.NonStream.Content)

	if strings.Join(r.Models, ",") != "rivers,rocks" || r.RetrievedModel != "rocks" {
		t.Errorf("models %v, retrieved %q", r.Models, r.RetrievedModel)
	}
	ns := r.NonStream
	if ns.Object != "chat.completion" || ns.Model != "rocks" || ns.Role != "assistant" || !strings.HasPrefix(ns.ID, "chatcmpl-") || ns.Usage == nil {
		t.Errorf("non-streamed completion %+v", ns)
	}
	if ns.FinishReason != "stop" && ns.FinishReason != "length" {
		t.Errorf("finish reason %q", ns.FinishReason)
	}
	st := r.Stream
	if roles := strings.Join(st.Roles, ","); roles != "assistant" || len(st.FinishReasons) != 1 || st.IDs != 1 || st.Usage == nil {
		t.Errorf("stream: roles %v, finish reasons %v, %d ids, usage %+v", st.Roles, st.FinishReasons, st.IDs, st.Usage)
	}
	for k, want := range map[string]sdkError{
		"unknown_model":   {Class: "NotFoundError", Status: 404, Code: "model_not_found", Param: "model", Type: "invalid_request_error"},
		"bad_temperature": {Class: "BadRequestError", Status: 400, Code: "invalid_argument", Param: "temperature", Type: "invalid_request_error"},
		"no_user_message": {Class: "BadRequestError", Status: 400, Code: "invalid_argument", Param: "messages", Type: "invalid_request_error"},
	} {
		got := r.Errors[k]
		if got == nil {
			t.Errorf("%s: the SDK raised no error", k)
			continue
		}
		msg := got.Message
		got.Message = ""
		if *got != want || msg == "" {
			t.Errorf("%s: the SDK raised %+v (%q), want %+v", k, *got, msg, want)
		}
	}
	return &r
}

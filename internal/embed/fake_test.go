package embed

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// protocolFake is an embedding server that speaks one of the three wire
// protocols for real — request paths and bodies are checked the way the
// servers check them, answers and error bodies have the servers' shapes —
// with vectors derived deterministically from a hash of each text. It is a
// protocol fake, not a mock of a model: no real OpenAI or TEI server can
// run in this environment (tests against a real Ollama come later).
type protocolFake struct {
	proto       string // "openai", "ollama" or "tei"
	model       string // the one model the server has ("" for tei)
	apiKey      string // when set, requests must carry "Bearer apiKey"
	teiMaxBatch int    // TEI --max-client-batch-size (default 32)
	srv         *httptest.Server

	mu struct {
		sync.Mutex
		dim      int
		requests int
		batches  [][]string // texts of each well-formed request
		// fault, when set, may answer request n (1-based) itself and
		// return true.
		fault func(n int, w http.ResponseWriter, r *http.Request, texts []string) bool
	}
}

func newFake(t testing.TB, proto string, dim int) *protocolFake {
	f := &protocolFake{proto: proto, teiMaxBatch: 32}
	if proto != "tei" {
		f.model = "fake-embed"
	}
	f.mu.dim = dim
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *protocolFake) setFault(fn func(n int, w http.ResponseWriter, r *http.Request, texts []string) bool) {
	f.mu.Lock()
	f.mu.fault = fn
	f.mu.Unlock()
}

func (f *protocolFake) setDim(d int) {
	f.mu.Lock()
	f.mu.dim = d
	f.mu.Unlock()
}

func (f *protocolFake) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.requests
}

func (f *protocolFake) batches() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.mu.batches...)
}

// fakeVector is the fake model: a unit vector seeded by the FNV-1a hash of
// the text.
func fakeVector(text string, dim int) []float32 {
	h := fnv.New64a()
	h.Write([]byte(text))
	s := h.Sum64()
	r := rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
	v := make([]float32, dim)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(n))
	}
	return v
}

func (f *protocolFake) path() string {
	return map[string]string{"openai": "/v1/embeddings", "ollama": "/api/embed", "tei": "/embed"}[f.proto]
}

// writeError answers with the error body shape of the protocol.
func (f *protocolFake) writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var body any
	switch f.proto {
	case "openai":
		body = map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}}
	case "ollama":
		body = map[string]any{"error": msg}
	default:
		body = map[string]any{"error": msg, "error_type": "Validation"}
	}
	json.NewEncoder(w).Encode(body)
}

// writeVectors answers with vecs in the protocol's shape (OpenAI's data in
// reverse order, as its index field allows).
func (f *protocolFake) writeVectors(w http.ResponseWriter, vecs [][]float32) {
	w.Header().Set("Content-Type", "application/json")
	var body any
	switch f.proto {
	case "openai":
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		data := make([]item, len(vecs))
		for i, v := range vecs {
			data[len(vecs)-1-i] = item{"embedding", i, v}
		}
		body = map[string]any{"object": "list", "data": data, "model": f.model,
			"usage": map[string]int{"prompt_tokens": len(vecs), "total_tokens": len(vecs)}}
	case "ollama":
		body = map[string]any{"model": f.model, "embeddings": vecs, "total_duration": 1000, "prompt_eval_count": len(vecs)}
	default:
		body = vecs
	}
	json.NewEncoder(w).Encode(body)
}

// writeRaw answers 200 with vectors rendered by hand (for values JSON
// cannot carry, such as NaN): each vector is a list of literal tokens.
func (f *protocolFake) writeRaw(w http.ResponseWriter, vecs [][]string) {
	rows := make([]string, len(vecs))
	for i, v := range vecs {
		rows[i] = "[" + strings.Join(v, ",") + "]"
	}
	var body string
	switch f.proto {
	case "openai":
		items := make([]string, len(rows))
		for i, r := range rows {
			items[i] = fmt.Sprintf(`{"object":"embedding","index":%d,"embedding":%s}`, i, r)
		}
		body = `{"object":"list","data":[` + strings.Join(items, ",") + `]}`
	case "ollama":
		body = `{"model":"fake-embed","embeddings":[` + strings.Join(rows, ",") + `]}`
	default:
		body = "[" + strings.Join(rows, ",") + "]"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(body))
}

func (f *protocolFake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.mu.requests++
	n, fault, dim := f.mu.requests, f.mu.fault, f.mu.dim
	f.mu.Unlock()

	if r.Method != http.MethodPost || r.URL.Path != f.path() {
		f.writeError(w, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		f.writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	if f.apiKey != "" && r.Header.Get("Authorization") != "Bearer "+f.apiKey {
		f.writeError(w, http.StatusUnauthorized, "Incorrect API key provided")
		return
	}
	var req struct {
		Model    string          `json:"model"`
		Input    json.RawMessage `json:"input"`  // openai, ollama: a string or an array of strings
		Inputs   json.RawMessage `json:"inputs"` // tei
		Truncate *bool           `json:"truncate"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		f.writeError(w, http.StatusUnprocessableEntity, "Failed to deserialize the JSON body: "+err.Error())
		return
	}
	raw := req.Input
	if f.proto == "tei" {
		raw = req.Inputs
		if req.Model != "" || req.Input != nil {
			f.writeError(w, http.StatusUnprocessableEntity, "unknown field")
			return
		}
	} else if req.Inputs != nil {
		f.writeError(w, http.StatusBadRequest, "unknown field inputs")
		return
	}
	var texts []string
	if err := json.Unmarshal(raw, &texts); err != nil {
		var one string
		if err2 := json.Unmarshal(raw, &one); err2 != nil {
			f.writeError(w, http.StatusBadRequest, "input must be a string or an array of strings")
			return
		}
		texts = []string{one}
	}
	switch {
	case f.proto != "tei" && req.Model == "":
		f.writeError(w, http.StatusBadRequest, "model is required")
		return
	case f.proto == "ollama" && req.Model != f.model:
		f.writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found, try pulling it first", req.Model))
		return
	case f.proto == "openai" && req.Model != f.model:
		f.writeError(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model))
		return
	case f.proto == "tei" && len(texts) == 0:
		f.writeError(w, http.StatusUnprocessableEntity, "`inputs` cannot be empty")
		return
	case f.proto == "tei" && len(texts) > f.teiMaxBatch:
		f.writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("batch size %d > maximum allowed batch size %d", len(texts), f.teiMaxBatch))
		return
	}
	if fault != nil && fault(n, w, r, texts) {
		return
	}
	f.mu.Lock()
	f.mu.batches = append(f.mu.batches, texts)
	f.mu.Unlock()
	vecs := make([][]float32, len(texts))
	for i, t := range texts {
		vecs[i] = fakeVector(t, dim)
	}
	f.writeVectors(w, vecs)
}

package testutil

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DefaultLLMModel is the model scripts/llm.sh serves.
const DefaultLLMModel = "quarry-gemma3-270m"

// Home is Quarry's cache folder: QUARRY_HOME, else ~/.cache/quarry.
func Home() string {
	if h := os.Getenv("QUARRY_HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return filepath.Join(h, ".cache", "quarry")
}

// skip skips t with msg, or fails it under CI=true.
func skip(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true: " + msg)
	}
	t.Skip(msg)
}

// RequireModel returns the folder of the cached model name (with a
// model.safetensors, or one of the files in alt), or skips.
func RequireModel(t testing.TB, name string, alt ...string) string {
	t.Helper()
	dir := filepath.Join(Home(), "models", name)
	for _, f := range append([]string{"model.safetensors"}, alt...) {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return dir
		}
	}
	skip(t, fmt.Sprintf("model %s is not cached in %s (run `make models`)", name, dir))
	return ""
}

// LLM returns the real local language model (scripts/llm.sh):
// QUARRY_LLM_URL and QUARRY_LLM_MODEL, else the local Ollama on
// QUARRY_OLLAMA_PORT (default 11435) if it answers and has the model. It
// skips when there is none.
func LLM(t testing.TB) (url, model string) {
	t.Helper()
	url, model = os.Getenv("QUARRY_LLM_URL"), os.Getenv("QUARRY_LLM_MODEL")
	if model == "" {
		model = DefaultLLMModel
	}
	if url == "" {
		port := os.Getenv("QUARRY_OLLAMA_PORT")
		if port == "" {
			port = "11435"
		}
		if ollamaHas("http://127.0.0.1:"+port, model) {
			url = "http://127.0.0.1:" + port
		}
	}
	if url == "" {
		skip(t, "no language model: set QUARRY_LLM_URL and QUARRY_LLM_MODEL (eval \"$(bash scripts/llm.sh)\")")
	}
	return url, model
}

// ollamaHas reports whether the Ollama at url answers and lists model.
func ollamaHas(url, model string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get(url + "/api/tags")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var tags struct {
		Models []struct{ Name string } `json:"models"`
	}
	if json.NewDecoder(resp.Body).Decode(&tags) != nil {
		return false
	}
	for _, m := range tags.Models {
		if m.Name == model || strings.TrimSuffix(m.Name, ":latest") == model {
			return true
		}
	}
	return false
}

// Weaviate returns the Weaviate a test may use: QUARRY_WEAVIATE_URL, else
// a node on the default port 8089, once it reports ready; else it skips.
func Weaviate(t testing.TB) string {
	t.Helper()
	url := os.Getenv("QUARRY_WEAVIATE_URL")
	if url == "" {
		url = "http://127.0.0.1:8089"
	}
	c := http.Client{Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()
	if resp, err := c.Get(url + "/v1/.well-known/ready"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 300 {
			return url
		}
	}
	skip(t, fmt.Sprintf("no Weaviate at %s (start one with `eval \"$(make -s weaviate)\"`)", url))
	return ""
}

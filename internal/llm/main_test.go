package llm

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// realURL/realModel point at the real local Ollama (see `make llm`); empty when unavailable.
var realURL, realModel, realSkip string

func TestMain(m *testing.M) {
	started := setupReal()
	code := m.Run()
	if started {
		_ = exec.Command("bash", "../../scripts/ollama.sh", "stop").Run()
	}
	os.Exit(code)
}

// setupReal finds or starts the real server; it reports whether it started it.
func setupReal() bool {
	realModel = os.Getenv("QUARRY_LLM_MODEL")
	if realModel == "" {
		realModel = "quarry-gemma3-270m"
	}
	if u := os.Getenv("QUARRY_LLM_URL"); u != "" {
		realURL = u
		return false
	}
	home := os.Getenv("QUARRY_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "quarry")
	}
	port := os.Getenv("QUARRY_OLLAMA_PORT")
	if port == "" {
		port = "11435"
	}
	url := "http://127.0.0.1:" + port
	manifest := filepath.Join(home, "ollama", "models", "manifests", "registry.ollama.ai", "library", realModel, "latest")
	for _, p := range []string{filepath.Join(home, "bin", "ollama"), manifest} {
		if _, err := os.Stat(p); err != nil {
			realSkip = fmt.Sprintf("real LLM not cached (%s missing): run `make llm` or set QUARRY_LLM_URL", p)
			return false
		}
	}
	if up(url) {
		realURL = url
		return false
	}
	out, err := exec.Command("bash", "../../scripts/ollama.sh", "start").CombinedOutput()
	if err != nil {
		realSkip = fmt.Sprintf("scripts/ollama.sh start failed: %v\n%s", err, out)
		return false
	}
	realURL = url
	return true
}

func up(url string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + "/api/version")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// needReal skips (or fails under CI=true) when the real server is unavailable.
func needReal(t *testing.T) {
	t.Helper()
	if realURL != "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(realSkip)
	}
	t.Skip(realSkip)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func ptr[T any](v T) *T { return &v }

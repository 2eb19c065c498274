package weaviate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The tests run against a real Weaviate: QUARRY_WEAVIATE_URL when set,
// else a single node that TestMain starts with scripts/weaviate.sh (and
// stops afterwards). Without the built server they skip, except under
// CI=true where the script builds it.

var (
	testURL  string
	setupErr string // why the Weaviate tests skip
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

func quarryHome() string {
	if h := os.Getenv("QUARRY_HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return filepath.Join(h, ".cache", "quarry")
}

func serverBinary() string { return filepath.Join(quarryHome(), "bin", "weaviate-server") }

func ready(url string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url + "/v1/.well-known/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode < 300
}

func TestMain(m *testing.M) {
	started := false
	testURL = os.Getenv("QUARRY_WEAVIATE_URL")
	if testURL == "" {
		const def = "http://127.0.0.1:8089"
		switch {
		case ready(def):
			testURL = def
		case os.Getenv("CI") != "true" && !fileExists(serverBinary()):
			setupErr = "Weaviate not available: QUARRY_WEAVIATE_URL is unset and " + serverBinary() + " is missing (run `make weaviate`)"
		default:
			out, err := script("start")
			if err != nil {
				setupErr = fmt.Sprintf("scripts/weaviate.sh start failed: %v\n%s", err, out)
			} else {
				testURL = parseURL(out)
				started = true
			}
		}
	}
	code := m.Run()
	if started {
		script("stop")
	}
	os.Exit(code)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// script runs scripts/weaviate.sh with args and extra environment.
func script(args ...string) (string, error) {
	return scriptEnv(nil, args...)
}

func scriptEnv(env []string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(repoRoot(), "scripts", "weaviate.sh")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func parseURL(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "QUARRY_WEAVIATE_URL="); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// needWeaviate skips (or, under CI=true, fails) a test without Weaviate.
func needWeaviate(t testing.TB) string {
	t.Helper()
	if testURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: %s", setupErr)
		}
		t.Skip(setupErr)
	}
	return testURL
}

func uniqueName(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// openTest opens a backend on a fresh collection, dropped after the test.
func openTest(t testing.TB, url string, cfg Config) *Backend {
	t.Helper()
	cfg.URL = url
	name := cfg.URL // placeholder, replaced below
	name = uniqueName("t")
	b, err := Open(context.Background(), name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Drop(context.Background())
		b.Close()
	})
	return b
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func serveFlags(t *testing.T, args ...string) (*cliEnv, *llmFlags, func(string) (string, error)) {
	env := &cliEnv{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	fs := newFlags("serve", env)
	fs.String("addr", envOr("QUARRY_ADDR", "127.0.0.1:8080"), "")
	var lf llmFlags
	lf.bind(fs)
	if _, err := parse(fs, args); err != nil {
		t.Fatal(err)
	}
	return env, &lf, func(path string) (string, error) {
		so, err := loadServeConfig(fs, path, true)
		return fmt.Sprintf("addr=%s model=%s read=%v body=%d", fs.Lookup("addr").Value, lf.model, so.ReadTimeout, so.MaxBodyBytes), err
	}
}

func TestServeConfigPrecedence(t *testing.T) {
	for _, k := range []string{"QUARRY_LLM_MODEL", "QUARRY_ADDR", "QUARRY_SERVER_READ_TIMEOUT", "QUARRY_DATA_DIR"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "quarry.yaml")
	os.WriteFile(cfg, []byte("addr: 127.0.0.1:9999\ndata_dir: "+dir+"/d\nllm:\n  model: from-file\n  timeout: 90s\nserver:\n  read_timeout: 7s\n  max_body_bytes: 2048\n"), 0o644)

	env, lf, load := serveFlags(t)
	got, err := load(cfg)
	if err != nil || got != "addr=127.0.0.1:9999 model=from-file read=7s body=2048" || env.dataDir != dir+"/d" || lf.timeout != 90*time.Second {
		t.Errorf("file only: %s %v (data %s, timeout %v)", got, err, env.dataDir, lf.timeout)
	}
	_, _, load = serveFlags(t, "--llm-model", "from-flag")
	if got, _ := load(cfg); !strings.Contains(got, "model=from-flag") {
		t.Errorf("flag over file: %s", got)
	}
	t.Setenv("QUARRY_LLM_MODEL", "from-env")
	t.Setenv("QUARRY_SERVER_READ_TIMEOUT", "3s")
	_, _, load = serveFlags(t)
	if got, _ := load(cfg); !strings.Contains(got, "model=from-env") || !strings.Contains(got, "read=3s") {
		t.Errorf("env over file: %s", got)
	}
	t.Setenv("QUARRY_LLM_MODEL", "")
	t.Setenv("QUARRY_SERVER_READ_TIMEOUT", "")

	for body, want := range map[string]string{
		"llm:\n  modle: x\n":            "unknown key(s) llm.modle",
		"server:\n  read_timeout: 5\n":  "server.read_timeout",
		"weaviate:\n  replication: x\n": "weaviate.replication",
		"addr: [1, 2\n":                 "config",
	} {
		p := filepath.Join(dir, "bad.yaml")
		os.WriteFile(p, []byte(body), 0o644)
		_, _, load := serveFlags(t)
		if _, err := load(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", body, err, want)
		}
	}
	_, _, load = serveFlags(t)
	if _, err := load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Errorf("a missing --config file is not an error")
	}
}

// TestServeWithConfigFile starts the real serve command from a config
// file and reaches it on the address the file names.
func TestServeWithConfigFile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "quarry.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("addr: %s\nserver:\n  shutdown_timeout: 2s\n", addr)), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfg, "--data-dir", filepath.Join(dir, "data")}, &out, &errb)
	}()
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("serve from the config file is not reachable on %s: %v\n%s", addr, err, errb.String())
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d: %s", code, errb.String())
	}
}

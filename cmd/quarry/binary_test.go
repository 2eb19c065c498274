package main

// Tests through the real binary: help, flags, suggestions, version,
// completion, and client mode against a real `quarry serve`.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/quarry-rag/quarry/internal/models/hub"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// quarryBin builds the binary once per test run (with VCS stamping when the
// tree has it) and returns its path.
func quarryBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "quarry-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "quarry")
		out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{err: err, out: string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// bin runs the built binary with env added to a clean QUARRY_* environment.
func bin(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(quarryBin(t), args...)
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// cleanEnv is the environment without QUARRY_* settings (the developer's
// or make test's), but with QUARRY_HOME for the model cache.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "QUARRY_") && !strings.HasPrefix(kv, "QUARRY_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func TestBinaryHelpGoesToStdoutWithExamples(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"search", "--help"}, {"models", "--help"}, {"models", "pull", "--help"},
		{"keys", "create", "-h"}, {"guard", "eval", "--help"}, {"eval", "retrieval", "--help"}, {"help", "ingest"},
	} {
		out, errOut, code := bin(t, nil, args...)
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage:") || !strings.Contains(out, "Examples:") {
			t.Errorf("%v: exit %d, stderr %q, stdout %q (want usage with examples on stdout)", args, code, errOut, out)
		}
	}
	// Every command and subcommand of the tree has help with examples.
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.Name() == "completion" || sub.Name() == "help" {
				continue
			}
			args := append(strings.Fields(strings.TrimPrefix(sub.CommandPath(), "quarry ")), "--help")
			out, errOut, code := bin(t, nil, args...)
			if code != 0 || errOut != "" || !strings.Contains(out, "Examples:\n  quarry ") {
				t.Errorf("%v: exit %d, stderr %q, stdout %q", args, code, errOut, out)
			}
			walk(sub)
		}
	}
	walk(newRoot(&cliEnv{stdout: io.Discard, stderr: io.Discard}))
	// Search's help lists eval's retrieval flags.
	out, _, _ := bin(t, nil, "search", "--help")
	for _, f := range []string{"--mode", "--fusion", "--alpha", "--mmr", "--ef", "--exact", "--data-dir", "--server"} {
		if !strings.Contains(out, f) {
			t.Errorf("search --help lacks %s", f)
		}
	}
}

func TestBinaryGlobalFlagsAnywhere(t *testing.T) {
	data, src := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(src, "rocks.md"), "# Rocks\n\nGranite forms from slowly cooling magma.\n")
	if _, errOut, code := bin(t, nil, "--data-dir", data, "ingest", src); code != 0 {
		t.Fatalf("ingest: %d %s", code, errOut)
	}
	for _, args := range [][]string{
		{"--data-dir", data, "stats", "--json"},
		{"stats", "--data-dir", data, "--json"},
		{"--json", "stats", "--data-dir=" + data},
		{"--collection", "default", "--data-dir", data, "--json", "stats"},
	} {
		out, errOut, code := bin(t, nil, args...)
		var st struct{ Documents int }
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Documents != 1 {
			t.Errorf("%v: exit %d, %q, stderr %q", args, code, out, errOut)
		}
	}
	out, _, code := bin(t, []string{"QUARRY_DATA_DIR=" + data}, "search", "granite", "--json")
	if code != 0 || !strings.Contains(out, `"rocks.md"`) {
		t.Errorf("QUARRY_DATA_DIR: exit %d, %q", code, out)
	}
	// check --json prints JSON.
	out, _, code = bin(t, nil, "check", "--json", "--data-dir", data)
	var chk struct {
		Collection string
		Consistent bool
	}
	if code != 0 || json.Unmarshal([]byte(out), &chk) != nil || !chk.Consistent || chk.Collection != "default" {
		t.Errorf("check --json: exit %d, %q", code, out)
	}
}

func TestBinaryTypoSuggestions(t *testing.T) {
	data := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serch", "granite"}, `did you mean "search"?`},
		{[]string{"stast"}, `did you mean "stats"?`},
		{[]string{"models", "lsit"}, `did you mean "list"?`},
		{[]string{"search", "granite", "--jsn"}, "did you mean --json?"},
		{[]string{"search", "granite", "--fusoin", "rrf"}, "did you mean --fusion?"},
		{[]string{"search", "x", "--k", "zero"}, "invalid value"},
	}
	for _, c := range cases {
		out, errOut, code := bin(t, nil, append(c.args, "--data-dir", data)...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d (want 2), stdout %q, stderr %q (want one line with %q)", c.args, code, out, errOut, c.want)
		}
	}
}

func TestBinaryVersion(t *testing.T) {
	out, errOut, code := bin(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "quarry ") || errOut != "" {
		t.Fatalf("version: exit %d, %q, %q", code, out, errOut)
	}
	out, _, code = bin(t, nil, "version", "--json")
	var v versionInfo
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Version == "" || !strings.HasPrefix(v.Go, "go") {
		t.Fatalf("version --json: exit %d, %q", code, out)
	}
	// Built in a git checkout, the binary names the commit it was built
	// from. The go command stamps only a checkout whose .git is a
	// directory, not a linked worktree (where .git is a file).
	fi, err := os.Stat(filepath.Join("..", "..", ".git"))
	if err != nil || !fi.IsDir() {
		t.Logf("not a git checkout with a .git folder: revision %q not checked", v.Revision)
		return
	}
	if rev, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		if want := strings.TrimSpace(string(rev)); v.Revision != want {
			t.Errorf("revision %q, want HEAD %q", v.Revision, want)
		}
	}
}

func TestBinaryCompletion(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "__start_quarry", "zsh": "#compdef quarry", "fish": "complete -c quarry"} {
		out, errOut, code := bin(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(out, marker) {
			t.Errorf("completion %s: exit %d, stderr %q, stdout lacks %q", shell, code, errOut, marker)
		}
	}
	// Enum flags complete their values.
	out, _, code := bin(t, nil, "__complete", "search", "--mode", "")
	if code != 0 || !strings.Contains(out, "hybrid") || !strings.Contains(out, "bm25") {
		t.Errorf("__complete search --mode: exit %d, %q", code, out)
	}
	// The completion engine itself answers: subcommands of models.
	out, _, code = bin(t, nil, "__complete", "models", "")
	if code != 0 || !strings.Contains(out, "pull") || !strings.Contains(out, "verify") {
		t.Errorf("__complete models: exit %d, %q", code, out)
	}
}

// startServe starts `quarry serve` on a free loopback port over data and
// returns its URL once it answers; the server stops at the end of the test.
func startServe(t *testing.T, data string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, quarryBin(t), append([]string{"serve", "--data-dir", data, "--addr", "127.0.0.1:0"}, extra...)...)
	cmd.Env = cleanEnv()
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(data, serveAddrFile)); err == nil {
			url, _, _ := strings.Cut(string(b), "\n")
			if resp, err := http.Get(url + "/healthz"); err == nil {
				resp.Body.Close()
				return url
			}
		}
		select {
		case <-done:
			t.Fatalf("quarry serve exited: %s", errb.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("quarry serve did not come up: %s", errb.String())
	return ""
}

// TestBinaryClientMode: with --server (or QUARRY_SERVER) and an API key,
// ingest (an upload), search, ask, get, stats and delete go through a
// running quarry serve; without the key the server's 401 is one line.
func TestBinaryClientMode(t *testing.T) {
	data, src := t.TempDir(), t.TempDir()
	keyOut, errOut, code := bin(t, nil, "keys", "create", "--role", "admin", "--data-dir", data)
	if code != 0 {
		t.Fatalf("keys create: %d %s", code, errOut)
	}
	key := strings.TrimSpace(keyOut)
	url := startServe(t, data)
	remote := []string{"QUARRY_SERVER=" + url, "QUARRY_API_KEY=" + key}
	other := t.TempDir() // no data here: everything must come from the server

	writeFile(t, filepath.Join(src, "rocks.md"), "# Rocks\n\nGranite forms from slowly cooling magma.\n")
	writeFile(t, filepath.Join(src, "lava.txt"), "Basalt forms from lava that cools quickly.\n")
	writeFile(t, filepath.Join(src, "photo.png"), "\x89PNG")
	out, errOut, code := bin(t, nil, "--server", url, "--api-key", key, "--data-dir", other, "ingest", src, "--json")
	var sum ingestSummary
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || sum.Documents != 2 || sum.Created != 2 || sum.Skipped != 1 {
		t.Fatalf("ingest --server: exit %d, %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = bin(t, remote, "search", "granite", "--json", "--data-dir", other)
	var res struct {
		Results []struct {
			DocID string `json:"doc_id"`
		}
		Mode string
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Results) == 0 || res.Results[0].DocID != "rocks.md" || res.Mode != "bm25" {
		t.Fatalf("search via QUARRY_SERVER: exit %d, %q, %s", code, out, errOut)
	}
	out, _, code = bin(t, remote, "ask", "--method", "extractive", "--json", "How does basalt form?")
	if code != 0 || !strings.Contains(out, "Basalt forms from lava") {
		t.Fatalf("ask: exit %d, %q", code, out)
	}
	// Text output streams the answer (Server-Sent Events) and lists the
	// citations.
	out, errOut, code = bin(t, remote, "ask", "--method", "extractive", "How does basalt form?")
	if code != 0 || !strings.Contains(out, "Basalt forms from lava") || !strings.Contains(out, "lava.txt, characters") {
		t.Fatalf("ask (streamed): exit %d, %q, %q", code, out, errOut)
	}
	out, _, code = bin(t, remote, "get", "lava.txt")
	if code != 0 || !strings.Contains(out, "id: lava.txt") {
		t.Fatalf("get: exit %d, %q", code, out)
	}
	if _, errOut, code = bin(t, remote, "delete", "lava.txt"); code != 0 {
		t.Fatalf("delete: %d %s", code, errOut)
	}
	out, _, code = bin(t, remote, "stats", "--json")
	var st struct {
		Collection string
		Documents  int
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Documents != 1 || st.Collection != "default" {
		t.Fatalf("stats: exit %d, %q", code, out)
	}
	// Without the key: the server refuses, in one line naming the status.
	_, errOut, code = bin(t, []string{"QUARRY_SERVER=" + url}, "search", "granite")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "401") {
		t.Fatalf("no key: exit %d, %q", code, errOut)
	}
}

// TestBinaryLockedDataDirUsesServer: while quarry serve holds the data
// directory, CLI commands on it say so and go through the server, without
// waiting out the lock; when the server's address is unknown the error
// names --server.
func TestBinaryLockedDataDirUsesServer(t *testing.T) {
	data, src := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(src, "rocks.md"), "# Rocks\n\nGranite forms from slowly cooling magma.\n")
	if _, errOut, code := bin(t, nil, "--data-dir", data, "ingest", src); code != 0 {
		t.Fatalf("ingest: %d %s", code, errOut)
	}
	url := startServe(t, data)
	start := time.Now()
	out, errOut, code := bin(t, nil, "--data-dir", data, "stats", "--json")
	took := time.Since(start)
	var st struct{ Documents int }
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Documents != 1 {
		t.Fatalf("stats on a served directory: exit %d, %q, %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "in use by quarry serve at "+url) {
		t.Errorf("stderr %q does not say which server is used", errOut)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("stats took %v: it waited for the lock instead of using the recorded server", took)
	}
	writeFile(t, filepath.Join(src, "more.md"), "# More\n\nObsidian is volcanic glass.\n")
	if out, errOut, code = bin(t, nil, "--data-dir", data, "ingest", filepath.Join(src, "more.md"), "--json"); code != 0 || !strings.Contains(out, `"created": 1`) {
		t.Fatalf("ingest on a served directory: exit %d, %q, %q", code, out, errOut)
	}
	if out, _, code = bin(t, nil, "--data-dir", data, "search", "obsidian", "--json"); code != 0 || !strings.Contains(out, "more.md") {
		t.Fatalf("search after ingest through the server: exit %d, %q", code, out)
	}
	// Without the recorded address the lock error points at --server.
	if err := os.Remove(filepath.Join(data, serveAddrFile)); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = bin(t, nil, "--data-dir", data, "stats")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "in use by another process") || !strings.Contains(errOut, "--server") {
		t.Fatalf("locked without serve.addr: exit %d, %q", code, errOut)
	}
}

// BenchmarkBinaryStartup measures a whole run of the built binary (start,
// package initialisation, command tree, output, exit) for `quarry version`
// and `quarry --help`:
//
//	go test -run '^$' -bench BinaryStartup -benchtime 40x ./cmd/quarry
func BenchmarkBinaryStartup(b *testing.B) {
	path := quarryBin(b)
	for _, args := range [][]string{{"version"}, {"--help"}} {
		b.Run(strings.Join(args, " "), func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(path, args...)
				cmd.Env = cleanEnv()
				if out, err := cmd.Output(); err != nil || len(out) == 0 {
					b.Fatalf("%v: %v", args, err)
				}
			}
		})
	}
}

// TestBinaryServeGCTarget: quarry serve collects garbage at serveGCPercent
// unless $GOGC sets a target, which wins (go_gc_gogc_percent on /metrics,
// the runtime's own value).
func TestBinaryServeGCTarget(t *testing.T) {
	for _, tc := range []struct{ gogc, want string }{{"", "75"}, {"120", "120"}} {
		t.Run("GOGC="+tc.gogc, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc)
			url := startServe(t, t.TempDir())
			resp, err := http.Get(url + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
			}
			var got string
			for _, line := range strings.Split(string(body), "\n") {
				if v, ok := strings.CutPrefix(line, "go_gc_gogc_percent "); ok {
					got = v
				}
			}
			if got != tc.want {
				t.Fatalf("go_gc_gogc_percent = %q, want %s", got, tc.want)
			}
		})
	}
}

// TestBinaryStaleServeAddrIgnored: a serve.addr left by a server that died
// is not followed, even when another server now answers at that address.
func TestBinaryStaleServeAddrIgnored(t *testing.T) {
	mine, theirs, src := t.TempDir(), t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(src, "rocks.md"), "# Rocks\n\nGranite forms from slowly cooling magma.\n")
	if _, errOut, code := bin(t, nil, "--data-dir", mine, "ingest", src); code != 0 {
		t.Fatalf("ingest: %d %s", code, errOut)
	}
	other := startServe(t, theirs) // an empty data directory
	writeFile(t, filepath.Join(mine, serveAddrFile), other+"\n2147483646\n")
	out, errOut, code := bin(t, nil, "--data-dir", mine, "stats", "--json")
	var st struct{ Documents int }
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Documents != 1 || strings.Contains(errOut, "in use") {
		t.Fatalf("stats with a stale serve.addr: exit %d, %q, stderr %q", code, out, errOut)
	}
}

// TestBinaryClientModeCheckBackupEmbed: check, backup and embed go through
// a running quarry serve with the API key (a read key may embed but not
// check or back up); the backup restores elsewhere and checks consistent;
// the embeddings equal the local command's.
func TestBinaryClientModeCheckBackupEmbed(t *testing.T) {
	data, src := t.TempDir(), t.TempDir()
	admin, errOut, code := bin(t, nil, "keys", "create", "--role", "admin", "--data-dir", data)
	if code != 0 {
		t.Fatalf("keys create: %d %s", code, errOut)
	}
	reader, errOut, code := bin(t, nil, "keys", "create", "--role", "read", "--data-dir", data)
	if code != 0 {
		t.Fatalf("keys create: %d %s", code, errOut)
	}
	url := startServe(t, data)
	remote := []string{"QUARRY_SERVER=" + url, "QUARRY_API_KEY=" + strings.TrimSpace(admin)}
	other := t.TempDir() // nothing here: everything must come from the server
	writeFile(t, filepath.Join(src, "rocks.md"), "# Rocks\n\nGranite forms from slowly cooling magma.\n")
	writeFile(t, filepath.Join(src, "lava.txt"), "Basalt forms from lava that cools quickly.\n")
	if _, errOut, code := bin(t, remote, "ingest", src, "--data-dir", other); code != 0 {
		t.Fatalf("ingest: %d %s", code, errOut)
	}

	out, errOut, code := bin(t, remote, "check", "--json", "--data-dir", other)
	var ck checkResult
	if code != 0 || json.Unmarshal([]byte(out), &ck) != nil || !ck.Consistent || ck.Collection != "default" {
		t.Fatalf("check --json via the server: exit %d, %q, %q", code, out, errOut)
	}
	if out, _, code = bin(t, remote, "check"); code != 0 || !strings.Contains(out, `collection "default" is consistent`) {
		t.Fatalf("check via the server: exit %d, %q", code, out)
	}
	_, errOut, code = bin(t, remote, "check", "--collection", "nope")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "404") {
		t.Fatalf("check of a missing collection: exit %d, %q", code, errOut)
	}
	readOnly := []string{"QUARRY_SERVER=" + url, "QUARRY_API_KEY=" + strings.TrimSpace(reader)}
	if _, errOut, code = bin(t, readOnly, "check"); code != 1 || !strings.Contains(errOut, "403") {
		t.Fatalf("check with a read key: exit %d, %q", code, errOut)
	}

	// Backup through the server (it needs the admin key), restore in
	// another data directory, which checks it.
	tarFile := filepath.Join(t.TempDir(), "docs.tar")
	if _, errOut, code = bin(t, []string{"QUARRY_SERVER=" + url}, "backup", tarFile); code != 1 || !strings.Contains(errOut, "401") {
		t.Fatalf("backup without a key: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(tarFile); err == nil {
		t.Fatal("a refused backup left a file")
	}
	if out, errOut, code = bin(t, remote, "backup", tarFile, "--data-dir", other); code != 0 {
		t.Fatalf("backup via the server: exit %d, %q, %q", code, out, errOut)
	}
	restored := t.TempDir()
	out, errOut, code = bin(t, nil, "restore", "--data-dir", restored, "--json", tarFile)
	if code != 0 || !strings.Contains(out, `"documents": 2`) || !strings.Contains(out, `"consistent": true`) {
		t.Fatalf("restore of the server's backup: exit %d, %q, %q", code, out, errOut)
	}
	// Restore into the served directory cannot go through the server:
	// one line saying to stop it.
	_, errOut, code = bin(t, nil, "restore", "--data-dir", data, "--as", "copy", tarFile)
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "stop the quarry serve") {
		t.Fatalf("restore into a served directory: exit %d, %q", code, errOut)
	}
	// The served directory is found without --server: backup uses the
	// server recorded in it instead of failing on the lock.
	tar2 := filepath.Join(t.TempDir(), "docs2.tar")
	out, errOut, code = bin(t, []string{"QUARRY_API_KEY=" + strings.TrimSpace(admin)}, "backup", "--data-dir", data, tar2)
	if code != 0 || !strings.Contains(errOut, "in use by quarry serve at "+url) {
		t.Fatalf("backup of a served directory: exit %d, %q, %q", code, out, errOut)
	}

	if _, err := hub.Resolve("all-MiniLM-L6-v2"); err != nil {
		t.Skipf("all-MiniLM-L6-v2 not cached: run `make models` (%v)", err)
	}
	out, errOut, code = bin(t, readOnly, "embed", "--json", "--query", "how does basalt form", "granite")
	var viaServer, local [][]float32
	if code != 0 || json.Unmarshal([]byte(out), &viaServer) != nil || len(viaServer) != 2 || len(viaServer[0]) != 384 {
		t.Fatalf("embed via the server: exit %d, %q, %q", code, out, errOut)
	}
	out, errOut, code = bin(t, nil, "embed", "--json", "--query", "how does basalt form", "granite")
	if code != 0 || json.Unmarshal([]byte(out), &local) != nil || len(local) != 2 {
		t.Fatalf("embed locally: exit %d, %q, %q", code, out, errOut)
	}
	for i := range local {
		for j := range local[i] {
			if d := local[i][j] - viaServer[i][j]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("embedding %d[%d]: server %v, local %v", i, j, viaServer[i][j], local[i][j])
			}
		}
	}
	// A model the server does not have is the server's 4xx, in one line.
	_, errOut, code = bin(t, readOnly, "embed", "--model", "/etc/passwd", "x")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "HTTP 4") {
		t.Fatalf("embed with a path as model via the server: exit %d, %q", code, errOut)
	}
}

// TestBinaryLocalOnlyCommandsRefuseClientMode: a command that works on a
// local data directory only says so in one line (exit 2) in client mode,
// instead of acting on the local directory; one that uses neither refuses
// an explicit --server and ignores $QUARRY_SERVER.
func TestBinaryLocalOnlyCommandsRefuseClientMode(t *testing.T) {
	data := t.TempDir()
	url := "http://127.0.0.1:9" // never contacted
	for _, args := range [][]string{
		{"restore", "x.tar"},
		{"keys", "create", "--role", "read"},
		{"keys", "list"},
		{"keys", "revoke", "k_1"},
		{"mcp"},
		{"eval", "rag", "--dataset", "x.jsonl"},
	} {
		for _, how := range []struct {
			env  []string
			args []string
			name string
		}{
			{nil, []string{"--server", url}, "--server"},
			{[]string{"QUARRY_SERVER=" + url}, nil, "$QUARRY_SERVER"},
		} {
			line := append(append([]string{"--data-dir", data}, how.args...), args...)
			_, errOut, code := bin(t, how.env, line...)
			if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "no client mode ("+how.name+" is set)") {
				t.Errorf("quarry %s with %s: exit %d, %q", strings.Join(args, " "), how.name, code, errOut)
			}
		}
	}
	// Nothing was written to the local directory (keys create refused).
	if ents, _ := os.ReadDir(data); len(ents) != 0 {
		t.Errorf("the local data directory was written: %v", ents)
	}
	for _, args := range [][]string{{"models", "list"}, {"guard", "check", "hi"}, {"serve"}} {
		_, errOut, code := bin(t, nil, append([]string{"--server", url, "--data-dir", data}, args...)...)
		if code != 2 || !strings.Contains(errOut, "does not talk to a server: drop --server") {
			t.Errorf("quarry %s --server: exit %d, %q", strings.Join(args, " "), code, errOut)
		}
	}
	// $QUARRY_SERVER (meant for the data commands) does not stop them.
	if out, errOut, code := bin(t, []string{"QUARRY_SERVER=" + url}, "models", "list", "--json"); code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "[") {
		t.Errorf("models list with $QUARRY_SERVER: exit %d, %q, %q", code, out, errOut)
	}
}

// TestBinaryClientModeAgent: quarry agent in client mode runs the server's
// agent (its language model: a scripted FAKE model server replaying a
// tool call) with the API key, streams the steps, prints the answer and
// its citations; --json prints the result; flags that only a local agent
// has are refused.
func TestBinaryClientModeAgent(t *testing.T) {
	data, src := t.TempDir(), t.TempDir()
	keyOut, errOut, code := bin(t, nil, "keys", "create", "--role", "read", "--data-dir", data)
	if code != 0 {
		t.Fatalf("keys create: %d %s", code, errOut)
	}
	admin, errOut, code := bin(t, nil, "keys", "create", "--role", "admin", "--data-dir", data)
	if code != 0 {
		t.Fatalf("keys create: %d %s", code, errOut)
	}
	m := fakeAgentModel(t)
	url := startServe(t, data, "--llm-url", m.URL, "--llm-model", "fake")
	writeFile(t, filepath.Join(src, "deletes.md"), "# Deletes\n\nDeleting a document removes its chunks and postings.\n")
	if _, errOut, code := bin(t, []string{"QUARRY_SERVER=" + url, "QUARRY_API_KEY=" + strings.TrimSpace(admin)}, "ingest", src); code != 0 {
		t.Fatalf("ingest: %d %s", code, errOut)
	}
	remote := []string{"QUARRY_SERVER=" + url, "QUARRY_API_KEY=" + strings.TrimSpace(keyOut)}
	other := t.TempDir()
	out, errOut, code := bin(t, remote, "agent", "--data-dir", other, "how are deletes handled?")
	if code != 0 || !strings.Contains(out, "Deleting removes its chunks [1].") || !strings.Contains(out, "[1] deletes.md") {
		t.Fatalf("agent via the server: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "→ search") || !strings.Contains(errOut, "← ") {
		t.Errorf("the server's steps were not streamed: %q", errOut)
	}
	out, errOut, code = bin(t, remote, "agent", "--json", "how are deletes handled?")
	var res struct {
		State     string `json:"state"`
		Citations []struct {
			DocID string `json:"doc_id"`
		} `json:"citations"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.State != "answered" || len(res.Citations) == 0 || res.Citations[0].DocID != "deletes.md" {
		t.Fatalf("agent --json via the server: exit %d, %q, %q", code, out, errOut)
	}
	if ents, _ := os.ReadDir(other); len(ents) != 0 {
		t.Errorf("client mode wrote to the local data directory: %v", ents)
	}
	// The served directory itself: the agent finds the server in it.
	out, errOut, code = bin(t, []string{"QUARRY_API_KEY=" + strings.TrimSpace(keyOut)}, "agent", "--quiet", "--data-dir", data, "how are deletes handled?")
	if code != 0 || !strings.Contains(out, "Deleting removes its chunks [1].") || !strings.Contains(errOut, "in use by quarry serve at "+url) {
		t.Fatalf("agent on a served directory: exit %d, %q, %q", code, out, errOut)
	}
	_, errOut, code = bin(t, remote, "agent", "--llm-url", m.URL, "task")
	if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "drop --llm-url") {
		t.Errorf("agent --llm-url in client mode: exit %d, %q", code, errOut)
	}
	// A session the server does not know is the server's 404, in one line.
	_, errOut, code = bin(t, remote, "agent", "--session", "nope", "task")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("agent with an unknown session: exit %d, %q", code, errOut)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/auth"
)

func TestCLIKeys(t *testing.T) {
	data := t.TempDir()
	out, errOut, code := cli(t, data, "keys", "create", "--tenant", "acme", "--principals", "alice,bob", "--role", "write", "--expires", "720h", "--rate", "20/s")
	if code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	secret := strings.TrimSpace(out)
	st, err := auth.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	k, err := st.Authenticate(secret)
	if err != nil {
		t.Fatalf("the printed secret does not authenticate: %v", err)
	}
	if k.Tenant != "acme" || k.Role != auth.RoleWrite || strings.Join(k.Principals, ",") != "alice,bob" || k.Rate.PerSecond != 20 || time.Until(k.Expires) < 719*time.Hour {
		t.Fatalf("key %+v", k)
	}
	out, _, code = cli(t, data, "keys", "list", "--json")
	var rows []keyRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0].ID != k.ID || rows[0].State != "active" {
		t.Fatalf("list: %d %s", code, out)
	}
	if strings.Contains(out, secret[len(secret)-43:]) || strings.Contains(out, k.Hash) {
		t.Fatal("keys list shows the secret or its hash")
	}
	if _, errOut, code = cli(t, data, "keys", "revoke", k.ID); code != 0 {
		t.Fatalf("revoke: %d %s", code, errOut)
	}
	st2, _ := auth.Open(data)
	if _, err := st2.Authenticate(secret); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("after revoke: %v", err)
	}
	for _, args := range [][]string{
		{"keys", "create"},
		{"keys", "create", "--role", "root"},
		{"keys", "create", "--role", "read", "--rate", "fast"},
		{"keys", "revoke"},
		{"keys", "rotate"},
	} {
		if _, errOut, code := cli(t, data, args...); code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, errOut)
		}
	}
	if _, errOut, code := cli(t, data, "keys", "revoke", "ffffffffffffffff"); code != 1 {
		t.Errorf("revoke unknown: %d %s", code, errOut)
	}
}

// TestServeRefusesOpenNonLoopback: without keys, serve binds a loopback
// address only, unless told --insecure-no-auth.
func TestServeRefusesOpenNonLoopback(t *testing.T) {
	data := t.TempDir()
	_, errOut, code := cli(t, data, "serve", "--addr", "0.0.0.0:0")
	if code != 1 || !strings.Contains(errOut, "without API keys") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// With a key it starts (and stops when the context ends).
	if _, errOut, code := cli(t, data, "keys", "create", "--role", "admin"); code != 0 {
		t.Fatal(errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var stdout, stderr strings.Builder
	if code := run(ctx, []string{"serve", "--addr", "127.0.0.2:0", "--data-dir", data}, &stdout, &stderr); code != 0 {
		t.Fatalf("serve with a key: %d %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "API keys required") {
		t.Errorf("serve did not say keys are required: %s", stderr.String())
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "localhost:1": true, "[::1]:80": true, "127.9.9.9:1": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:80": false, "10.0.0.1:80": false, "example.com:80": false} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v", addr, got)
		}
	}
}

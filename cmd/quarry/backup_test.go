package main

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/server"
)

// TestCLIBackupRestore: back up from the data directory and, while a
// server holds it, through the server; restore both elsewhere; check.
func TestCLIBackupRestore(t *testing.T) {
	data, src, out := t.TempDir(), t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(src, "a.md"), "# Granite\n\nGranite is igneous.")
	writeFile(t, filepath.Join(src, "b.txt"), "Basalt is volcanic.")
	if _, e, code := cli(t, data, "ingest", src); code != 0 {
		t.Fatal(e)
	}
	file := filepath.Join(out, "default.tar")
	if o, e, code := cli(t, data, "backup", file); code != 0 || !strings.Contains(o, "backed up") {
		t.Fatalf("backup: %d %s %s", code, o, e)
	}
	restored := t.TempDir()
	o, e, code := cli(t, restored, "restore", file, "--json")
	var res struct {
		Collection string
		Documents  int
		Consistent bool
	}
	if code != 0 || json.Unmarshal([]byte(o), &res) != nil || res.Documents != 2 || !res.Consistent || res.Collection != "default" {
		t.Fatalf("restore: %d %s %s", code, o, e)
	}
	if o, _, code := cli(t, restored, "check"); code != 0 || !strings.Contains(o, "consistent") {
		t.Errorf("check after restore: %s", o)
	}
	if _, e, code := cli(t, restored, "restore", file); code == 0 || !strings.Contains(e, "exists") {
		t.Errorf("restore over an existing collection: %d %s", code, e)
	}

	// Hot: a server holds the data directory.
	eng, err := quarry.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.New(eng, server.Options{}).Serve(ctx, ln) }()
	defer func() { stop(); <-done }()
	hot := filepath.Join(out, "hot.tar")
	if _, e, code := cli(t, data, "backup", hot); code == 0 || !strings.Contains(e, "--server") {
		t.Errorf("backup of a held directory should point to --server: %d %s", code, e)
	}
	if o, e, code := cli(t, data, "backup", "--server", "http://"+ln.Addr().String(), hot); code != 0 {
		t.Fatalf("hot backup: %s %s", o, e)
	}
	if o, e, code := cli(t, t.TempDir(), "restore", "--as", "copy", hot, "--json"); code != 0 || !strings.Contains(o, `"copy"`) {
		t.Errorf("restore of the hot backup: %s %s", o, e)
	}
}

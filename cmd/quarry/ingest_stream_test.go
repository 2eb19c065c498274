package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLIIngestFormatsURLAndStdin(t *testing.T) {
	data, src := t.TempDir(), t.TempDir()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	f, _ := zw.Create("word/document.xml")
	f.Write([]byte(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Obsidian is volcanic glass.</w:t></w:r></w:p></w:body></w:document>`))
	zw.Close()
	writeFile(t, filepath.Join(src, "glass.docx"), zb.String())
	writeFile(t, filepath.Join(src, "minerals.csv"), "name,hardness\nquartz,7\n")
	writeFile(t, filepath.Join(src, "photo.png"), "\x89PNG")

	out, errOut, code := cli(t, data, "ingest", src, "--json")
	if code != 0 {
		t.Fatalf("ingest: %d %s", code, errOut)
	}
	var sum ingestSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Documents != 2 || sum.Skipped != 1 ||
		len(sum.SkippedFiles) != 1 || !strings.HasSuffix(sum.SkippedFiles[0].Path, "photo.png") ||
		!strings.Contains(sum.SkippedFiles[0].Reason, `".png"`) {
		t.Fatalf("summary %s: %+v %v", out, sum, err)
	}
	if !strings.Contains(errOut, "skipped") || !strings.Contains(errOut, "photo.png") {
		t.Errorf("stderr does not list the skipped file: %q", errOut)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<title>Pumice</title><p>Pumice floats on water.</p>"))
	}))
	defer srv.Close()
	if out, errOut, code = cli(t, data, "ingest", srv.URL+"/rocks/pumice", "--json"); code != 0 {
		t.Fatalf("ingest URL: %d %s", code, errOut)
	}
	out, _, _ = cli(t, data, "get", srv.URL+"/rocks/pumice", "--json")
	if !strings.Contains(out, "Pumice floats on water.") {
		t.Errorf("URL document: %s", out)
	}

	r, w, _ := os.Pipe()
	stdin := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = stdin })
	go func() { w.Write([]byte("# Basalt\n\nBasalt is dark.\n")); w.Close() }()
	if out, errOut, code = cli(t, data, "ingest", "-", "--stdin-name", "basalt.md", "--json"); code != 0 {
		t.Fatalf("ingest stdin: %d %s", code, errOut)
	}
	out, _, _ = cli(t, data, "get", "basalt.md", "--json")
	if !strings.Contains(out, "Basalt is dark.") || !strings.Contains(out, `"title": "Basalt"`) && !strings.Contains(out, `"title":"Basalt"`) {
		t.Errorf("stdin document: %s", out)
	}

	if _, errOut, code = cli(t, data, "ingest", srv.URL+"/x", "--json"); code != 0 {
		t.Fatalf("ingest URL again: %s", errOut)
	}
	if _, errOut, code = cli(t, data, "ingest", "http://127.0.0.1:1/none"); code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Errorf("dead URL: code %d, stderr %q", code, errOut)
	}
}

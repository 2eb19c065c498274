package server

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type uploadPart struct{ name, content string }

func multipartBody(t *testing.T, fields map[string]string, files ...uploadPart) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		w, err := mw.CreateFormFile("files", f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.content))
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// upload posts a multipart body and checks the response against the spec
// (the request body is not JSON, so it is not validated).
func (h *harness) upload(col, contentType string, body []byte) *response {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.ts.URL+"/v1/collections/"+col+"/files", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, vs := range h.header {
		req.Header[k] = vs
	}
	res, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := &response{status: res.StatusCode, header: res.Header, body: b}
	if err := json.Unmarshal(b, &r.json); err != nil {
		h.t.Fatalf("not JSON: %s", b)
	}
	h.conform(req, nil, r)
	return r
}

func docxFile(t *testing.T, text string) string {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	f, _ := zw.Create("word/document.xml")
	fmt.Fprintf(f, `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>`, text)
	zw.Close()
	return b.String()
}

func TestUploadFiles(t *testing.T) {
	h := newHarness(t, Options{})
	ct, body := multipartBody(t, map[string]string{"tenant": ""},
		uploadPart{"granite.docx", docxFile(t, "Granite is an igneous rock.")},
		uploadPart{"minerals.csv", "name,hardness\nquartz,7\ntalc,1\n"},
		uploadPart{"notes.md", "# Basalt\n\nBasalt is volcanic."},
		uploadPart{"photo.png", "\x89PNG...."},
		uploadPart{"broken.pdf", "%PDF-1.4 nonsense"},
		uploadPart{"batch.jsonl", `{"id":"j1","text":"obsidian glass"}` + "\n" + `{"id":"j2","text":"pumice floats"}` + "\n"},
		// no line short enough for a title: titled by its name
		uploadPart{"untitled.txt", strings.Repeat("slate splits into thin sheets along its cleavage ", 10)},
	)
	r := h.upload("rocks", ct, body).mustStatus(t, http.StatusOK)
	res := r.list("results")
	if len(res) != 7 {
		t.Fatalf("results: %s", r.body)
	}
	want := []struct {
		docs int
		code string
	}{{1, ""}, {1, ""}, {1, ""}, {0, "unsupported_media_type"}, {0, "invalid_argument"}, {2, ""}, {1, ""}}
	for i, w := range want {
		m := res[i].(map[string]any)
		code := ""
		if e, ok := m["error"].(map[string]any); ok {
			code = e["code"].(string)
			if !strings.Contains(e["message"].(string), m["file"].(string)) {
				t.Errorf("file %d: error does not name the file: %v", i, e)
			}
		}
		if int(m["documents"].(float64)) != w.docs || code != w.code {
			t.Errorf("file %d: %v, want %d documents, error %q", i, m, w.docs, w.code)
		}
	}
	s := h.do("POST", "/v1/collections/rocks/search", map[string]any{"query": "igneous granite"}).mustStatus(t, http.StatusOK)
	if ids := hitIDs(s.list("results")); len(ids) == 0 || ids[0] != "granite.docx" {
		t.Errorf("search after upload: %v", ids)
	}
	g := h.do("GET", "/v1/collections/rocks/documents/minerals.csv", nil).mustStatus(t, http.StatusOK)
	if g.str("text") != "name | hardness\nquartz | 7\ntalc | 1" {
		t.Errorf("csv text %q", g.str("text"))
	}
	if u := h.do("GET", "/v1/collections/rocks/documents/untitled.txt", nil).mustStatus(t, http.StatusOK); u.str("title") != "untitled.txt" {
		t.Errorf("untitled.txt is titled %q, want its file name", u.str("title"))
	}
	// Uploading again changes nothing: every loaded document is unchanged
	// (nothing in it, its title included, depends on the upload's spool).
	r = h.upload("rocks", ct, body).mustStatus(t, http.StatusOK)
	for i, x := range r.list("results") {
		m := x.(map[string]any)
		if m["unchanged"].(float64) != m["documents"].(float64) || (want[i].docs > 0 && m["unchanged"].(float64) == 0) {
			t.Errorf("second upload, file %d: %v", i, m)
		}
	}
}

func TestUploadBadInput(t *testing.T) {
	h := newHarness(t, Options{})
	wantError(t, h.upload("c", "application/json", []byte(`{}`)), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
	ct, body := multipartBody(t, nil, uploadPart{"a.txt", "hello"})
	wantError(t, h.upload("c", "multipart/form-data; boundary=wrong", body), http.StatusBadRequest, "invalid_argument", "")
	wantError(t, h.upload("c", "multipart/form-data", body), http.StatusBadRequest, "invalid_argument", "")
	ct2, only := multipartBody(t, map[string]string{"tenant": "x"})
	wantError(t, h.upload("c", ct2, only), http.StatusBadRequest, "invalid_argument", "")
	ct3, unknown := multipartBody(t, map[string]string{"colour": "red"}, uploadPart{"a.txt", "hello"})
	wantError(t, h.upload("c", ct3, unknown), http.StatusBadRequest, "invalid_argument", "colour")

	// Cut off in the middle of the second file: the first is written, the
	// second not at all.
	ct, body = multipartBody(t, nil, uploadPart{"first.txt", "the first file"}, uploadPart{"second.txt", strings.Repeat("second file text ", 1000)})
	cut := body[:len(body)-5000]
	r := h.upload("c", ct, cut)
	if r.status != http.StatusBadRequest || r.str("error.code") != "invalid_argument" || len(r.list("results")) != 2 {
		t.Fatalf("cut upload: %d %s", r.status, r.body)
	}
	h.do("GET", "/v1/collections/c/documents/first.txt", nil).mustStatus(t, http.StatusOK)
	h.do("GET", "/v1/collections/c/documents/second.txt", nil).mustStatus(t, http.StatusNotFound)
	// A JSONL file of several batches (~3 MB) with a bad last record is
	// that file's error and writes none of it; the good file beside it is
	// written.
	var big strings.Builder
	for i := range 150 {
		fmt.Fprintf(&big, `{"id":"r%03d","text":"%s"}`+"\n", i, strings.Repeat("granite basalt quartz feldspar magma lava ", 500))
	}
	big.WriteString(`{"id":"broken","text":` + "\n")
	ct, body = multipartBody(t, nil, uploadPart{"big.jsonl", big.String()}, uploadPart{"good.txt", "obsidian is volcanic glass"})
	r = h.upload("d", ct, body).mustStatus(t, http.StatusOK)
	res := r.list("results")
	if len(res) != 2 {
		t.Fatalf("upload with a bad JSONL record: %s", r.body)
	}
	bad, good := res[0].(map[string]any), res[1].(map[string]any)
	if e, _ := bad["error"].(map[string]any); e == nil || e["code"] != "invalid_argument" || bad["documents"].(float64) != 0 || good["error"] != nil {
		t.Fatalf("upload with a bad JSONL record: %s", r.body)
	}
	if st := h.do("GET", "/v1/collections/d", nil).mustStatus(t, http.StatusOK); st.get("stats.documents").(float64) != 1 {
		t.Fatalf("after the bad JSONL file: %s", st.body)
	}
	if ents, _ := filepath.Glob(filepath.Join(os.TempDir(), "quarry-upload-*")); len(ents) > 0 {
		t.Logf("note: temp dirs present (maybe other tests): %v", ents)
	}
}

func TestDeleteCollection(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("gone", map[string]any{"id": "a", "text": "granite"})
	dir := filepath.Join(h.eng.Dir(), "collections", "gone")
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	r := h.do("DELETE", "/v1/collections/gone", nil).mustStatus(t, http.StatusOK)
	if r.str("deleted") != "gone" {
		t.Errorf("body %s", r.body)
	}
	wantError(t, h.do("GET", "/v1/collections/gone", nil), http.StatusNotFound, "not_found", "")
	if ents, _ := os.ReadDir(filepath.Join(h.eng.Dir(), "collections")); len(ents) != 0 {
		t.Errorf("left in the data directory: %v", ents)
	}
	wantError(t, h.do("DELETE", "/v1/collections/gone", nil), http.StatusNotFound, "not_found", "")
	// Recreated, it is empty.
	h.upsert("gone", map[string]any{"id": "b", "text": "basalt"})
	h.do("GET", "/v1/collections/gone/documents/a", nil).mustStatus(t, http.StatusNotFound)
}

func TestPatchCollection(t *testing.T) {
	h := newHarness(t, Options{})
	h.do("PUT", "/v1/collections/p", map[string]any{}).mustStatus(t, http.StatusCreated)
	h.upsert("p", map[string]any{"id": "a", "text": "granite"})
	r := h.do("PATCH", "/v1/collections/p", map[string]any{"vector": map[string]any{"ef_search": 123}, "max_document_bytes": 1000}).mustStatus(t, http.StatusOK)
	if r.get("config.vector.ef_search").(float64) != 123 || r.get("config.max_document_bytes").(float64) != 1000 {
		t.Errorf("patched config: %s", r.body)
	}
	g := h.do("GET", "/v1/collections/p", nil).mustStatus(t, http.StatusOK)
	if g.get("config.vector.ef_search").(float64) != 123 || g.get("stats.documents").(float64) != 1 {
		t.Errorf("after patch: %s", g.body)
	}
	// The new limit applies to writes.
	big := strings.Repeat("x ", 600)
	r = h.do("POST", "/v1/collections/p/documents", map[string]any{"id": "big", "text": big})
	if r.status != http.StatusRequestEntityTooLarge && r.status != http.StatusBadRequest {
		t.Errorf("write over the patched limit: %d %s", r.status, r.body)
	}
	wantError(t, h.do("PATCH", "/v1/collections/p", map[string]any{"chunking": map[string]any{"size": 10}}), http.StatusBadRequest, "invalid_argument", "chunking")
	wantError(t, h.do("PATCH", "/v1/collections/p", map[string]any{"vector": map[string]any{"m": 8}}), http.StatusBadRequest, "invalid_argument", "vector.m")
	wantError(t, h.do("PATCH", "/v1/collections/p", map[string]any{"colour": "red"}), http.StatusBadRequest, "invalid_argument", "colour")
	wantError(t, h.do("PATCH", "/v1/collections/p", map[string]any{"vector": map[string]any{"ef_search": -4}}), http.StatusBadRequest, "invalid_argument", "vector.ef_search")
	wantError(t, h.do("PATCH", "/v1/collections/none", map[string]any{}), http.StatusNotFound, "not_found", "")
}

func TestListAndExport(t *testing.T) {
	h := newHarness(t, Options{})
	var docs []map[string]any
	for i := range 25 {
		docs = append(docs, map[string]any{"id": fmt.Sprintf("d%02d", i), "text": fmt.Sprintf("rock number %d", i),
			"metadata": map[string]any{"odd": i%2 == 1}})
	}
	h.upsert("l", docs...)
	var ids []string
	after := ""
	for pages := 0; ; pages++ {
		r := h.do("GET", "/v1/collections/l/documents?limit=10&after="+url.QueryEscape(after), nil).mustStatus(t, http.StatusOK)
		for _, d := range r.list("documents") {
			m := d.(map[string]any)
			ids = append(ids, m["id"].(string))
			if m["text"] != "" {
				t.Errorf("text listed without text=true")
			}
		}
		if after = r.str("next"); after == "" {
			break
		}
	}
	if len(ids) != 25 || ids[0] != "d00" || ids[24] != "d24" {
		t.Errorf("listed %v", ids)
	}
	f := url.QueryEscape(`{"field":"odd","op":"eq","value":true}`)
	r := h.do("GET", "/v1/collections/l/documents?text=true&filter="+f, nil).mustStatus(t, http.StatusOK)
	if n := len(r.list("documents")); n != 12 || r.list("documents")[0].(map[string]any)["text"] != "rock number 1" {
		t.Errorf("filtered: %s", r.body)
	}
	wantError(t, h.do("GET", "/v1/collections/l/documents?limit=0", nil), http.StatusBadRequest, "invalid_argument", "limit")
	wantError(t, h.do("GET", "/v1/collections/l/documents?filter=%7B", nil), http.StatusBadRequest, "invalid_argument", "filter")
	wantError(t, h.do("GET", "/v1/collections/none/documents", nil), http.StatusNotFound, "not_found", "")

	res, err := h.ts.Client().Get(h.ts.URL + "/v1/collections/l/export")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("content type %q", res.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(res.Body)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 25 {
		t.Fatalf("exported %d lines", len(lines))
	}
	// The export reads back in.
	r = h.doRaw("POST", "/v1/collections/copy/documents", "application/json",
		[]byte(`{"documents":[`+strings.Join(lines, ",")+`]}`)).mustStatus(t, http.StatusOK)
	g := h.do("GET", "/v1/collections/copy/documents/d07", nil).mustStatus(t, http.StatusOK)
	if g.str("text") != "rock number 7" || g.get("metadata.odd") != true {
		t.Errorf("round trip: %s", g.body)
	}
}

// TestCheckCollection: POST /v1/collections/{c}/check verifies a served
// collection (the body conforms to the spec); a missing collection is a
// 404.
func TestCheckCollection(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("docs", map[string]any{"id": "a", "text": "Granite forms from magma."}, map[string]any{"id": "b", "text": "Basalt forms from lava."})
	r := h.do("POST", "/v1/collections/docs/check", nil).mustStatus(t, http.StatusOK)
	if r.get("consistent") != true || r.str("collection") != "docs" || r.get("problem") != nil {
		t.Fatalf("check: %s", r.body)
	}
	h.do("POST", "/v1/collections/missing/check", nil).mustStatus(t, http.StatusNotFound)
}

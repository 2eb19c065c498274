package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WalkOptions control Walk. A nil *WalkOptions is valid and means defaults.
type WalkOptions struct {
	// Include lists glob patterns (see below) a file's path relative to the
	// root must match one of. Default: every file.
	Include []string
	// Exclude lists patterns for files and directories to leave out; an
	// excluded directory is not entered. Exclude wins over Include.
	Exclude []string
	// Hidden visits files and directories whose name starts with "."
	// (skipped by default). The root itself is always visited.
	Hidden bool
	// FollowSymlinks descends into symbolic links to directories. Links to
	// files are always visited. A link to a directory that is already open
	// on the current path (a loop) is skipped. Default false.
	FollowSymlinks bool
}

// Walk calls fn for every regular file under root (or for root itself when
// it is a file), depth first with the entries of each directory in lexical
// order (as filepath.WalkDir), so walks of an unchanged tree give the same
// sequence.
//
// Patterns are slash-separated and matched against the path relative to
// root; each segment uses path.Match syntax and a "**" segment matches any
// number of segments, so "docs/**/*.md" matches "docs/a.md" and
// "docs/x/y/b.md". A pattern without a slash matches the base name at any
// depth: "*.md" matches every Markdown file and "node_modules" every
// directory so named. Supported is a ready filter for loadable files.
//
// An error from fn stops the walk and is returned unchanged, except that
// fs.SkipAll ends it without error. The context is checked before every
// entry. Walk does not check whether root is a BEIR folder; callers test
// IsBEIR first.
func Walk(ctx context.Context, root string, opts *WalkOptions, fn func(path string) error) error {
	var o WalkOptions
	if opts != nil {
		o = *opts
	}
	w := walker{ctx: ctx, fn: fn, opts: o}
	var err error
	if w.include, err = compileGlobs(o.Include); err != nil {
		return err
	}
	if w.exclude, err = compileGlobs(o.Exclude); err != nil {
		return err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("ingest: walk: %w", err)
	}
	if !fi.IsDir() {
		err = w.fn(root)
	} else {
		err = w.dir(root, "", []os.FileInfo{fi})
	}
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

type walker struct {
	ctx              context.Context
	fn               func(string) error
	opts             WalkOptions
	include, exclude []glob
}

// dir visits the entries of the directory at path (rel relative to the
// root); open holds the directories on the current path, for loop checks.
func (w *walker) dir(path, rel string, open []os.FileInfo) error {
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return fmt.Errorf("ingest: walk: %w", err)
	}
	for _, e := range entries {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		if !w.opts.Hidden && strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(path, name)
		r := name
		if rel != "" {
			r = rel + "/" + name
		}
		if matchAny(w.exclude, r) {
			continue
		}
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				continue // dangling link
			}
			if fi.IsDir() {
				if !w.opts.FollowSymlinks || isOpen(open, fi) {
					continue
				}
				if err := w.dir(p, r, append(open, fi)); err != nil {
					return err
				}
				continue
			}
			mode = fi.Mode().Type()
		}
		switch {
		case mode.IsDir():
			fi, err := e.Info()
			if err != nil {
				return fmt.Errorf("ingest: walk: %w", err)
			}
			if err := w.dir(p, r, append(open, fi)); err != nil {
				return err
			}
		case mode.IsRegular():
			if len(w.include) > 0 && !matchAny(w.include, r) {
				continue
			}
			if err := w.fn(p); err != nil {
				return err
			}
		}
	}
	return nil
}

func isOpen(open []os.FileInfo, fi os.FileInfo) bool {
	for _, o := range open {
		if os.SameFile(o, fi) {
			return true
		}
	}
	return false
}

package vfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is an open file (or, from OpenDir, a directory to Sync).
type File interface {
	io.Reader
	io.Writer
	io.Closer
	Sync() error
	Name() string
}

// FS is the file system operations Quarry's own files use.
type FS interface {
	// Create creates or truncates name for writing.
	Create(name string) (File, error)
	// CreateTemp creates a new file in dir named by pattern (see
	// os.CreateTemp) for writing.
	CreateTemp(dir, pattern string) (File, error)
	// Open opens name for reading.
	Open(name string) (File, error)
	// OpenDir opens a directory so that Sync makes its entries durable.
	OpenDir(name string) (File, error)
	Rename(oldname, newname string) error
	Remove(name string) error
	MkdirAll(dir string, perm fs.FileMode) error
	Stat(name string) (fs.FileInfo, error)
}

// Default is the operating system's file system.
var Default FS = osFS{}

type osFS struct{}

func (osFS) Create(name string) (File, error)             { return os.Create(name) }
func (osFS) CreateTemp(dir, pattern string) (File, error) { return os.CreateTemp(dir, pattern) }
func (osFS) Open(name string) (File, error)               { return os.Open(name) }
func (osFS) OpenDir(name string) (File, error)            { return os.Open(name) }
func (osFS) Rename(o, n string) error                     { return os.Rename(o, n) }
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) MkdirAll(dir string, perm fs.FileMode) error  { return os.MkdirAll(dir, perm) }
func (osFS) Stat(name string) (fs.FileInfo, error)        { return os.Stat(name) }

// WriteFileAtomic writes path so that after a crash it holds either its
// old content or all of the new: write fills a temporary file in the same
// directory (buffered), which is synced, closed, renamed over path, and the
// directory synced. On an error path is untouched and the temporary file
// removed.
func WriteFileAtomic(fsys FS, path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := fsys.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("vfs: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("vfs: write %s: %w", path, err)
			fsys.Remove(tmp.Name()) // best effort: a leftover is only litter
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := fsys.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := fsys.OpenDir(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// WriteFile is WriteFileAtomic of data.
func WriteFile(fsys FS, path string, data []byte) error {
	return WriteFileAtomic(fsys, path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// ReadFile reads the whole of name.
func ReadFile(fsys FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

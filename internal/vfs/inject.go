package vfs

import (
	"io/fs"
)

// Op names an operation for Inject.
type Op string

// Operations.
const (
	OpCreate  Op = "create" // Create and CreateTemp
	OpOpen    Op = "open"   // Open and OpenDir
	OpWrite   Op = "write"
	OpSync    Op = "sync" // a file's Sync
	OpDirSync Op = "dirsync"
	OpRename  Op = "rename"
	OpRemove  Op = "remove"
	OpMkdir   Op = "mkdir"
)

// Hook decides an operation's fate: a non-nil error fails it (the
// operation does not happen). It runs before the operation, and may
// observe (count sync points, take a CrashClone).
type Hook func(op Op, path string) error

// Inject returns fsys with hook called before each operation.
func Inject(fsys FS, hook Hook) FS { return &injectFS{fs: fsys, hook: hook} }

type injectFS struct {
	fs   FS
	hook Hook
}

func (i *injectFS) wrap(f File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	return &injectFile{File: f, hook: i.hook}, nil
}

func (i *injectFS) Create(name string) (File, error) {
	if err := i.hook(OpCreate, name); err != nil {
		return nil, err
	}
	return i.wrap(i.fs.Create(name))
}

func (i *injectFS) CreateTemp(dir, pattern string) (File, error) {
	if err := i.hook(OpCreate, dir); err != nil {
		return nil, err
	}
	return i.wrap(i.fs.CreateTemp(dir, pattern))
}

func (i *injectFS) Open(name string) (File, error) {
	if err := i.hook(OpOpen, name); err != nil {
		return nil, err
	}
	return i.wrap(i.fs.Open(name))
}

func (i *injectFS) OpenDir(name string) (File, error) {
	if err := i.hook(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := i.fs.OpenDir(name)
	if err != nil {
		return nil, err
	}
	return &injectFile{File: f, hook: i.hook, dir: true}, nil
}

func (i *injectFS) Rename(o, n string) error {
	if err := i.hook(OpRename, n); err != nil {
		return err
	}
	return i.fs.Rename(o, n)
}

func (i *injectFS) Remove(name string) error {
	if err := i.hook(OpRemove, name); err != nil {
		return err
	}
	return i.fs.Remove(name)
}

func (i *injectFS) MkdirAll(dir string, perm fs.FileMode) error {
	if err := i.hook(OpMkdir, dir); err != nil {
		return err
	}
	return i.fs.MkdirAll(dir, perm)
}

func (i *injectFS) Stat(name string) (fs.FileInfo, error) { return i.fs.Stat(name) }

type injectFile struct {
	File
	hook Hook
	dir  bool
}

func (f *injectFile) Write(p []byte) (int, error) {
	if err := f.hook(OpWrite, f.Name()); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *injectFile) Sync() error {
	op := OpSync
	if f.dir {
		op = OpDirSync
	}
	if err := f.hook(op, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Mem is an in-memory FS that tracks durability: a file's content is
// durable as of its last Sync, and a directory entry (create, rename,
// remove) as of its directory's last Sync. CrashClone returns what a crash
// would leave. Directories made by MkdirAll are durable at once.
type Mem struct {
	// mu protects the following fields.
	mu      sync.Mutex
	live    map[string]*node // path → file, as the running process sees it
	durable map[string]*node // path → file, as a crash would leave it
	dirs    map[string]bool
}

// node is one file's data; several names may point at it after a rename
// that is not yet durable.
type node struct {
	data   []byte
	synced []byte // nil: never synced
}

// NewMem returns an empty in-memory file system.
func NewMem() *Mem {
	return &Mem{live: map[string]*node{}, durable: map[string]*node{}, dirs: map[string]bool{"/": true, ".": true}}
}

// CrashClone returns the file system a crash now would leave: only synced
// file contents under durable names. The clone is independent of m.
func (m *Mem) CrashClone() *Mem {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMem()
	for d := range m.dirs {
		c.dirs[d] = true
	}
	for name, n := range m.durable {
		cp := &node{data: bytes.Clone(n.synced)}
		if cp.data == nil {
			cp.data = []byte{}
		}
		cp.synced = bytes.Clone(cp.data)
		c.live[name], c.durable[name] = cp, cp
	}
	return c
}

func clean(name string) string { return filepath.Clean(name) }

func (m *Mem) Create(name string) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[filepath.Dir(name)] {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrNotExist}
	}
	n := &node{}
	m.live[name] = n
	return &memFile{m: m, n: n, name: name, write: true}, nil
}

func (m *Mem) CreateTemp(dir, pattern string) (File, error) {
	prefix, suffix, _ := strings.Cut(pattern, "*")
	for {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)+suffix)
		m.mu.Lock()
		_, exists := m.live[clean(name)]
		m.mu.Unlock()
		if !exists {
			return m.Create(name)
		}
	}
}

func (m *Mem) Open(name string) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.live[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{m: m, n: n, name: name, r: bytes.NewReader(bytes.Clone(n.data))}, nil
}

func (m *Mem) OpenDir(name string) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{m: m, name: name, dir: true}, nil
}

func (m *Mem) Rename(oldname, newname string) error {
	oldname, newname = clean(oldname), clean(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.live[oldname]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	delete(m.live, oldname)
	m.live[newname] = n
	return nil
}

func (m *Mem) Remove(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.live, name)
	return nil
}

func (m *Mem) MkdirAll(dir string, _ fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := clean(dir); !m.dirs[d]; d = filepath.Dir(d) {
		m.dirs[d] = true
	}
	return nil
}

func (m *Mem) Stat(name string) (fs.FileInfo, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[name] {
		return memInfo{name: filepath.Base(name), dir: true}, nil
	}
	n, ok := m.live[name]
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return memInfo{name: filepath.Base(name), size: int64(len(n.data))}, nil
}

// syncDirLocked makes the live entries of dir durable.
func (m *Mem) syncDirLocked(dir string) {
	for name := range m.durable {
		if filepath.Dir(name) == dir {
			if _, ok := m.live[name]; !ok {
				delete(m.durable, name)
			}
		}
	}
	for name, n := range m.live {
		if filepath.Dir(name) == dir {
			m.durable[name] = n
		}
	}
}

type memFile struct {
	m      *Mem
	n      *node
	name   string
	r      *bytes.Reader
	write  bool
	dir    bool
	closed bool
}

var errClosed = errors.New("vfs: file already closed")

func (f *memFile) Name() string { return f.name }

func (f *memFile) Read(p []byte) (int, error) {
	if f.closed {
		return 0, errClosed
	}
	if f.r == nil {
		return 0, io.EOF
	}
	return f.r.Read(p)
}

func (f *memFile) Write(p []byte) (int, error) {
	if f.closed || !f.write {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
	}
	f.m.mu.Lock()
	f.n.data = append(f.n.data, p...)
	f.m.mu.Unlock()
	return len(p), nil
}

func (f *memFile) Sync() error {
	if f.closed {
		return errClosed
	}
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.dir {
		f.m.syncDirLocked(f.name)
		return nil
	}
	f.n.synced = bytes.Clone(f.n.data)
	if f.n.synced == nil {
		f.n.synced = []byte{}
	}
	return nil
}

func (f *memFile) Close() error {
	if f.closed {
		return errClosed
	}
	f.closed = true
	return nil
}

type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }

package vfs

import (
	"errors"
	"io"
	"path/filepath"
	"testing"
)

func read(t *testing.T, fsys FS, name string) string {
	t.Helper()
	b, err := ReadFile(fsys, name)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// TestMemCrashDropsUnsynced: a crash keeps file contents as of their last
// Sync and directory entries as of their directory's last Sync.
func TestMemCrashDropsUnsynced(t *testing.T) {
	m := NewMem()
	m.MkdirAll("/d", 0o755)
	f, _ := m.Create("/d/a")
	f.Write([]byte("hello"))
	if got := read(t, m.CrashClone(), "/d/a"); got[0] != '<' {
		t.Fatalf("an entry whose directory was never synced survived: %q", got)
	}
	d, _ := m.OpenDir("/d")
	d.Sync()
	if got := read(t, m.CrashClone(), "/d/a"); got != "" {
		t.Fatalf("unsynced content survived: %q", got)
	}
	f.Sync()
	f.Write([]byte(" world"))
	if got := read(t, m.CrashClone(), "/d/a"); got != "hello" {
		t.Fatalf("after Sync then a write: %q, want hello", got)
	}
	if got := read(t, m, "/d/a"); got != "hello world" {
		t.Fatalf("live: %q", got)
	}
	m.Rename("/d/a", "/d/b")
	c := m.CrashClone()
	if read(t, c, "/d/a") != "hello" || read(t, c, "/d/b")[0] != '<' {
		t.Fatal("a rename was durable before the directory sync")
	}
	d.Sync()
	c = m.CrashClone()
	if read(t, c, "/d/a")[0] != '<' || read(t, c, "/d/b") != "hello" {
		t.Fatal("the rename is not durable after the directory sync")
	}
}

// TestWriteFileAtomicAtEverySyncPoint crashes WriteFileAtomic before each
// of its sync points and checks the file is either old or new, never torn
// or missing.
func TestWriteFileAtomicAtEverySyncPoint(t *testing.T) {
	for _, crashAt := range []int{0, 1, 2} { // file sync, dir sync, after both
		m := NewMem()
		m.MkdirAll("/d", 0o755)
		if err := WriteFile(m, "/d/f", []byte("old")); err != nil {
			t.Fatal(err)
		}
		var crashed *Mem
		syncs := 0
		boom := errors.New("crash")
		fsys := Inject(m, func(op Op, _ string) error {
			if op != OpSync && op != OpDirSync {
				return nil
			}
			if syncs == crashAt {
				crashed = m.CrashClone()
				return boom
			}
			syncs++
			return nil
		})
		err := WriteFile(fsys, "/d/f", []byte("new content"))
		if crashed == nil {
			crashed = m.CrashClone()
		}
		if crashAt < 2 && !errors.Is(err, boom) {
			t.Fatalf("crash at %d: %v", crashAt, err)
		}
		got := read(t, crashed, "/d/f")
		if got != "old" && got != "new content" {
			t.Fatalf("crash at sync %d left %q", crashAt, got)
		}
		if crashAt == 2 && got != "new content" {
			t.Fatalf("after every sync the new content is not durable: %q", got)
		}
		if crashAt == 0 && read(t, m, "/d/f") != "old" {
			t.Fatalf("a write that failed before its rename changed the live file")
		}
	}
}

func TestWriteFileAtomicOS(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	if err := WriteFile(Default, p, []byte("a")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := WriteFileAtomic(Default, p, func(w io.Writer) error { return boom })
	if !errors.Is(err, boom) || read(t, Default, p) != "a" {
		t.Fatalf("a failed write: %v, file %q", err, read(t, Default, p))
	}
	ents, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "*"))
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

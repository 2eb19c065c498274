package quarry

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/quarry-rag/quarry/internal/store"
)

// backupManifest is the first entry of a backup archive.
type backupManifest struct {
	Format     int       `json:"format"`
	Collection string    `json:"collection"`
	Created    time.Time `json:"created"`
}

const backupFormat = 1

// backupFiles are the store files a backup may hold.
var backupFiles = map[string]bool{"store.db": true, "bm25.snap": true, "vectors.snap": true}

// BackupCollection writes a consistent copy of a collection, taken while
// it serves, to w as a tar archive: a manifest, the collection's
// configuration, then the store's files (see the embedded backend's
// Backup: index snapshots, then the store copied in one read transaction).
// Every document acknowledged before the call began is in the copy. The
// archive restores on any machine with RestoreCollection (`quarry
// restore`). Collections on Weaviate are backed up with Weaviate's own
// backup modules; for them this fails with ErrInvalid.
func (e *Engine) BackupCollection(ctx context.Context, name string, w io.Writer) error {
	e.mu.Lock()
	c, ok := e.mu.cols[name]
	closed := e.mu.closed
	e.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if !ok {
		return fmt.Errorf("collection %q: %w", name, ErrNotFound)
	}
	bk, ok := c.backend.(store.Backuper)
	if !ok {
		return invalidf("collection", "collection %q is stored on a backend Quarry cannot back up (use Weaviate's backup)", name)
	}
	tw := tar.NewWriter(w)
	now := time.Now().UTC()
	put := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		n, err := io.Copy(tw, r)
		if err == nil && n != size {
			err = fmt.Errorf("quarry: backup: %s: copied %d bytes of %d", name, n, size)
		}
		return err
	}
	man, _ := json.Marshal(backupManifest{Format: backupFormat, Collection: name, Created: now})
	cfg, _ := json.MarshalIndent(c.cfg, "", "  ")
	for _, f := range []struct {
		name string
		b    []byte
	}{{"manifest.json", man}, {configFile, cfg}} {
		if err := put(f.name, int64(len(f.b)), bytes.NewReader(f.b)); err != nil {
			return fmt.Errorf("quarry: backup %q: %w", name, err)
		}
	}
	if err := bk.Backup(ctx, func(n string, size int64, r io.Reader) error {
		return put("files/"+n, size, r)
	}); err != nil {
		return fmt.Errorf("quarry: backup %q: %w", name, store.MapErr(err))
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("quarry: backup %q: %w", name, err)
	}
	return nil
}

// RestoreCollection reads an archive written by BackupCollection into the
// data directory as the collection as (default: the archived name), which
// must not exist. The files are written to a temporary directory inside
// the data directory and fsynced, the directory is renamed into place,
// and the collection is opened and verified (as `quarry check` does)
// before it is returned; on any failure nothing is left behind.
func (e *Engine) RestoreCollection(ctx context.Context, r io.Reader, as string) (*Collection, error) {
	if e.opts.Backend == BackendWeaviate {
		return nil, invalidf("backend", "restore writes the embedded store; this engine stores on Weaviate")
	}
	tmp, err := os.MkdirTemp(filepath.Join(e.dir, "collections"), ".restore-")
	if err != nil {
		return nil, err
	}
	placed := false
	defer func() {
		if !placed {
			os.RemoveAll(tmp)
		}
	}()
	tr := tar.NewReader(r)
	var man backupManifest
	haveStore := false
	for first := true; ; first = false {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, invalidf("backup", "not a Quarry backup archive: %v", err)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, invalidf("backup", "unexpected entry %q", h.Name)
		}
		switch {
		case first && h.Name == "manifest.json":
			if err := json.NewDecoder(io.LimitReader(tr, 1<<16)).Decode(&man); err != nil || man.Format != backupFormat {
				return nil, invalidf("backup", "bad manifest (format %d): %v", man.Format, err)
			}
			continue
		case first:
			return nil, invalidf("backup", "not a Quarry backup archive (first entry %q)", h.Name)
		case h.Name == configFile:
		case len(h.Name) > 6 && h.Name[:6] == "files/" && backupFiles[h.Name[6:]]:
			haveStore = haveStore || h.Name == "files/store.db"
		default:
			return nil, invalidf("backup", "unexpected entry %q", h.Name)
		}
		dst := filepath.Join(tmp, filepath.Base(h.Name))
		if err := writeSynced(dst, tr); err != nil {
			return nil, fmt.Errorf("quarry: restore: %w", err)
		}
	}
	if !haveStore {
		return nil, invalidf("backup", "the archive has no store (truncated?)")
	}
	if as == "" {
		as = man.Collection
	}
	if err := validateCollectionName(as); err != nil {
		return nil, err
	}
	cfg, err := readCollectionConfig(tmp)
	if err != nil {
		return nil, err
	}
	syncDir(tmp)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.closed {
		return nil, ErrClosed
	}
	if _, ok := e.mu.cols[as]; ok {
		return nil, invalidf("collection", "collection %q exists; delete it or restore under another name", as)
	}
	dir := e.collectionDir(as)
	if _, err := os.Stat(dir); err == nil {
		return nil, invalidf("collection", "%s exists", dir)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	placed = true
	syncDir(filepath.Join(e.dir, "collections"))
	fail := func(err error) (*Collection, error) {
		os.Rename(dir, filepath.Join(e.dir, "collections", ".deleted-"+as+"-"+strconv.FormatInt(time.Now().UnixNano(), 36)))
		e.removeTombstones()
		return nil, err
	}
	c, err := openCollection(ctx, e, as, cfg)
	if err != nil {
		return fail(err)
	}
	if err := c.Verify(ctx); err != nil {
		c.close()
		return fail(fmt.Errorf("quarry: restored collection %q fails its check: %w", as, err))
	}
	e.mu.cols[as] = c
	return c, nil
}

func writeSynced(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

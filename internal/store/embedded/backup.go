package embedded

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/store"
)

var _ store.Backuper = (*Backend)(nil)

// Backup implements store.Backuper while the backend serves: first the
// index snapshots as they are on disk (each is replaced by rename, so an
// open file is one whole version), then store.db copied inside one read
// transaction (bbolt's Tx.WriteTo), which writes go on beside. The store
// copy is at least as new as the snapshots, which is what Open needs: it
// loads a snapshot whose sequence number is not above the store's and
// replays the log after it, or rebuilds the index when the log no longer
// reaches back (or the two snapshots disagree). A document acknowledged
// before Backup began is in the copy.
func (b *Backend) Backup(ctx context.Context, add func(name string, size int64, r io.Reader) error) error {
	if err := b.checkOpen(); err != nil {
		return err
	}
	for _, name := range []string{vsnapName, snapName} {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := os.Open(filepath.Join(b.dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err == nil {
			err = add(name, fi.Size(), io.NewSectionReader(f, 0, fi.Size()))
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return b.db.View(func(tx *bolt.Tx) error {
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			_, err := tx.WriteTo(pw)
			pw.CloseWithError(err)
			done <- err
		}()
		err := add("store.db", tx.Size(), pr)
		pr.CloseWithError(errors.New("backup: reader closed"))
		if werr := <-done; err == nil && werr != nil {
			err = werr
		}
		return err
	})
}

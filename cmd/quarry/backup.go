package main

import (
	"context"
	"fmt"
	"github.com/spf13/pflag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// runBackup writes a consistent copy of a collection to a tar file: from
// the data directory, or with --server from a running `quarry serve`
// (GET /v1/collections/{c}/backup), which is how a served collection is
// backed up hot. The file appears only when complete (tmp → fsync →
// rename).
func setupBackup(env *cliEnv, fs *pflag.FlagSet) runFunc {
	return func(ctx context.Context, paths []string) error {
		if len(paths) != 1 {
			return usagef("give the file to write, e.g. quarry backup --collection docs docs.tar")
		}
		out := paths[0]
		tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		start := time.Now()
		if env.server != "" {
			err = backupFromServer(ctx, env.server, env.collection, tmp)
		} else {
			eng, oerr := openEngine(env)
			if oerr != nil {
				if strings.Contains(oerr.Error(), "in use by another process") {
					return fmt.Errorf("%v; a running quarry serve holds it: back up through it with --server http://HOST:PORT", oneLine(oerr))
				}
				return oerr
			}
			err = eng.BackupCollection(ctx, env.collection, tmp)
			if cerr := eng.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return err
		}
		if err := tmp.Sync(); err != nil {
			return err
		}
		fi, err := tmp.Stat()
		if err != nil {
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), out); err != nil {
			return err
		}
		if env.json {
			return printJSON(env.stdout, map[string]any{"collection": env.collection, "file": out, "bytes": fi.Size(), "seconds": time.Since(start).Seconds()})
		}
		fmt.Fprintf(env.stdout, "backed up %q to %s (%s) in %.2fs\n", env.collection, out, human(fi.Size()), time.Since(start).Seconds())
		return nil
	}
}

func backupFromServer(ctx context.Context, server, collection string, w io.Writer) error {
	u := strings.TrimRight(server, "/") + "/v1/collections/" + url.PathEscape(collection) + "/backup"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("backup from %s: HTTP %s: %s", server, resp.Status, strings.TrimSpace(string(b)))
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// runRestore restores a backup file into the data directory (under
// --collection when given explicitly, else the archived name) and checks
// it.
func setupRestore(env *cliEnv, fs *pflag.FlagSet) runFunc {
	as := fs.String("as", "", "restore under this collection name (default: the name in the backup)")
	return func(ctx context.Context, paths []string) error {
		if len(paths) != 1 {
			return usagef("give the backup file, e.g. quarry restore docs.tar")
		}
		f, err := os.Open(paths[0])
		if err != nil {
			return err
		}
		defer f.Close()
		eng, err := openEngine(env)
		if err != nil {
			return err
		}
		defer eng.Close()
		col, err := eng.RestoreCollection(ctx, f, *as)
		if err != nil {
			return err
		}
		st, err := col.Stats(ctx)
		if err != nil {
			return err
		}
		if env.json {
			return printJSON(env.stdout, map[string]any{"collection": col.Name(), "documents": st.Documents, "chunks": st.Chunks, "consistent": true})
		}
		fmt.Fprintf(env.stdout, "restored %q: %d documents, %d chunks; collection is consistent\n", col.Name(), st.Documents, st.Chunks)
		return nil
	}
}

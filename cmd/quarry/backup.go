package main

import (
	"context"
	"fmt"
	"github.com/spf13/pflag"
	"os"
	"path/filepath"
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
		cl, err := remote(env)
		if err != nil {
			return err
		}
		if cl == nil {
			// A serve that recorded its address holds the directory:
			// back up through it, hot.
			if cl = localServer(ctx, env); cl != nil {
				noteLocalServer(env, cl)
			}
		}
		if cl != nil {
			err = cl.backup(ctx, env.collection, tmp)
		} else {
			eng, oerr := openEngine(env)
			if oerr != nil {
				if inUse(oerr) {
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
		if inUse(err) {
			return fmt.Errorf("%v; restore writes into the data directory: stop the quarry serve that holds it, restore, then start it again", oneLine(err))
		}
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

// Package vfs is Quarry's file-system seam: the few operations its own
// files need (snapshots, vectors.snap, collection settings, model files),
// behind an FS interface with three implementations:
//
//   - Default, the operating system's;
//   - NewMem, in memory, which remembers what was synced: CrashClone
//     returns the files a machine crash would leave (file contents as of
//     their last Sync, directory entries as of their directory's last
//     Sync), so crash tests can drop unsynced writes at any point, which a
//     SIGKILL cannot (the page cache keeps them);
//   - Inject, which wraps an FS and fails (or observes) chosen operations.
//
// WriteFileAtomic is the one atomic-write helper: temporary file → write
// → Sync → checked Close → Rename → Sync of the directory.
//
// bbolt keeps its own file I/O and is not behind this seam.
//
// Concurrency: the implementations are safe for concurrent use; a File is
// used by one goroutine at a time.
package vfs

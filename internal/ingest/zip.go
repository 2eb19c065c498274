package ingest

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Bounds on the ZIP containers of DOCX, PPTX, XLSX and EPUB files. A zip
// bomb declares (or hides) far more decompressed bytes than its size; the
// loaders read only the entries they need and stop at maxUnzipBytes in all,
// counting the bytes actually inflated (archive/zip also fails an entry
// that inflates to more than it declared).
const (
	maxZipEntries = 1 << 16
	maxUnzipBytes = 512 << 20
	// maxZipFileBytes bounds the container itself: it is opened with
	// random access, so its size costs no memory, but a larger Office file
	// is almost always media we would not read.
	maxZipFileBytes = 1 << 30
)

// zipArchive is an opened container with a decompression budget shared by
// every entry read from it.
type zipArchive struct {
	f      *os.File
	r      *zip.Reader
	byName map[string]*zip.File
	budget int64
}

// openZip opens the ZIP container at p. Malformed archives fail with
// ErrCorrupt.
func openZip(p string, budget int64) (*zipArchive, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if fi.Size() > maxZipFileBytes {
		f.Close()
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, fi.Size(), int64(maxZipFileBytes))
	}
	z, err := newZipArchive(f, fi.Size(), budget)
	if err != nil {
		f.Close()
		return nil, err
	}
	z.f = f
	return z, nil
}

func newZipArchive(r io.ReaderAt, size, budget int64) (*zipArchive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%w: not a ZIP container: %v", ErrCorrupt, err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, fmt.Errorf("%w: %d ZIP entries, limit %d", ErrTooLarge, len(zr.File), maxZipEntries)
	}
	z := &zipArchive{r: zr, byName: make(map[string]*zip.File, len(zr.File)), budget: budget}
	for _, f := range zr.File {
		z.byName[strings.TrimPrefix(f.Name, "/")] = f
	}
	return z, nil
}

func (z *zipArchive) Close() error {
	if z.f == nil {
		return nil
	}
	return z.f.Close()
}

// has reports whether the archive holds an entry named name.
func (z *zipArchive) has(name string) bool { _, ok := z.byName[name]; return ok }

// names returns the entry names with the given prefix and suffix.
func (z *zipArchive) names(prefix, suffix string) []string {
	var out []string
	for _, f := range z.r.File {
		if strings.HasPrefix(f.Name, prefix) && strings.HasSuffix(f.Name, suffix) {
			out = append(out, f.Name)
		}
	}
	return out
}

// read inflates one entry, charging it to the archive's budget. A missing
// entry fails with ErrCorrupt (the caller names the format).
func (z *zipArchive) read(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, ok := z.byName[path.Clean(strings.TrimPrefix(name, "/"))]
	if !ok {
		return nil, fmt.Errorf("%w: missing part %q", ErrCorrupt, name)
	}
	if f.UncompressedSize64 > uint64(z.budget) {
		return nil, fmt.Errorf("%w: part %q inflates to %d bytes, more than the %d left of the %d byte limit",
			ErrTooLarge, name, f.UncompressedSize64, z.budget, int64(maxUnzipBytes))
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: part %q: %v", ErrCorrupt, name, err)
	}
	defer rc.Close()
	// The declared size is checked against the budget above but may lie:
	// it only sizes the first allocation, up to 4 MiB.
	b, err := readAllHint(io.LimitReader(rc, z.budget+1), min(int64(f.UncompressedSize64), 4<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: part %q: %v", ErrCorrupt, name, err)
	}
	if int64(len(b)) > z.budget {
		return nil, fmt.Errorf("%w: ZIP parts inflate to more than %d bytes", ErrTooLarge, int64(maxUnzipBytes))
	}
	z.budget -= int64(len(b))
	return b, nil
}

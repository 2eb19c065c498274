package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
)

// skippedFile names a file ingest did not load and why.
type skippedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// skipUnsupported records a walked file no loader reads: it is listed in
// the summary and on stderr, never passed over silently.
func (b *batcher) skipUnsupported(path string) {
	ext := strings.ToLower(filepath.Ext(path))
	reason := fmt.Sprintf("unsupported file type %q", ext)
	if ext == "" {
		reason = "no file extension"
	}
	b.sum.Skipped++
	b.sum.SkippedFiles = append(b.sum.SkippedFiles, skippedFile{Path: path, Reason: reason})
	b.warn(fmt.Sprintf("skipped %s: %s", path, reason))
}

// ingestStream loads standard input ("-", named by --stdin-name) or a URL
// (downloaded with a timeout and a size bound, the format taken from its
// Content-Type).
func ingestStream(ctx context.Context, p string, lopts *ingest.Options, add func(quarry.Document) error, b *batcher) error {
	if p == "-" {
		name := b.stdinName
		if name == "" {
			name = "stdin.txt"
		}
		return ingest.StreamReader(ctx, os.Stdin, ingest.Source{Name: name}, "", lopts, add)
	}
	return ingest.StreamURL(ctx, p, nil, lopts, add)
}

package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/quarry-rag/quarry/internal/base"
)

// BEIR layout: dir/corpus.jsonl, dir/queries.jsonl, dir/qrels/<split>.tsv.
const (
	beirCorpus  = "corpus.jsonl"
	beirQueries = "queries.jsonl"
)

// IsBEIR reports whether dir holds a BEIR-style data set (corpus.jsonl and
// queries.jsonl as regular files).
func IsBEIR(dir string) bool {
	for _, f := range []string{beirCorpus, beirQueries} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// LoadBEIRCorpus streams dir/corpus.jsonl to fn. Records are
// {"_id","title","text","metadata":{…}} as in StreamJSONL, with two BEIR
// allowances: non-scalar metadata values are dropped, and a record with an
// empty text but a title uses the title as text (BEIR evaluates "title
// text"). Any bad line aborts; an error from fn is returned unchanged.
func LoadBEIRCorpus(ctx context.Context, dir string, fn func(base.Document) error) error {
	path := filepath.Join(dir, beirCorpus)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	o, _ := resolve(nil)
	return streamJSONL(ctx, f, path, o, jsonlBEIR, fn)
}

// BEIRQuery is one query of a BEIR data set.
type BEIRQuery struct {
	ID   string
	Text string
}

// LoadBEIRQueries reads dir/queries.jsonl ({"_id","text",…} per line; other
// keys are ignored) in file order. Bad lines fail with a *LineError.
func LoadBEIRQueries(dir string) ([]BEIRQuery, error) {
	path := filepath.Join(dir, beirQueries)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	var qs []BEIRQuery
	lr := newLineReader(f, DefaultMaxDocBytes)
	for {
		line, err := lr.next()
		if err == io.EOF {
			return qs, nil
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return nil, &LineError{File: path, Line: lr.line, Err: err}
			}
			return nil, fmt.Errorf("ingest: read %s: %w", path, err)
		}
		if isBlankBytes(line) {
			continue
		}
		d, err := decodeRecord(line, jsonlBEIR)
		if err != nil {
			return nil, &LineError{File: path, Line: lr.line, Err: err}
		}
		qs = append(qs, BEIRQuery{ID: d.ID, Text: d.Text})
	}
}

// QrelsPath returns the qrels file of split ("test", "dev", "train") in a
// BEIR folder.
func QrelsPath(dir, split string) string {
	return filepath.Join(dir, "qrels", split+".tsv")
}

// LoadQrels reads relevance judgements: query id → document id → grade.
// Lines are "query-id<TAB>corpus-id<TAB>score" (BEIR; a header line is
// skipped) or the four-column TREC form "query-id iteration corpus-id
// score"; fields may be separated by tabs or spaces. Scores are integers;
// a repeated pair keeps the last grade.
func LoadQrels(path string) (map[string]map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	qrels := map[string]map[string]int{}
	lr := newLineReader(f, 1<<20)
	for {
		line, err := lr.next()
		if err == io.EOF {
			return qrels, nil
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return nil, &LineError{File: path, Line: lr.line, Err: err}
			}
			return nil, fmt.Errorf("ingest: read %s: %w", path, err)
		}
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			continue
		}
		var qid, did, score string
		switch len(fields) {
		case 3:
			qid, did, score = fields[0], fields[1], fields[2]
		case 4:
			qid, did, score = fields[0], fields[2], fields[3]
		default:
			return nil, &LineError{File: path, Line: lr.line,
				Err: fmt.Errorf("%w: %d fields, want 3 or 4", ErrInvalidQrels, len(fields))}
		}
		grade, err := strconv.Atoi(score)
		if err != nil {
			if lr.line == 1 { // header: query-id corpus-id score
				continue
			}
			return nil, &LineError{File: path, Line: lr.line,
				Err: fmt.Errorf("%w: score %q is not an integer", ErrInvalidQrels, score)}
		}
		m := qrels[qid]
		if m == nil {
			m = map[string]int{}
			qrels[qid] = m
		}
		m[did] = grade
	}
}

package ragbench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Question is one evaluation item.
type Question struct {
	ID   string `json:"id"`
	Text string `json:"question"`
	// Golds are the gold answer strings (XQuAD's answers, or the JSONL
	// reference), the targets of answer recall, EM, F1 and the citation
	// metrics.
	Golds []string `json:"golds"`
	// Reference is the reference answer for the judged context recall
	// ("" for XQuAD: the first gold answer is used).
	Reference string `json:"reference,omitempty"`
	// GoldDocs are the ids of the documents that answer it (for hit@k).
	GoldDocs []string `json:"gold_docs,omitempty"`
	// ReferenceContexts are the passages that answer it (for the context
	// metrics; XQuAD: the gold paragraph).
	ReferenceContexts []string `json:"reference_contexts,omitempty"`
}

// Dataset is a loaded question set.
type Dataset struct {
	// Name identifies the set in reports and baselines (the folder or
	// file name).
	Name string
	// Dir is the XQuAD-style folder whose corpus.jsonl must be indexed, ""
	// for a JSONL question file asked of an existing collection.
	Dir       string
	Questions []Question
}

// Limits of a dataset line and of a dataset.
const (
	MaxLineBytes = 8 << 20
	MaxQuestions = 1_000_000
)

// LineError is a bad line of a dataset file.
type LineError struct {
	File string
	Line int // 1-based; 0 for a whole-file problem
	Err  error
}

func (e *LineError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// ErrDataset is wrapped by every dataset error.
var ErrDataset = errors.New("ragbench: bad dataset")

func lineErr(file string, line int, format string, args ...any) error {
	return &LineError{File: file, Line: line, Err: fmt.Errorf("%w: "+format, append([]any{ErrDataset}, args...)...)}
}

// eachLine calls fn with every non-blank line of path and its 1-based
// number; lines must be UTF-8 and at most MaxLineBytes.
func eachLine(path string, fn func(line []byte, n int) error) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return lineErr(path, 0, "file is missing")
		}
		return err
	}
	defer f.Close()
	return scanLines(f, path, fn)
}

func scanLines(r io.Reader, path string, fn func(line []byte, n int) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if !utf8.Valid(line) {
			return lineErr(path, n, "not valid UTF-8")
		}
		if err := fn(line, n); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return lineErr(path, n+1, "line longer than %d bytes", MaxLineBytes)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func decodeStrict(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// IsXQuAD reports whether dir looks like an XQuAD-style folder.
func IsXQuAD(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// LoadXQuAD reads an XQuAD-style folder: queries.jsonl ({"_id","text"}),
// answers.jsonl ({"_id","answers":[…]}), corpus.jsonl ({"_id","text"}, for
// the reference contexts) and, if present, qrels/test.tsv (query → gold
// document; XQuAD has one paragraph per question). Every query needs
// non-empty answers and every answer a query, or it fails naming the file
// and line.
func LoadXQuAD(dir string) (*Dataset, error) {
	qpath := filepath.Join(dir, "queries.jsonl")
	apath := filepath.Join(dir, "answers.jsonl")
	cpath := filepath.Join(dir, "corpus.jsonl")
	ds := &Dataset{Name: filepath.Base(filepath.Clean(dir)), Dir: dir}
	if parent := filepath.Base(filepath.Dir(filepath.Clean(dir))); parent != "." && parent != "/" {
		ds.Name = parent + "/" + ds.Name
	}
	index := map[string]int{}
	err := eachLine(qpath, func(line []byte, n int) error {
		var r struct {
			ID   *string `json:"_id"`
			Text *string `json:"text"`
		}
		if err := decodeStrict(line, &r); err != nil {
			return lineErr(qpath, n, "%v", err)
		}
		switch {
		case r.ID == nil || *r.ID == "":
			return lineErr(qpath, n, "missing \"_id\"")
		case r.Text == nil || strings.TrimSpace(*r.Text) == "":
			return lineErr(qpath, n, "query %q has no \"text\"", *r.ID)
		case index[*r.ID] > 0:
			return lineErr(qpath, n, "query id %q repeats line %d", *r.ID, index[*r.ID])
		case len(ds.Questions) == MaxQuestions:
			return lineErr(qpath, n, "more than %d queries", MaxQuestions)
		}
		index[*r.ID] = n
		ds.Questions = append(ds.Questions, Question{ID: *r.ID, Text: *r.Text})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ds.Questions) == 0 {
		return nil, lineErr(qpath, 0, "no queries")
	}
	pos := make(map[string]int, len(ds.Questions))
	for i, q := range ds.Questions {
		pos[q.ID] = i
	}
	answered := map[string]int{}
	err = eachLine(apath, func(line []byte, n int) error {
		var r struct {
			ID      *string  `json:"_id"`
			Answers []string `json:"answers"`
		}
		if err := decodeStrict(line, &r); err != nil {
			return lineErr(apath, n, "%v", err)
		}
		if r.ID == nil {
			return lineErr(apath, n, "missing \"_id\"")
		}
		i, ok := pos[*r.ID]
		switch {
		case !ok:
			return lineErr(apath, n, "answer id %q is not in %s", *r.ID, qpath)
		case answered[*r.ID] > 0:
			return lineErr(apath, n, "answer id %q repeats line %d", *r.ID, answered[*r.ID])
		}
		var golds []string
		for _, a := range r.Answers {
			if strings.TrimSpace(a) != "" {
				golds = append(golds, a)
			}
		}
		if len(golds) == 0 {
			return lineErr(apath, n, "query %q has no non-empty answer", *r.ID)
		}
		answered[*r.ID] = n
		ds.Questions[i].Golds = golds
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, q := range ds.Questions {
		if answered[q.ID] == 0 {
			return nil, lineErr(apath, 0, "query %q (%s line %d) has no answers", q.ID, qpath, index[q.ID])
		}
	}
	corpus := map[string]string{}
	err = eachLine(cpath, func(line []byte, n int) error {
		var r struct {
			ID   string `json:"_id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return lineErr(cpath, n, "%v", err)
		}
		if r.ID == "" {
			return lineErr(cpath, n, "missing \"_id\"")
		}
		corpus[r.ID] = r.Text
		return nil
	})
	if err != nil {
		return nil, err
	}
	rpath := filepath.Join(dir, "qrels", "test.tsv")
	if _, err := os.Stat(rpath); err == nil {
		err = eachLine(rpath, func(line []byte, n int) error {
			f := strings.Split(string(line), "\t")
			if n == 1 && len(f) > 0 && f[0] == "query-id" {
				return nil
			}
			if len(f) < 2 {
				return lineErr(rpath, n, "want query-id<TAB>corpus-id<TAB>score")
			}
			if len(f) == 3 && strings.TrimSpace(f[2]) == "0" {
				return nil
			}
			i, ok := pos[f[0]]
			if !ok {
				return lineErr(rpath, n, "query id %q is not in %s", f[0], qpath)
			}
			text, ok := corpus[f[1]]
			if !ok {
				return lineErr(rpath, n, "document id %q is not in %s", f[1], cpath)
			}
			ds.Questions[i].GoldDocs = append(ds.Questions[i].GoldDocs, f[1])
			ds.Questions[i].ReferenceContexts = append(ds.Questions[i].ReferenceContexts, text)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// LoadJSONL reads a question file for an existing collection: one
// {"question", "reference", "reference_contexts"?, "answers"?, "id"?} per
// line. The golds are "answers" when given, else [reference].
func LoadJSONL(path string) (*Dataset, error) {
	ds := &Dataset{Name: filepath.Base(path)}
	seen := map[string]int{}
	err := eachLine(path, func(line []byte, n int) error {
		var r struct {
			ID                string   `json:"id"`
			Question          string   `json:"question"`
			Reference         string   `json:"reference"`
			ReferenceContexts []string `json:"reference_contexts"`
			Answers           []string `json:"answers"`
			GoldDocs          []string `json:"gold_docs"`
		}
		if err := decodeStrict(line, &r); err != nil {
			return lineErr(path, n, "%v", err)
		}
		if strings.TrimSpace(r.Question) == "" {
			return lineErr(path, n, "missing \"question\"")
		}
		if strings.TrimSpace(r.Reference) == "" && len(r.Answers) == 0 {
			return lineErr(path, n, "needs a non-empty \"reference\" or \"answers\"")
		}
		if r.ID == "" {
			r.ID = fmt.Sprintf("line%d", n)
		}
		if seen[r.ID] > 0 {
			return lineErr(path, n, "id %q repeats line %d", r.ID, seen[r.ID])
		}
		if len(ds.Questions) == MaxQuestions {
			return lineErr(path, n, "more than %d questions", MaxQuestions)
		}
		seen[r.ID] = n
		golds := r.Answers
		if len(golds) == 0 {
			golds = []string{r.Reference}
		}
		ds.Questions = append(ds.Questions, Question{ID: r.ID, Text: r.Question, Golds: golds, Reference: r.Reference,
			ReferenceContexts: r.ReferenceContexts, GoldDocs: r.GoldDocs})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ds.Questions) == 0 {
		return nil, lineErr(path, 0, "no questions")
	}
	return ds, nil
}

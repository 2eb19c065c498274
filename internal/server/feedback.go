package server

// Answer feedback: a thumbs up or down, with an optional comment, stored
// with the question, the answer and its sources so that bad answers can be
// found and replayed later. Records are appended to one JSON Lines file in
// Options.FeedbackDir (one fsynced write per record) and exported as JSONL.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"
)

// Bounds of one feedback record and of the store. The request body is
// also bounded by Options.MaxQueryBodyBytes.
const (
	maxFeedbackQuestion = 8 << 10
	maxFeedbackAnswer   = 128 << 10
	maxFeedbackComment  = 4 << 10
	maxFeedbackSources  = 100
	maxFeedbackIDBytes  = 1 << 10
	maxFeedbackRecord   = 1 << 20
	// maxFeedbackFile bounds feedback.jsonl; past it new feedback is
	// refused until the file is exported and moved away.
	maxFeedbackFile = 256 << 20
)

const feedbackFile = "feedback.jsonl"

// rating is a thumbs up or down.
type rating string

const (
	ratingUp   rating = "up"
	ratingDown rating = "down"
)

func (r *rating) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || (s != string(ratingUp) && s != string(ratingDown)) {
		return invalid("rating", `must be "up" or "down"`)
	}
	*r = rating(s)
	return nil
}

// feedbackSource is a source or citation as the feedback keeps it: where
// it points, not its text (the document has that).
type feedbackSource struct {
	Marker  int     `json:"marker,omitempty"`
	DocID   string  `json:"doc_id"`
	ChunkID string  `json:"chunk_id"`
	Title   string  `json:"title,omitempty"`
	Score   float64 `json:"score,omitempty"`
	Start   int     `json:"start"`
	End     int     `json:"end"`
}

// feedbackIn is the body of POST /v1/feedback.
type feedbackIn struct {
	Collection string           `json:"collection"`
	Question   string           `json:"question"`
	Answer     string           `json:"answer"`
	Rating     rating           `json:"rating"`
	Comment    string           `json:"comment"`
	Method     string           `json:"method"`
	Model      string           `json:"model"`
	Grounded   bool             `json:"grounded"`
	Abstained  bool             `json:"abstained"`
	Sources    []feedbackSource `json:"sources"`
	Citations  []feedbackSource `json:"citations"`
}

// feedbackRecord is one stored line of feedback.jsonl.
type feedbackRecord struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	feedbackIn
}

type feedbackOut struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

func (in *feedbackIn) validate() error {
	if err := validateName(in.Collection); err != nil {
		return err
	}
	texts := []struct {
		field, v string
		max      int
		required bool
	}{
		{"question", in.Question, maxFeedbackQuestion, true},
		{"answer", in.Answer, maxFeedbackAnswer, false},
		{"comment", in.Comment, maxFeedbackComment, false},
		{"method", in.Method, 64, false},
		{"model", in.Model, 256, false},
	}
	for _, f := range texts {
		if f.required && f.v == "" {
			return invalid(f.field, "is required")
		}
		if len(f.v) > f.max {
			return invalid(f.field, "is %d bytes, over the limit of %d", len(f.v), f.max)
		}
		if !utf8.ValidString(f.v) {
			return invalid(f.field, "is not valid UTF-8")
		}
	}
	if in.Rating == "" {
		return invalid("rating", `is required: "up" or "down"`)
	}
	for _, l := range []struct {
		field string
		v     []feedbackSource
	}{{"sources", in.Sources}, {"citations", in.Citations}} {
		if len(l.v) > maxFeedbackSources {
			return invalid(l.field, "has %d entries, over the limit of %d", len(l.v), maxFeedbackSources)
		}
		for i, s := range l.v {
			if len(s.DocID)+len(s.ChunkID)+len(s.Title) > maxFeedbackIDBytes {
				return invalid(fmt.Sprintf("%s[%d]", l.field, i), "ids and title are over %d bytes", maxFeedbackIDBytes)
			}
			if s.Start < 0 || s.End < s.Start {
				return invalid(fmt.Sprintf("%s[%d].end", l.field, i), "start and end must satisfy 0 <= start <= end")
			}
		}
	}
	return nil
}

// validateName checks a collection name the way the engine does for the
// names it accepts: 1-64 letters, digits, '_', '-', '.'.
func validateName(name string) error {
	if name == "" || len(name) > 64 {
		return invalid("collection", "must be 1-64 characters")
	}
	for _, c := range name {
		ok := c == '_' || c == '-' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return invalid("collection", "may hold only letters, digits, '_', '-' and '.'")
		}
	}
	return nil
}

// feedbackStore appends records to dir/feedback.jsonl.
type feedbackStore struct {
	dir string // "" means feedback is off

	// mu serializes appends, so that lines never interleave.
	mu sync.Mutex
}

func (f *feedbackStore) path() string { return filepath.Join(f.dir, feedbackFile) }

// append writes rec as one line and fsyncs it before returning. A line
// left torn by a crash is closed with a newline first, so that it stays
// one bad line (skipped by export) instead of corrupting the next record.
func (f *feedbackStore) append(rec *feedbackRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("feedback: encoding: %w", err)
	}
	if len(line) > maxFeedbackRecord {
		return &apiError{Code: codeTooLarge, Message: fmt.Sprintf("the feedback record is %d bytes, over the limit of %d", len(line), maxFeedbackRecord)}
	}
	line = append(line, '\n')
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	fresh := false
	if _, err := os.Stat(f.path()); errors.Is(err, fs.ErrNotExist) {
		fresh = true
	}
	file, err := os.OpenFile(f.path(), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	st, err := file.Stat()
	if err == nil && st.Size()+int64(len(line)) > maxFeedbackFile {
		file.Close()
		return &apiError{Code: codeTooLarge, Message: fmt.Sprintf("the feedback store holds %d bytes, its limit is %d; export it (GET /v1/feedback) and move %s away", st.Size(), maxFeedbackFile, feedbackFile)}
	}
	if err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := file.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := file.Write(line); err != nil {
		file.Close()
		return fmt.Errorf("feedback: write: %w", err)
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return fmt.Errorf("feedback: sync: %w", err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("feedback: close: %w", err)
	}
	if fresh {
		if d, err := os.Open(f.dir); err == nil {
			err = d.Sync()
			d.Close()
			if err != nil {
				return fmt.Errorf("feedback: sync dir: %w", err)
			}
		}
	}
	return nil
}

// open opens the store for export; nil (and no error) when it is empty.
func (f *feedbackStore) open() (*os.File, error) {
	file, err := os.Open(f.path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	return file, nil
}

// export copies the valid records of file to w, oldest first, keeping
// those of collection when it is not "".
func export(w io.Writer, file io.Reader, collection string) error {
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 64<<10), maxFeedbackRecord+2)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		var rec feedbackRecord
		if len(line) == 0 || json.Unmarshal(line, &rec) != nil || rec.ID == "" {
			continue // a line torn by a crash
		}
		if collection != "" && rec.Collection != collection {
			continue
		}
		if _, err := w.Write(append(line, '\n')); err != nil {
			return nil // the client went away
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("feedback: reading %s: %w", feedbackFile, err)
	}
	return nil
}

func (s *Server) feedbackOff() error {
	return &apiError{Code: codeUnavailable, Message: "feedback is not stored by this server (it runs without a data directory for it)"}
}

// postFeedback stores one rating of an answer.
func (s *Server) postFeedback(w http.ResponseWriter, r *http.Request) error {
	if s.feedback.dir == "" {
		return s.feedbackOff()
	}
	var in feedbackIn
	if err := readJSON(w, r, s.opts.MaxQueryBodyBytes, &in); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return fmt.Errorf("feedback: id: %w", err)
	}
	rec := feedbackRecord{ID: hex.EncodeToString(id[:]), Created: time.Now().UTC().Truncate(time.Millisecond), feedbackIn: in}
	if err := s.feedback.append(&rec); err != nil {
		return err
	}
	s.observeFeedback(r.Context(), in.Collection, in.Rating == ratingUp)
	return s.writeJSON(w, http.StatusCreated, feedbackOut{ID: rec.ID, Created: rec.Created})
}

// exportFeedback streams the stored feedback as JSON Lines
// (?collection= keeps one collection's).
func (s *Server) exportFeedback(w http.ResponseWriter, r *http.Request) error {
	if s.feedback.dir == "" {
		return s.feedbackOff()
	}
	col := r.URL.Query().Get("collection")
	if col != "" {
		if err := validateName(col); err != nil {
			return err
		}
	}
	file, err := s.feedback.open()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="feedback.jsonl"`)
	w.WriteHeader(http.StatusOK)
	if file == nil {
		return nil
	}
	defer file.Close()
	if err := export(w, file, col); err != nil {
		// The status is sent; the log has the cause.
		s.log.Error("exporting feedback", "err", err)
	}
	return nil
}

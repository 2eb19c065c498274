package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/quarry-rag/quarry/internal/drift"
)

// DriftSource gives GET /v1/collections/{c}/drift its reports.
// *drift.Monitor implements it; the query pipeline feeds that monitor
// through drift.Monitor.Recorder (see docs/operations.md for the calls).
type DriftSource interface {
	// Report compares collection c's current window with its baseline.
	Report(c string) *drift.Report
	// Windows returns copies of collection c's baseline (nil when there is
	// none yet) and current window.
	Windows(c string) (baseline, current *drift.Sample)
}

// driftReport serves GET /v1/collections/{c}/drift: the collection's
// drift report, 404 when the collection does not exist or drift
// monitoring is off (Options.Drift is nil).
func (s *Server) driftReport(w http.ResponseWriter, r *http.Request) error {
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	if s.opts.Drift == nil {
		return &apiError{Code: codeNotFound, Message: "drift monitoring is off on this server"}
	}
	return s.writeJSON(w, http.StatusOK, s.opts.Drift.Report(col.Name()))
}

// driftWindow serves GET /v1/collections/{c}/drift/windows/{which}: the
// baseline or current window as saved-window JSON (drift.WriteSample's
// format), for `quarry drift report` and for pinning a baseline elsewhere.
func (s *Server) driftWindow(w http.ResponseWriter, r *http.Request) error {
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	if s.opts.Drift == nil {
		return &apiError{Code: codeNotFound, Message: "drift monitoring is off on this server"}
	}
	base, cur := s.opts.Drift.Windows(col.Name())
	var smp *drift.Sample
	switch which := r.PathValue("which"); which {
	case "baseline":
		if base == nil {
			return &apiError{Code: codeNotFound, Message: "the collection has no drift baseline yet"}
		}
		smp = base
	case "current":
		smp = cur
	default:
		return &apiError{Code: codeNotFound, Message: fmt.Sprintf("unknown drift window %q: want baseline or current", which)}
	}
	return s.writeJSON(w, http.StatusOK, smp)
}

// feedbackRecorder is a DriftSource that also records ratings
// (*drift.Monitor).
type feedbackRecorder interface {
	Recorder(c string) drift.Recorder
}

// observeFeedback hands a stored rating to the drift monitor, for
// collections that exist only (a rating naming any string must not open a
// window for it).
func (s *Server) observeFeedback(ctx context.Context, collection string, up bool) {
	fr, ok := s.opts.Drift.(feedbackRecorder)
	if !ok {
		return
	}
	if _, err := s.eng.Collection(ctx, collection); err != nil {
		return
	}
	fr.Recorder(collection).ObserveFeedback(up)
}

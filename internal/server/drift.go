package server

import (
	"net/http"

	"github.com/quarry-rag/quarry/internal/drift"
)

// DriftSource gives GET /v1/collections/{c}/drift its reports.
// *drift.Monitor implements it; the query pipeline feeds that monitor
// through drift.Monitor.Recorder (see docs/operations.md for the calls).
type DriftSource interface {
	// Report compares collection c's current window with its baseline.
	Report(c string) *drift.Report
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

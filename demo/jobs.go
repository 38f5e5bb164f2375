package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
)

// The out-of-order jobs race class (audit RC-004): "regenerate" starts a
// job whose number grows with submission order (the profile sends
// {{seq}}); jobs take different times, so an older job can finish after a
// newer one. The newest job's result must be the one that stays.
//
// Both modes run the job for a random time in [0, 2×Think), drawn from the
// service's seeded source (Config.Seed), then store the result; the report
// row is created by its first job.
//
// racy: store unconditionally (an upsert that always overwrites): an older
// job finishing last overwrites the newer result.
//
// safe: compare-and-set on the monotonic job number: the upsert only
// overwrites a row whose job is lower (ON CONFLICT ... DO UPDATE ... WHERE
// reports.job < excluded.job). A superseded job still answers 200, with
// "applied": false; a job number equal to the stored one is superseded too.

// regenerateBody is the response of POST /reports/{id}/regenerate.
type regenerateBody struct {
	ID      int64  `json:"id"`
	Job     int64  `json:"job"`
	Applied bool   `json:"applied"` // false: a newer job's result was kept
	Result  string `json:"result"`  // what this job computed
	TookMS  int64  `json:"took_ms"` // the job's simulated run time
}

// reportBody is the response of GET /reports/{id}.
type reportBody struct {
	ID     int64  `json:"id"`
	Job    int64  `json:"job"`
	Result string `json:"result"`
}

const jobShape = `{"job":N}`

func (s *Service) handleGetReport(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "report")
	if !ok {
		return
	}
	rep := reportBody{ID: id}
	err := s.db.QueryRowContext(r.Context(), s.dialect.q(`SELECT job, result FROM reports WHERE id = ?`), id).Scan(&rep.Job, &rep.Result)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, fmt.Sprintf("report %d not found (no job stored yet)", id))
	case err != nil:
		writeDBError(w, fmt.Sprintf("read report %d", id), err)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

func (s *Service) handleRegenerate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "report")
	if !ok {
		return
	}
	var body struct {
		Job *int64 `json:"job"`
	}
	if !decodeBody(w, r, &body, jobShape) {
		return
	}
	if body.Job == nil {
		missing(w, "job", jobShape)
		return
	}
	job := *body.Job
	took := s.randDuration(2 * s.cfg.Think)
	if err := sleep(r.Context(), took); err != nil {
		writeDBError(w, fmt.Sprintf("job %d of report %d", job, id), fmt.Errorf("run: %w", err))
		return
	}
	result := fmt.Sprintf("report %d from job %d", id, job)
	applied, err := s.storeReport(r.Context(), id, job, result)
	if err != nil {
		writeDBError(w, fmt.Sprintf("store job %d of report %d", job, id), err)
		return
	}
	writeJSON(w, http.StatusOK, regenerateBody{ID: id, Job: job, Applied: applied, Result: result, TookMS: took.Milliseconds()})
}

// storeReport writes a finished job's result: unconditionally when racy,
// only over an older job when safe. It reports whether the row now holds
// this job's result.
func (s *Service) storeReport(ctx context.Context, id, job int64, result string) (bool, error) {
	if s.dialect.name == driverMySQL {
		return s.storeReportMySQL(ctx, id, job, result)
	}
	query := `INSERT INTO reports (id, job, result) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET job = excluded.job, result = excluded.result`
	if s.cfg.Mode == modeSafe {
		query += ` WHERE reports.job < excluded.job`
	}
	var stored int64
	err := s.db.QueryRowContext(ctx, s.dialect.q(query+` RETURNING job`), id, job, result).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil // safe: a newer (or the same) job is stored
	case err != nil:
		return false, fmt.Errorf("upsert: %w", err)
	}
	return true, nil
}

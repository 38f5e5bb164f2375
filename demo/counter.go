package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// The counters race class (audit RC-006): concurrent increments of one row.
//
// racy: SELECT value, think, UPDATE counters SET value = <read + 1>, as two
// autocommit statements. Two requests that read the same value both write
// the same value + 1: a lost update.
//
// safe: think, then one atomic UPDATE ... SET value = value + 1 RETURNING
// value. The database serialises the writes on the row, so every
// acknowledged increment is counted exactly once.

// counterBody is the response of GET /counters/{id} and of an increment.
type counterBody struct {
	ID    int64 `json:"id"`
	Value int64 `json:"value"`
}

// errNoCounter reports that the counter row does not exist.
var errNoCounter = errors.New("counter not found")

// counterID parses the {id} path value; on failure it writes a 400.
func counterID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("counter id %q is not an integer", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

func (s *Service) handleGetCounter(w http.ResponseWriter, r *http.Request) {
	id, ok := counterID(w, r)
	if !ok {
		return
	}
	var value int64
	err := s.db.QueryRowContext(r.Context(), s.dialect.q(`SELECT value FROM counters WHERE id = ?`), id).Scan(&value)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, fmt.Sprintf("counter %d not found", id))
	case err != nil:
		writeDBError(w, fmt.Sprintf("read counter %d", id), err)
	default:
		writeJSON(w, http.StatusOK, counterBody{ID: id, Value: value})
	}
}

func (s *Service) handleIncrement(w http.ResponseWriter, r *http.Request) {
	id, ok := counterID(w, r)
	if !ok {
		return
	}
	increment := s.incrementSafe
	if s.cfg.Mode == modeRacy {
		increment = s.incrementRacy
	}
	value, err := increment(r.Context(), id)
	switch {
	case errors.Is(err, errNoCounter):
		writeError(w, http.StatusNotFound, fmt.Sprintf("counter %d not found", id))
	case err != nil:
		writeDBError(w, fmt.Sprintf("increment counter %d", id), err)
	default:
		writeJSON(w, http.StatusOK, counterBody{ID: id, Value: value})
	}
}

// incrementRacy is the lost-update bug: read, think, write back read + 1.
func (s *Service) incrementRacy(ctx context.Context, id int64) (int64, error) {
	var value int64
	err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT value FROM counters WHERE id = ?`), id).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNoCounter
	}
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	if err := s.think(ctx); err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, s.dialect.q(`UPDATE counters SET value = ? WHERE id = ?`), value+1, id)
	if err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return 0, errNoCounter // deleted between the read and the write
	}
	return value + 1, nil
}

// incrementSafe thinks, then increments in one atomic statement.
func (s *Service) incrementSafe(ctx context.Context, id int64) (int64, error) {
	if err := s.think(ctx); err != nil {
		return 0, err
	}
	var value int64
	err := s.updateReturning(ctx, nil, "counters", id,
		`UPDATE counters SET value = value + 1 WHERE id = ?`, []any{id}, "value", &value)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNoCounter
	}
	if err != nil {
		return 0, fmt.Errorf("update: %w", err)
	}
	return value, nil
}

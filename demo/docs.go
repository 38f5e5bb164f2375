package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
)

// The two-tab edit race class (audit RC-002): a client reads a document
// with its version, edits it, and saves with the version it read; another
// client (tab) saved in between.
//
// racy: read the current row, think, UPDATE docs SET title = ?, version =
// <version read> + 1. The client's version is ignored: last write wins
// silently. Concurrent saves all answer 200 but the version rises once for
// all of them (lost updates), and a save carrying a stale version is
// accepted.
//
// safe: think, then optimistic locking in one statement: UPDATE docs SET
// title = ?, version = version + 1 WHERE id = ? AND version = <client's>.
// No row updated means the document changed since the client read it: 409
// {"error":"resource was modified, refresh","version":<current>}. Every 200
// raised the version by exactly one.

// docBody is a document: GET /docs/{id} and the response of a save.
type docBody struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	Version int64  `json:"version"`
}

// docConflictBody is the 409 of a safe save with a stale version.
type docConflictBody struct {
	Error   string `json:"error"`
	Version int64  `json:"version"` // the document's current version
}

// errDocModified is the 409 message of a stale save.
const errDocModified = "resource was modified, refresh"

const docShape = `{"version":N,"title":"..."}`

// errNotFound reports that the row a request names does not exist.
var errNotFound = errors.New("not found")

func (s *Service) handleGetDoc(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "doc")
	if !ok {
		return
	}
	d := docBody{ID: id}
	err := s.db.QueryRowContext(r.Context(), s.dialect.q(`SELECT title, version FROM docs WHERE id = ?`), id).Scan(&d.Title, &d.Version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, fmt.Sprintf("doc %d not found", id))
	case err != nil:
		writeDBError(w, fmt.Sprintf("read doc %d", id), err)
	default:
		writeJSON(w, http.StatusOK, d)
	}
}

func (s *Service) handlePutDoc(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "doc")
	if !ok {
		return
	}
	var body struct {
		Version *int64  `json:"version"`
		Title   *string `json:"title"`
	}
	if !decodeBody(w, r, &body, docShape) {
		return
	}
	if body.Version == nil {
		missing(w, "version", docShape)
		return
	}
	if body.Title == nil {
		missing(w, "title", docShape)
		return
	}
	save := s.saveDocSafe
	if s.cfg.Mode == modeRacy {
		save = s.saveDocRacy
	}
	version, conflict, err := save(r.Context(), id, *body.Title, *body.Version)
	switch {
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("doc %d not found", id))
	case err != nil:
		writeDBError(w, fmt.Sprintf("save doc %d", id), err)
	case conflict:
		writeJSON(w, http.StatusConflict, docConflictBody{Error: errDocModified, Version: version})
	default:
		writeJSON(w, http.StatusOK, docBody{ID: id, Title: *body.Title, Version: version})
	}
}

// saveDocRacy is last-write-wins: read, think, write back version read + 1.
func (s *Service) saveDocRacy(ctx context.Context, id int64, title string, _ int64) (int64, bool, error) {
	var version int64
	err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT version FROM docs WHERE id = ?`), id).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, errNotFound
	}
	if err != nil {
		return 0, false, fmt.Errorf("read: %w", err)
	}
	if err := s.think(ctx); err != nil {
		return 0, false, err
	}
	res, err := s.db.ExecContext(ctx, s.dialect.q(`UPDATE docs SET title = ?, version = ? WHERE id = ?`), title, version+1, id)
	if err != nil {
		return 0, false, fmt.Errorf("write: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return 0, false, errNotFound
	}
	return version + 1, false, nil
}

// saveDocSafe is optimistic locking: the write names the version it
// expects. It returns the new version, or the current one and conflict.
func (s *Service) saveDocSafe(ctx context.Context, id int64, title string, expected int64) (int64, bool, error) {
	if err := s.think(ctx); err != nil {
		return 0, false, err
	}
	var version int64
	err := s.updateReturning(ctx, nil, "docs", id,
		`UPDATE docs SET title = ?, version = version + 1 WHERE id = ? AND version = ?`,
		[]any{title, id, expected}, "version", &version)
	if err == nil {
		return version, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("update: %w", err)
	}
	err = s.db.QueryRowContext(ctx, s.dialect.q(`SELECT version FROM docs WHERE id = ?`), id).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, errNotFound
	case err != nil:
		return 0, false, fmt.Errorf("read current version: %w", err)
	}
	return version, true, nil
}

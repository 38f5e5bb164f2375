package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The first-or-create class: an ORM's find-or-create ("favorite this
// resource") sent twice at once by one user, from a double click or a
// retrying client, with no artificial delay: the race window is the
// natural one between a SELECT and an INSERT over pooled connections. The
// endpoints require a bearer token (auth.go); resources are plain rows a
// user creates to have something to favorite.
//
// racy: SELECT the favorite by (resource_id, user_id); if found, 200 with
// it; else think, then INSERT and 201. The racy schema has no unique index
// on (resource_id, user_id) (Open drops it), so requests that all SELECT
// before the first INSERT commits each insert a row: duplicates, even with
// Think = 0.
//
// safe: think, then INSERT ... ON CONFLICT (resource_id, user_id) DO
// NOTHING RETURNING id; a row back means created (201), none means the
// favorite exists and is read back (200). The safe schema has the unique
// index favorites_resource_user_key, which admits one winner (PostgreSQL:
// a loser waits for the winner's commit on the index entry; SQLite: on the
// write lock). Every response of a burst carries the same id, exactly one
// of them 201.

// resourceBody is a resource: POST /resources and GET /resources/{id}.
type resourceBody struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// favoriteBody is a favorite: POST /resources/{id}/favorite and an entry
// of GET /resources/{id}/favorites.
type favoriteBody struct {
	ID         int64 `json:"id"`
	ResourceID int64 `json:"resource_id"`
	UserID     int64 `json:"user_id"`
}

// favoritesBody is the response of GET /resources/{id}/favorites.
type favoritesBody struct {
	ResourceID int64          `json:"resource_id"`
	Count      int            `json:"count"`
	Favorites  []favoriteBody `json:"favorites"` // oldest first; [] when none
}

const resourceShape = `{"name":"..."}`

func (s *Service) handleCreateResource(w http.ResponseWriter, r *http.Request, u user) {
	var body struct {
		Name *string `json:"name"`
	}
	if !decodeBody(w, r, &body, resourceShape) {
		return
	}
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		missing(w, "name", resourceShape)
		return
	}
	res := resourceBody{Name: *body.Name}
	var err error
	res.ID, err = s.insertID(r.Context(), s.db, `INSERT INTO resources (name, user_id) VALUES (?, ?)`, res.Name, u.ID)
	if err != nil {
		writeDBError(w, "create resource", err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (s *Service) handleGetResource(w http.ResponseWriter, r *http.Request, _ user) {
	id, ok := pathID(w, r, "resource")
	if !ok {
		return
	}
	res := resourceBody{ID: id}
	err := s.db.QueryRowContext(r.Context(), s.dialect.q(`SELECT name FROM resources WHERE id = ?`), id).Scan(&res.Name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, fmt.Sprintf("resource %d not found", id))
	case err != nil:
		writeDBError(w, fmt.Sprintf("read resource %d", id), err)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// resourceExists writes a 404 (or a 500) and returns false unless resource
// id exists.
func (s *Service) resourceExists(w http.ResponseWriter, r *http.Request, id int64) bool {
	var one int
	err := s.db.QueryRowContext(r.Context(), s.dialect.q(`SELECT 1 FROM resources WHERE id = ?`), id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, fmt.Sprintf("resource %d not found", id))
		return false
	case err != nil:
		writeDBError(w, fmt.Sprintf("read resource %d", id), err)
		return false
	}
	return true
}

func (s *Service) handleFavorite(w http.ResponseWriter, r *http.Request, u user) {
	id, ok := pathID(w, r, "resource")
	if !ok || !s.resourceExists(w, r, id) {
		return
	}
	favorite := s.favoriteSafe
	if s.cfg.Mode == modeRacy {
		favorite = s.favoriteRacy
	}
	favID, created, err := favorite(r.Context(), id, u.ID)
	if err != nil {
		writeDBError(w, fmt.Sprintf("favorite resource %d", id), err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, favoriteBody{ID: favID, ResourceID: id, UserID: u.ID})
}

// favoriteRacy is find-then-create: SELECT, think, INSERT.
func (s *Service) favoriteRacy(ctx context.Context, resourceID, userID int64) (id int64, created bool, err error) {
	err = s.db.QueryRowContext(ctx, s.dialect.q(
		`SELECT id FROM favorites WHERE resource_id = ? AND user_id = ? ORDER BY id LIMIT 1`), resourceID, userID).Scan(&id)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("find favorite: %w", err)
	}
	if err := s.think(ctx); err != nil {
		return 0, false, err
	}
	id, err = s.insertID(ctx, s.db, `INSERT INTO favorites (resource_id, user_id) VALUES (?, ?)`, resourceID, userID)
	if err != nil {
		return 0, false, fmt.Errorf("insert favorite: %w", err)
	}
	return id, true, nil
}

// favoriteSafe inserts unless the unique index already holds the pair,
// then reads the existing row.
func (s *Service) favoriteSafe(ctx context.Context, resourceID, userID int64) (id int64, created bool, err error) {
	if err := s.think(ctx); err != nil {
		return 0, false, err
	}
	if s.dialect.name == driverMySQL {
		id, err = s.insertIgnoreID(ctx, `INSERT IGNORE INTO favorites (resource_id, user_id) VALUES (?, ?)`, resourceID, userID)
	} else {
		err = s.db.QueryRowContext(ctx, s.dialect.q(
			`INSERT INTO favorites (resource_id, user_id) VALUES (?, ?)
			 ON CONFLICT (resource_id, user_id) DO NOTHING RETURNING id`), resourceID, userID).Scan(&id)
	}
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("insert favorite: %w", err)
	}
	err = s.db.QueryRowContext(ctx, s.dialect.q(
		`SELECT id FROM favorites WHERE resource_id = ? AND user_id = ?`), resourceID, userID).Scan(&id)
	if err != nil {
		// ErrNoRows here means the row was deleted in between.
		return 0, false, fmt.Errorf("read existing favorite: %w", err)
	}
	return id, false, nil
}

func (s *Service) handleListFavorites(w http.ResponseWriter, r *http.Request, _ user) {
	id, ok := pathID(w, r, "resource")
	if !ok || !s.resourceExists(w, r, id) {
		return
	}
	favs, err := s.listFavorites(r.Context(), id)
	if err != nil {
		writeDBError(w, fmt.Sprintf("list favorites of resource %d", id), err)
		return
	}
	writeJSON(w, http.StatusOK, favoritesBody{ResourceID: id, Count: len(favs), Favorites: favs})
}

// listFavorites returns resource id's favorites, oldest first; never nil.
func (s *Service) listFavorites(ctx context.Context, id int64) ([]favoriteBody, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.q(
		`SELECT id, resource_id, user_id FROM favorites WHERE resource_id = ? ORDER BY id`), id)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	favs := []favoriteBody{}
	for rows.Next() {
		var f favoriteBody
		if err := rows.Scan(&f.ID, &f.ResourceID, &f.UserID); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		favs = append(favs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows: %w", err)
	}
	return favs, nil
}

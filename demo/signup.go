package demo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// The compound-operation class: one request that must change two tables
// together — a signup creates a member and the member's profile — and so
// must commit both or neither. No concurrency is needed to break it: a
// connection to the database lost between the two statements (a restarted
// database, a failover, a proxy dropping an idle connection, collide's
// cut_after_statement) is enough.
//
// racy: INSERT the member, then INSERT its profile, as two autocommit
// statements on the request's connection (one *sql.Conn, as a framework's
// per-request session). When the connection is lost after the first commits, the
// request fails (500) and leaves a member without a profile: an orphan,
// the half-done state no reader expects.
//
// safe: both INSERTs in one transaction. A connection lost between them
// rolls the member back with it: the request fails (500) and leaves
// nothing. Both modes think (Config.Think) between the two INSERTs.

// signupBody is a member: the response of POST /signup.
type signupBody struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

const signupShape = `{"name":"..."}`

func (s *Service) handleSignup(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name *string `json:"name"`
	}
	if !decodeBody(w, r, &body, signupShape) {
		return
	}
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		missing(w, "name", signupShape)
		return
	}
	signup := s.signupSafe
	if s.cfg.Mode == modeRacy {
		signup = s.signupRacy
	}
	id, err := signup(r.Context(), *body.Name)
	if err != nil {
		writeDBError(w, "signup", err)
		return
	}
	writeJSON(w, http.StatusCreated, signupBody{ID: id, Name: *body.Name})
}

// signupRacy: two autocommit statements; a failure between them leaves the
// member without its profile.
func (s *Service) signupRacy(ctx context.Context, name string) (int64, error) {
	conn, err := s.db.Conn(ctx) // the request's session, as a framework's per-request connection
	if err != nil {
		return 0, fmt.Errorf("connection: %w", err)
	}
	defer conn.Close()
	id, err := s.insertID(ctx, conn, `INSERT INTO members (name) VALUES (?)`, name)
	if err != nil {
		return 0, fmt.Errorf("insert member: %w", err)
	}
	if err := s.think(ctx); err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, s.dialect.q(`INSERT INTO member_profiles (member_id, bio) VALUES (?, '')`), id); err != nil {
		return 0, fmt.Errorf("insert profile of member %d: %w", id, err)
	}
	return id, nil
}

// signupSafe: one transaction; a failure between the INSERTs rolls both
// back.
func (s *Service) signupSafe(ctx context.Context, name string) (id int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			rollback(tx)
		}
	}()
	if id, err = s.insertID(ctx, tx, `INSERT INTO members (name) VALUES (?)`, name); err != nil {
		return 0, fmt.Errorf("insert member: %w", err)
	}
	if err = s.think(ctx); err != nil {
		return 0, err
	}
	if _, err = tx.ExecContext(ctx, s.dialect.q(`INSERT INTO member_profiles (member_id, bio) VALUES (?, '')`), id); err != nil {
		return 0, fmt.Errorf("insert profile of member %d: %w", id, err)
	}
	if err = tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return id, nil
}

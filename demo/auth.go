package demo

import (
	"context"
	cryptorand "crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Login and bearer tokens: the plumbing of an ordinary authenticated API,
// so that the resource and favorite endpoints (favorites.go) look like a
// real service's, not a race class of their own. Both modes behave the
// same.
//
// POST /login {"user":"alice"} finds or creates the user in one upsert
// (users.name is UNIQUE, so concurrent first logins of one name agree on
// its id), stores a new random token in tokens and returns it. There are
// no passwords: a "password" field is accepted and ignored. A token never
// expires.
//
// The endpoints wrapped by authed require "Authorization: Bearer <token>";
// a missing, malformed or unknown token answers 401 {"error":"..."} with
// "WWW-Authenticate: Bearer". The token is looked up in the database on
// every request, as a session store would be.

// user is an authenticated user.
type user struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// loginBody is the response of POST /login.
type loginBody struct {
	Token string `json:"token"`
	User  user   `json:"user"`
}

const loginShape = `{"user":"..."}`

func (s *Service) handleLogin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		User     *string `json:"user"`
		Password *string `json:"password"` // accepted, ignored
	}
	if !decodeBody(w, r, &body, loginShape) {
		return
	}
	if body.User == nil || strings.TrimSpace(*body.User) == "" {
		missing(w, "user", loginShape)
		return
	}
	u, token, err := s.login(r.Context(), *body.User)
	if err != nil {
		writeDBError(w, fmt.Sprintf("log in %q", *body.User), err)
		return
	}
	writeJSON(w, http.StatusOK, loginBody{Token: token, User: u})
}

// login finds or creates the user called name and issues a new token.
func (s *Service) login(ctx context.Context, name string) (user, string, error) {
	u := user{Name: name}
	var err error
	if s.dialect.name == driverMySQL {
		// LAST_INSERT_ID(id) makes the existing row's id the statement's
		// insert id when the name is taken.
		var res sql.Result
		if res, err = s.db.ExecContext(ctx,
			`INSERT INTO users (name) VALUES (?) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)`, name); err == nil {
			u.ID, err = res.LastInsertId()
		}
	} else {
		err = s.db.QueryRowContext(ctx, s.dialect.q(
			`INSERT INTO users (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`),
			name).Scan(&u.ID)
	}
	if err != nil {
		return user{}, "", fmt.Errorf("upsert user: %w", err)
	}
	token := cryptorand.Text() // 26 base32 characters, 130 random bits
	if _, err := s.db.ExecContext(ctx, s.dialect.q(`INSERT INTO tokens (token, user_id) VALUES (?, ?)`), token, u.ID); err != nil {
		return user{}, "", fmt.Errorf("store token: %w", err)
	}
	return u, token, nil
}

// errNoToken is the 401 message of a request without a bearer token.
const errNoToken = "missing bearer token: send Authorization: Bearer <token> from POST /login"

// errBadToken is the 401 message of an unknown token.
const errBadToken = "invalid bearer token"

// authed wraps a handler that needs the request's user: it answers 401
// unless the request carries a known bearer token.
func (s *Service) authed(next func(w http.ResponseWriter, r *http.Request, u user)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			unauthorized(w, errNoToken)
			return
		}
		u := user{}
		err := s.db.QueryRowContext(r.Context(), s.dialect.q(
			`SELECT u.id, u.name FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token = ?`), token).Scan(&u.ID, &u.Name)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			unauthorized(w, errBadToken)
		case err != nil:
			writeDBError(w, "look up token", err)
		default:
			next(w, r, u)
		}
	}
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme is case-insensitive).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// unauthorized writes a 401 with a Bearer challenge.
func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", "Bearer")
	writeError(w, http.StatusUnauthorized, msg)
}

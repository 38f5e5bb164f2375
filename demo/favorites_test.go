package demo

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// login logs name in and returns its token and user.
func login(t *testing.T, srv *httptest.Server, name string) (string, user) {
	t.Helper()
	r := mustCall(t, http.MethodPost, srv.URL+"/login", nil, fmt.Sprintf(`{"user":%q}`, name))
	l := decode[loginBody](t, r)
	if r.status != http.StatusOK || l.Token == "" || l.User.ID <= 0 || l.User.Name != name {
		t.Fatalf("login %q = %d %s", name, r.status, r.body)
	}
	return l.Token, l.User
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
}

// TestLoginResourcesFavorites walks login, the 401s, resources and
// favorites once, sequentially, on both databases in both modes.
func TestLoginResourcesFavorites(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serve(t, b, mode, 0)
				url := srv.URL
				expect := func(r response, status int) response {
					t.Helper()
					if r.status != status || r.ctype != "application/json" {
						t.Fatalf("= %d %q %s, want %d", r.status, r.ctype, r.body, status)
					}
					if status >= 400 && decode[errorBody](t, r).Error == "" {
						t.Fatalf("%d without an error message: %s", status, r.body)
					}
					return r
				}

				// Login: bad bodies, then a new user, the same user again, another user.
				for _, body := range []string{``, `{}`, `{"user":""}`, `{"user":"  "}`, `{"user":1}`, `{"user":"a","x":1}`} {
					expect(mustCall(t, http.MethodPost, url+"/login", nil, body), http.StatusBadRequest)
				}
				alice, aliceU := login(t, srv, "alice")
				alice2, aliceU2 := login(t, srv, "alice")
				if aliceU2 != aliceU || alice2 == alice {
					t.Fatalf("second login of alice: %+v token %q; first %+v token %q: want the same user, a new token", aliceU2, alice2, aliceU, alice)
				}
				r := expect(mustCall(t, http.MethodPost, url+"/login", nil, `{"user":"bob","password":"ignored"}`), http.StatusOK)
				bobL := decode[loginBody](t, r)
				bob, bobU := bobL.Token, bobL.User
				if bobU.ID == aliceU.ID || bobU.Name != "bob" {
					t.Fatalf("bob = %+v, alice = %+v", bobU, aliceU)
				}

				// 401 without a valid bearer token, on every authenticated route.
				for _, rt := range []struct{ method, path string }{
					{http.MethodPost, "/resources"}, {http.MethodGet, "/resources/1"},
					{http.MethodPost, "/resources/1/favorite"}, {http.MethodGet, "/resources/1/favorites"},
				} {
					for _, hdr := range []map[string]string{
						nil,
						{"Authorization": "Bearer "},
						{"Authorization": "Basic " + alice},
						{"Authorization": alice},
						{"Authorization": "Bearer nope"},
						{"Authorization": "Bearer " + alice + "x"},
					} {
						r := expect(mustCall(t, rt.method, url+rt.path, hdr, `{"name":"r"}`), http.StatusUnauthorized)
						if r.header.Get("WWW-Authenticate") != "Bearer" {
							t.Fatalf("%s %s: 401 without a Bearer challenge: %s", rt.method, rt.path, r.body)
						}
					}
				}
				if n := count(t, s, `SELECT COUNT(*) FROM resources`); n != 0 {
					t.Fatalf("401s created %d resources", n)
				}

				// Resources: created with an id, read back; the scheme is case-insensitive.
				for _, body := range []string{``, `{}`, `{"name":""}`, `{"name":" "}`, `{"name":"a","x":1}`} {
					expect(mustCall(t, http.MethodPost, url+"/resources", bearer(alice), body), http.StatusBadRequest)
				}
				r1 := decode[resourceBody](t, expect(mustCall(t, http.MethodPost, url+"/resources", bearer(alice), `{"name":"r1"}`), http.StatusCreated))
				r2 := decode[resourceBody](t, expect(mustCall(t, http.MethodPost, url+"/resources",
					map[string]string{"Authorization": "bearer " + bob}, `{"name":"r 2/é"}`), http.StatusCreated))
				if r1.ID <= 0 || r1.Name != "r1" || r2.ID == r1.ID || r2.Name != "r 2/é" {
					t.Fatalf("resources %+v and %+v", r1, r2)
				}
				if got := decode[resourceBody](t, expect(mustCall(t, http.MethodGet, fmt.Sprintf("%s/resources/%d", url, r2.ID), bearer(alice), ""), http.StatusOK)); got != r2 {
					t.Fatalf("GET = %+v, want %+v", got, r2)
				}
				expect(mustCall(t, http.MethodGet, url+"/resources/999", bearer(alice), ""), http.StatusNotFound)
				expect(mustCall(t, http.MethodGet, url+"/resources/x", bearer(alice), ""), http.StatusBadRequest)

				// Favorites: created once per user, then found.
				fav := func(token string, id int64, status int) favoriteBody {
					t.Helper()
					return decode[favoriteBody](t, expect(mustCall(t, http.MethodPost, fmt.Sprintf("%s/resources/%d/favorite", url, id), bearer(token), ""), status))
				}
				f1 := fav(alice, r1.ID, http.StatusCreated)
				if f1.ID <= 0 || f1.ResourceID != r1.ID || f1.UserID != aliceU.ID {
					t.Fatalf("favorite = %+v", f1)
				}
				if again := fav(alice2, r1.ID, http.StatusOK); again != f1 {
					t.Fatalf("second favorite = %+v, want %+v", again, f1)
				}
				f2 := fav(bob, r1.ID, http.StatusCreated)
				if f2.ID == f1.ID || f2.UserID != bobU.ID {
					t.Fatalf("bob's favorite = %+v, alice's %+v", f2, f1)
				}
				expect(mustCall(t, http.MethodPost, url+"/resources/999/favorite", bearer(alice), ""), http.StatusNotFound)
				expect(mustCall(t, http.MethodPost, url+"/resources/x/favorite", bearer(alice), ""), http.StatusBadRequest)
				l := decode[favoritesBody](t, expect(mustCall(t, http.MethodGet, fmt.Sprintf("%s/resources/%d/favorites", url, r1.ID), bearer(bob), ""), http.StatusOK))
				if l.ResourceID != r1.ID || l.Count != 2 || len(l.Favorites) != 2 || l.Favorites[0] != f1 || l.Favorites[1] != f2 {
					t.Fatalf("favorites = %+v", l)
				}
				l = decode[favoritesBody](t, expect(mustCall(t, http.MethodGet, fmt.Sprintf("%s/resources/%d/favorites", url, r2.ID), bearer(bob), ""), http.StatusOK))
				if l.Count != 0 || l.Favorites == nil {
					t.Fatalf("empty favorites = %+v, want count 0 and []", l)
				}
				expect(mustCall(t, http.MethodGet, url+"/resources/999/favorites", bearer(alice), ""), http.StatusNotFound)
				if n := count(t, s, `SELECT COUNT(*) FROM favorites`); n != 2 {
					t.Fatalf("%d favorite rows, want 2", n)
				}
			})
		}
	}
}

// favoriteClients is the number of concurrent favorite requests per round
// of TestFavoriteRace, each on its own keep-alive connection.
const favoriteClients = 30

// favoriteRounds bounds the rounds (one fresh resource each).
const favoriteRounds = 20

// TestFavoriteRace: with Think = 0, i.e. only the natural window between
// the racy path's SELECT and INSERT, one user favorites a fresh resource
// from 30 connections at once, over 20 resources. The racy service must
// store a duplicate (resource_id, user_id) in at least one round; the safe
// one never, answering every request 200 or 201 with one id, created once.
func TestFavoriteRace(t *testing.T) {
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serveBurst(t, b, mode, 0)
				token, u := login(t, srv, "alice")
				clients := keepAliveClients(t, srv, favoriteClients)
				deadline := time.Now().Add(60 * time.Second)
				var dupRounds, rounds int
				perRound := []int64{}
				for round := range favoriteRounds {
					if time.Now().After(deadline) {
						t.Logf("stopping after %d rounds: 60 s spent", round)
						break
					}
					rounds++
					res := decode[resourceBody](t, mustCall(t, http.MethodPost, srv.URL+"/resources", bearer(token), fmt.Sprintf(`{"name":"res-%d"}`, round)))
					url := fmt.Sprintf("%s/resources/%d/favorite", srv.URL, res.ID)
					rs := together(clients, func(c *http.Client) response { return callWith(c, http.MethodPost, url, bearer(token), "") })
					requireStatuses(t, rs, http.StatusOK, http.StatusCreated)
					rows := count(t, s, `SELECT COUNT(*) FROM favorites WHERE resource_id = ? AND user_id = ?`, res.ID, u.ID)
					perRound = append(perRound, rows)
					if created := int64(statusCounts(rs)[http.StatusCreated]); created != rows {
						t.Fatalf("round %d: %d responses say created, %d rows stored", round, created, rows)
					}
					ids := map[int64]bool{}
					for _, r := range rs {
						f := decode[favoriteBody](t, r)
						if f.ResourceID != res.ID || f.UserID != u.ID {
							t.Fatalf("round %d: favorite %s for resource %d, user %d", round, r.body, res.ID, u.ID)
						}
						ids[f.ID] = true
					}
					if rows > 1 {
						dupRounds++
					}
					if mode == modeSafe && (rows != 1 || len(ids) != 1) {
						t.Fatalf("safe round %d: %d rows, response ids %v; want 1 row, one id (statuses %v)", round, rows, ids, statusCounts(rs))
					}
				}
				// What the unique checker will read.
				dups := count(t, s, `SELECT COUNT(*) FROM (SELECT resource_id, user_id FROM favorites GROUP BY resource_id, user_id HAVING COUNT(*) > 1) d`)
				t.Logf("%s/%s, think 0: %d of %d rounds of %d concurrent favorites stored duplicates (rows per round %v); %d duplicated pairs",
					b.driver, mode, dupRounds, rounds, favoriteClients, perRound, dups)
				switch mode {
				case modeSafe:
					if dups != 0 {
						t.Fatalf("safe: %d duplicated (resource_id, user_id) pairs", dups)
					}
				case modeRacy:
					if dups == 0 {
						t.Fatalf("racy: no duplicate favorite in %d rounds; want find-then-create duplicates", rounds)
					}
				}
			})
		}
	}
}

// keepAliveClients returns n clients, each with one keep-alive connection
// to srv already open.
func keepAliveClients(t *testing.T, srv *httptest.Server, n int) []*http.Client {
	t.Helper()
	clients := make([]*http.Client, n)
	for i := range clients {
		tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
		clients[i] = &http.Client{Timeout: 30 * time.Second, Transport: tr}
		t.Cleanup(tr.CloseIdleConnections)
		if r := callWith(clients[i], http.MethodGet, srv.URL+"/healthz", nil, ""); r.status != http.StatusOK {
			t.Fatalf("warm-up healthz: %d %v %s", r.status, r.err, r.body)
		}
	}
	return clients
}

// together runs req once per client, all released at once, and returns
// the responses.
func together(clients []*http.Client, req func(c *http.Client) response) []response {
	start := make(chan struct{})
	out := make([]response, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			<-start
			out[i] = req(c)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// TestFavoriteModeSwitch: one database served racy, then safe, then racy
// again. A safe Open removes the duplicates a racy run left and creates
// the unique index; a racy Open drops it again.
func TestFavoriteModeSwitch(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.driver, func(t *testing.T) {
			t.Parallel()
			dsn := b.dsn(t)
			open := func(mode string) *Service {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				s, err := Open(ctx, Config{Mode: mode, Driver: b.driver, DSN: dsn, MaxConns: 2})
				if err != nil {
					t.Fatalf("Open %s: %v", mode, err)
				}
				return s
			}
			insertDup := func(s *Service) error {
				_, err := s.db.ExecContext(context.Background(), s.dialect.q(`INSERT INTO favorites (resource_id, user_id) VALUES (?, ?), (?, ?)`), 5, 6, 5, 6)
				return err
			}
			s := open(modeRacy)
			exec(t, s, `INSERT INTO favorites (resource_id, user_id) VALUES (1, 1), (1, 1), (1, 2), (2, 1), (1, 1)`)
			s.Close()

			s = open(modeSafe)
			if n := count(t, s, `SELECT COUNT(*) FROM favorites`); n != 3 {
				t.Fatalf("safe Open kept %d favorites, want 3 (the duplicates of (1, 1) removed)", n)
			}
			if n := count(t, s, `SELECT MIN(id) FROM favorites WHERE resource_id = 1 AND user_id = 1`); n != 1 {
				t.Fatalf("safe Open kept favorite %d of (1, 1), want the oldest, 1", n)
			}
			if err := insertDup(s); err == nil {
				t.Fatalf("safe: a duplicate favorite was inserted; want a unique violation")
			}
			s.Close()

			s = open(modeRacy)
			defer s.Close()
			if err := insertDup(s); err != nil {
				t.Fatalf("racy: inserting a duplicate favorite: %v", err)
			}
		})
	}
}

package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// The linearizable register class (audit: "cache not invalidated on
// write"): PUT /kv/{key} writes a value, GET /kv/{key} reads it. Once a
// write is acknowledged, every read that starts afterwards must see it (or
// a later write): the register must be linearizable.
//
// racy: reads go through an in-process cache that is filled on read (the
// value, or its absence) and NOT invalidated on write; an entry lives
// kvCacheTTL (200 ms). A read within 200 ms of an earlier read returns
// that earlier value even after an acknowledged write: a stale read.
//
// safe: reads hit the database.
//
// Writes are one upsert in both modes. Neither path thinks: the race window
// is the cache lifetime. A key never written reads as 200 {"key":"k",
// "value":null}, not 404, so that a checker sees the read of the initial
// (absent) value as a successful operation.

// kvCacheTTL is how long the racy cache serves an entry.
const kvCacheTTL = 200 * time.Millisecond

// kvBody is the response of GET and PUT /kv/{key}.
type kvBody struct {
	Key   string `json:"key"`
	Value *int64 `json:"value"` // null: never written
}

const kvShape = `{"value":N}`

// kvCache is the racy read cache. The zero value is empty and ready.
type kvCache struct {
	mu sync.Mutex
	m  map[string]kvEntry
}

type kvEntry struct {
	value   *int64
	expires time.Time
}

func (c *kvCache) get(key string, now time.Time) (*int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.value, true
}

func (c *kvCache) put(key string, value *int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]kvEntry{}
	}
	for k, e := range c.m { // keep the map bounded by the live keys
		if !now.Before(e.expires) {
			delete(c.m, k)
		}
	}
	c.m[key] = kvEntry{value: value, expires: now.Add(kvCacheTTL)}
}

func (s *Service) handleGetKV(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if s.cfg.Mode == modeRacy {
		if v, ok := s.cache.get(key, time.Now()); ok {
			writeJSON(w, http.StatusOK, kvBody{Key: key, Value: v})
			return
		}
	}
	v, err := s.readKV(r.Context(), kvTable, key)
	if err != nil {
		writeDBError(w, fmt.Sprintf("read key %q", key), err)
		return
	}
	if s.cfg.Mode == modeRacy {
		s.cache.put(key, v, time.Now())
	}
	writeJSON(w, http.StatusOK, kvBody{Key: key, Value: v})
}

// Tables of the key-value endpoints: the register (/kv) and the
// read-through cache (/cache).
const (
	kvTable       = "kv"
	cachedKVTable = "cached_kv"
)

// readKV returns the stored value of key in table (kvTable or
// cachedKVTable), or nil if there is none.
func (s *Service) readKV(ctx context.Context, table, key string) (*int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT value FROM `+table+` WHERE `+s.dialect.key+` = ?`), key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &v, nil
}

func (s *Service) handlePutKV(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	value, ok := decodeKVValue(w, r)
	if !ok {
		return
	}
	if err := s.writeKV(r.Context(), kvTable, key, value); err != nil {
		writeDBError(w, fmt.Sprintf("write key %q", key), err)
		return
	}
	writeJSON(w, http.StatusOK, kvBody{Key: key, Value: &value})
}

// decodeKVValue reads the body {"value": N} of a PUT; false means it has
// answered 400.
func decodeKVValue(w http.ResponseWriter, r *http.Request) (int64, bool) {
	var body struct {
		Value *int64 `json:"value"`
	}
	if !decodeBody(w, r, &body, kvShape) {
		return 0, false
	}
	if body.Value == nil {
		missing(w, "value", kvShape)
		return 0, false
	}
	return *body.Value, true
}

// writeKV upserts key's value in table (kvTable or cachedKVTable).
func (s *Service) writeKV(ctx context.Context, table, key string, value int64) error {
	upsert := `INSERT INTO ` + table + ` (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	if s.dialect.name == driverMySQL {
		upsert = "INSERT INTO " + table + " (`key`, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value)"
	}
	_, err := s.db.ExecContext(ctx, s.dialect.q(upsert), key, value)
	return err
}

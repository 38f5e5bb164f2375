package demo

import (
	"fmt"
	"hash/maphash"
	"net/http"
	"sync"
	"time"
)

// The read-through cache class: PUT /cache/{key} writes a value, GET
// /cache/{key} reads it through an in-process cache that IS invalidated on
// write, and is still not linearizable. A GET that misses the cache reads
// the row, then fills the cache with what it read. If a PUT commits its
// new row and deletes the cache entry between the GET's database read and
// its fill, the GET fills the cache with the OLD value, which it then
// serves to every read until the entry expires: a stale read after an
// acknowledged write. The window is the natural one between the GET's
// SELECT and its fill, a few microseconds; neither path thinks (Think is
// ignored), so only a read and a write of one key released together hit it.
//
// racy: GET: a cache hit (an entry younger than cacheTTL, 2 s) answers
// from the cache; a miss SELECTs the row and fills the cache with it (the
// value, or its absence). PUT: upsert the row, then delete the key's cache
// entry, then answer.
//
// safe: versioned fills (a compare-and-set fill, as with memcached leases):
// every key hashes to one of cacheStripes invalidation versions. A PUT
// bumps its key's version and deletes the entry before its upsert, marks
// the key as being written until the upsert ends, then bumps the version
// and deletes the entry again. A GET that misses reads the key's version
// before its SELECT and fills the cache only if the version is unchanged
// and no write of the key is in flight; otherwise it answers what it read
// without caching it. So an entry is only ever filled from a row no write
// was changing, and every write removes it before it commits: a hit returns
// the latest committed value. Keys sharing a stripe only refuse each
// other's fills (one more database read), never serve a stale value.
//
// A key never written reads as 200 {"key":"k","value":null}, as on /kv.
// The table is cached_kv, of its own, so that the /kv register and this
// class do not share rows.

// cacheTTL is how long a cache entry is served (both modes).
const cacheTTL = 2 * time.Second

// cacheStripes is the number of invalidation versions of the safe cache.
const cacheStripes = 256

// readCache is the read-through cache of GET /cache/{key}. The zero value
// is empty and ready.
type readCache struct {
	mu      sync.Mutex
	m       map[string]kvEntry
	stripes [cacheStripes]cacheStripe // safe mode only
}

// cacheStripe is the invalidation state of the keys hashing to it.
type cacheStripe struct {
	version uint64 // bumped before and after every write
	writing int    // writes in flight
}

var cacheSeed = maphash.MakeSeed()

func (c *readCache) stripe(key string) *cacheStripe {
	return &c.stripes[maphash.String(cacheSeed, key)%cacheStripes]
}

// lookup returns key's live entry, if any; on a miss it also returns the
// key's invalidation version, for fillIf.
func (c *readCache) lookup(key string, now time.Time) (value *int64, hit bool, version uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && now.Before(e.expires) {
		return e.value, true, 0
	}
	return nil, false, c.stripe(key).version
}

// fill stores value for key unconditionally (racy).
func (c *readCache) fill(key string, value *int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.store(key, value, now)
}

// fillIf stores value for key only if key's invalidation version is still
// version and no write of it is in flight (safe): the compare-and-set fill.
func (c *readCache) fillIf(key string, value *int64, version uint64, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.stripe(key); s.version != version || s.writing > 0 {
		return false
	}
	c.store(key, value, now)
	return true
}

// store puts the entry; c.mu is held.
func (c *readCache) store(key string, value *int64, now time.Time) {
	if c.m == nil {
		c.m = map[string]kvEntry{}
	}
	for k, e := range c.m { // keep the map bounded by the live keys
		if !now.Before(e.expires) {
			delete(c.m, k)
		}
	}
	c.m[key] = kvEntry{value: value, expires: now.Add(cacheTTL)}
}

// invalidate deletes key's entry (racy: after the write).
func (c *readCache) invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// beginWrite and endWrite bracket a safe write of key: each bumps the
// key's version and deletes its entry; in between, fills of the key are
// refused.
func (c *readCache) beginWrite(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stripe(key)
	s.version++
	s.writing++
	delete(c.m, key)
}

func (c *readCache) endWrite(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stripe(key)
	s.version++
	s.writing--
	delete(c.m, key)
}

func (s *Service) handleGetCache(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	v, hit, version := s.readCache.lookup(key, time.Now())
	if hit {
		writeJSON(w, http.StatusOK, kvBody{Key: key, Value: v})
		return
	}
	v, err := s.readKV(r.Context(), cachedKVTable, key)
	if err != nil {
		writeDBError(w, fmt.Sprintf("read key %q", key), err)
		return
	}
	if s.cfg.Mode == modeRacy {
		s.readCache.fill(key, v, time.Now())
	} else {
		s.readCache.fillIf(key, v, version, time.Now())
	}
	writeJSON(w, http.StatusOK, kvBody{Key: key, Value: v})
}

func (s *Service) handlePutCache(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	value, ok := decodeKVValue(w, r)
	if !ok {
		return
	}
	if s.cfg.Mode == modeSafe {
		s.readCache.beginWrite(key)
	}
	err := s.writeKV(r.Context(), cachedKVTable, key, value)
	// Invalidate before answering, also when the write failed: it may
	// have committed.
	if s.cfg.Mode == modeSafe {
		s.readCache.endWrite(key)
	} else {
		s.readCache.invalidate(key)
	}
	if err != nil {
		writeDBError(w, fmt.Sprintf("write key %q", key), err)
		return
	}
	writeJSON(w, http.StatusOK, kvBody{Key: key, Value: &value})
}

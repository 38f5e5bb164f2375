package demo

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// classEnv is one race class test's service, served over HTTP.
type classEnv struct {
	s    *Service
	srv  *httptest.Server
	mode string
}

func (c *classEnv) call(method, path, body string) response {
	return call(method, c.srv.URL+path, map[string]string{"Content-Type": "application/json"}, body)
}

// classCase is the concurrency test of one race class: fire a concurrent
// burst, then check from the database that racy shows the anomaly and safe
// never does. Each class uses tables (or rows, keys) of its own.
type classCase struct {
	name string
	run  func(t *testing.T, c *classEnv)
}

// classConns is the pool size of the race class services: small, because
// PostgreSQL's connections are shared with the other packages' tests.
const classConns = 8

// classThink is the Think time of the race class services: tens of
// milliseconds, not the CLI's 2ms, so that under -race on a busy 2-core
// machine the requests of a burst (which arrive spread over up to ~50 ms)
// still overlap in their read-think-write windows.
const classThink = 50 * time.Millisecond

// TestRaceClasses runs every race class on both databases in both modes.
// The classes of one database and mode share one service (opening one
// costs up to a second on a busy machine) and run in parallel.
func TestRaceClasses(t *testing.T) {
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serveDSN(t, Config{Mode: mode, Driver: b.driver, DSN: b.dsn(t), Think: classThink, MaxConns: classConns, Seed: 1})
				for _, tc := range raceClasses {
					t.Run(tc.name, func(t *testing.T) {
						t.Parallel()
						tc.run(t, &classEnv{s: s, srv: srv, mode: mode})
					})
				}
			})
		}
	}
}

var raceClasses = []classCase{
	{"two-tab-edit", runTwoTabEdit},
	{"collection-add", runCollectionAdd},
	{"out-of-order-jobs", runOutOfOrderJobs},
	{"bulk-and-edit", runBulkAndEdit},
	{"toctou-debit", runDebit},
	{"transfer", runTransfer},
	{"oversell", runOversell},
	{"webhook-replay", runWebhookReplay},
	{"stale-read", runStaleRead},
}

// sharedDSN returns b's DSN maker for subtests of t: on PostgreSQL one
// database created now for all of them (creating one costs about a second;
// the subtests must use tables or names of their own), on SQLite a fresh
// file each.
func sharedDSN(t *testing.T, b backend) func(*testing.T) string {
	t.Helper()
	if b.driver != driverPostgres {
		return b.dsn
	}
	shared := b.dsn(t)
	return func(*testing.T) string { return shared }
}

// requireStatuses fails t unless every response has one of the statuses.
func requireStatuses(t *testing.T, rs []response, ok ...int) {
	t.Helper()
	for _, r := range rs {
		if !slices.Contains(ok, r.status) {
			t.Fatalf("status %d, err %v, body %s; want one of %v (all: %v)", r.status, r.err, r.body, ok, statusCounts(rs))
		}
	}
}

// RC-002: 20 tabs read version 0, then all save with it at once.
func runTwoTabEdit(t *testing.T, c *classEnv) {
	const tabs = 20
	exec(t, c.s, `UPDATE docs SET title = '', version = 0 WHERE id = 1`)
	rs := burst(tabs, tabs, func(i int) response {
		return c.call(http.MethodPut, "/docs/1", fmt.Sprintf(`{"version":0,"title":"tab-%d"}`, i))
	})
	requireStatuses(t, rs, http.StatusOK, http.StatusConflict)
	acked := int64(statusCounts(rs)[http.StatusOK])
	version := count(t, c.s, `SELECT version FROM docs WHERE id = 1`)
	t.Logf("%d saves carrying version 0: %d acknowledged, version 0 -> %d", tabs, acked, version)
	switch c.mode {
	case modeSafe:
		if acked != 1 || version != 1 {
			t.Fatalf("safe: %d acknowledged saves, version %d; want exactly 1 and 1", acked, version)
		}
		for _, r := range rs {
			if r.status == http.StatusConflict {
				if e := decode[docConflictBody](t, r); e.Error != errDocModified || e.Version != 1 {
					t.Fatalf("safe 409 body %s", r.body)
				}
				continue
			}
			d := decode[docBody](t, r)
			got := decode[docBody](t, mustCall(t, http.MethodGet, c.srv.URL+"/docs/1", nil, ""))
			if d.Version != 1 || got != d {
				t.Fatalf("safe: the acknowledged save %+v is not what GET returns: %+v", d, got)
			}
		}
	case modeRacy:
		if acked <= version {
			t.Fatalf("racy: %d acknowledged saves raised the version %d times; want lost updates (acked > increments)", acked, version)
		}
	}
}

// RC-003: 20 users add a distinct item to project 7 at once.
func runCollectionAdd(t *testing.T, c *classEnv) {
	const users = 20
	rs := burst(users, users, func(i int) response {
		return c.call(http.MethodPost, "/projects/7/items", fmt.Sprintf(`{"item":"asset-%d"}`, i))
	})
	requireStatuses(t, rs, http.StatusCreated)
	acked := map[string]bool{}
	for _, r := range rs {
		acked[decode[itemAddBody](t, r).Item] = true
	}
	l := decode[itemListBody](t, mustCall(t, http.MethodGet, c.srv.URL+"/projects/7/items", nil, ""))
	stored := map[string]int{}
	for _, it := range l.Items {
		stored[it]++
	}
	var lost, extra int
	for it := range acked {
		if stored[it] == 0 {
			lost++
		}
	}
	for it, n := range stored {
		if !acked[it] || n > 1 {
			extra++
		}
	}
	if n := count(t, c.s, `SELECT COUNT(*) FROM project_items WHERE project_id = 7`); n != int64(l.Count) {
		t.Fatalf("GET says %d items, the table has %d", l.Count, n)
	}
	t.Logf("%d acknowledged adds: %d items stored, %d lost, %d unexpected", len(acked), l.Count, lost, extra)
	if extra > 0 {
		t.Fatalf("%s: %d stored items were never acknowledged or are duplicated: %v", c.mode, extra, l.Items)
	}
	switch c.mode {
	case modeSafe:
		if lost != 0 || l.Count != users {
			t.Fatalf("safe: %d of %d acknowledged adds lost", lost, users)
		}
	case modeRacy:
		if lost == 0 {
			t.Fatalf("racy: every acknowledged add survived; want lost items")
		}
	}
}

// RC-004: 5 reports get 20 jobs each, numbered 1..20, all at once; each
// job runs a random [0, 2×Think). The newest job must win.
func runOutOfOrderJobs(t *testing.T, c *classEnv) {
	const reports, jobs = 5, 20
	rs := burst(reports*jobs, 50, func(i int) response {
		return c.call(http.MethodPost, fmt.Sprintf("/reports/%d/regenerate", i%reports+1), fmt.Sprintf(`{"job":%d}`, i/reports+1))
	})
	requireStatuses(t, rs, http.StatusOK)
	applied := map[int64]int{}
	for _, r := range rs {
		if b := decode[regenerateBody](t, r); b.Applied {
			applied[b.ID]++
		}
	}
	var stale int
	finals := []int64{}
	for id := int64(1); id <= reports; id++ {
		rep := decode[reportBody](t, mustCall(t, http.MethodGet, c.srv.URL+fmt.Sprintf("/reports/%d", id), nil, ""))
		if got := count(t, c.s, `SELECT job FROM reports WHERE id = ?`, id); got != rep.Job {
			t.Fatalf("GET says job %d, the table has %d", rep.Job, got)
		}
		if rep.Result != fmt.Sprintf("report %d from job %d", id, rep.Job) {
			t.Fatalf("report %d: result %q does not belong to job %d", id, rep.Result, rep.Job)
		}
		finals = append(finals, rep.Job)
		if rep.Job != jobs {
			stale++
		}
	}
	t.Logf("%d reports × %d jobs: final jobs %v (newest is %d), %d stale; applied per report %v", reports, jobs, finals, jobs, stale, applied)
	switch c.mode {
	case modeSafe:
		if stale != 0 {
			t.Fatalf("safe: %d reports keep an older job's result: %v", stale, finals)
		}
	case modeRacy:
		if stale == 0 {
			t.Fatalf("racy: every report kept the newest job; want an older job overwriting a newer one")
		}
	}
}

// RC-005: 8 bulk updates (batch k, price 100k) of the 10 seeded items at
// once, and 40 single edits of them fired half a think time later, while
// the bulks think between their read and their writes.
func runBulkAndEdit(t *testing.T, c *classEnv) {
	const bulks, edits = 8, 40
	var (
		rs []response
		mu sync.Mutex
		wg sync.WaitGroup
	)
	wg.Go(func() {
		r := burst(bulks, bulks, func(i int) response {
			return c.call(http.MethodPost, "/items/bulk", fmt.Sprintf(`{"batch":%d,"price":%d}`, i+1, 100*(i+1)))
		})
		mu.Lock()
		rs = append(rs, r...)
		mu.Unlock()
	})
	wg.Go(func() {
		time.Sleep(c.s.cfg.Think / 2)
		r := burst(edits, edits, func(i int) response {
			return c.call(http.MethodPost, fmt.Sprintf("/items/%d/edit", i%10+1), "")
		})
		mu.Lock()
		rs = append(rs, r...)
		mu.Unlock()
	})
	wg.Wait()
	requireStatuses(t, rs, http.StatusOK)
	l := decode[itemsBody](t, mustCall(t, http.MethodGet, c.srv.URL+"/items", nil, ""))
	batches := map[int64]bool{}
	var editSum int64
	for _, it := range l.Items {
		batches[it.Batch] = true
		editSum += it.Edits
		if it.Price != 100*it.Batch {
			t.Fatalf("%s: item %d is torn: price %d with batch %d", c.mode, it.ID, it.Price, it.Batch)
		}
	}
	if l.Count != 10 {
		t.Fatalf("%d items, want the 10 seeded", l.Count)
	}
	t.Logf("%d bulks + %d edits: %d distinct batches across rows, edits counted %d of %d", bulks, edits, len(batches), editSum, edits)
	switch c.mode {
	case modeSafe:
		if len(batches) != 1 || editSum != edits {
			t.Fatalf("safe: rows carry batches %v and %d of %d edits; want one batch and every edit", batches, editSum, edits)
		}
	case modeRacy:
		if len(batches) < 2 {
			t.Fatalf("racy: every row has the same batch %v; want mixed batches", batches)
		}
		if editSum >= edits {
			t.Fatalf("racy: %d of %d edits survived; want lost edits", editSum, edits)
		}
	}
}

// TOCTOU: 20 debits of 10 from a balance of 100 (account 11), at once.
func runDebit(t *testing.T, c *classEnv) {
	const debits, amount, initial = 20, 10, 100
	exec(t, c.s, `INSERT INTO accounts (id, balance) VALUES (11, ?)`, initial)
	rs := burst(debits, debits, func(int) response {
		return c.call(http.MethodPost, "/accounts/11/debit", fmt.Sprintf(`{"amount":%d}`, amount))
	})
	requireStatuses(t, rs, http.StatusOK, http.StatusConflict)
	ok := int64(statusCounts(rs)[http.StatusOK])
	balance := count(t, c.s, `SELECT balance FROM accounts WHERE id = 11`)
	t.Logf("%d debits of %d from %d: %d acknowledged, balance %d", debits, amount, initial, ok, balance)
	if balance != initial-amount*ok {
		t.Fatalf("%s: balance %d, want initial - Σ ok debits = %d", c.mode, balance, initial-amount*ok)
	}
	for _, r := range rs {
		if r.status == http.StatusConflict && decode[fundsBody](t, r).Error != errInsufficient {
			t.Fatalf("409 body %s", r.body)
		}
	}
	switch c.mode {
	case modeSafe:
		if balance != 0 || ok != initial/amount {
			t.Fatalf("safe: %d debits passed, balance %d; want %d and 0", ok, balance, initial/amount)
		}
	case modeRacy:
		if balance >= 0 {
			t.Fatalf("racy: balance %d; want an overdraft (negative)", balance)
		}
	}
}

// TOCTOU transfer: 20 transfers between accounts 21 and 22 (1000 each), in
// alternating directions, of 1..20.
func runTransfer(t *testing.T, c *classEnv) {
	const transfers, initial = 20, 1000
	exec(t, c.s, `INSERT INTO accounts (id, balance) VALUES (21, ?), (22, ?)`, initial, initial)
	rs := burst(transfers, transfers, func(i int) response {
		from, to := 21, 22
		if i%2 == 1 {
			from, to = 22, 21
		}
		return c.call(http.MethodPost, "/accounts/transfer", fmt.Sprintf(`{"from":%d,"to":%d,"amount":%d}`, from, to, i+1))
	})
	requireStatuses(t, rs, http.StatusOK)
	want := map[int64]int64{21: initial, 22: initial}
	for _, r := range rs {
		b := decode[transferBody](t, r)
		want[b.From] -= b.Amount
		want[b.To] += b.Amount
	}
	b1 := count(t, c.s, `SELECT balance FROM accounts WHERE id = 21`)
	b2 := count(t, c.s, `SELECT balance FROM accounts WHERE id = 22`)
	t.Logf("%d transfers: balances %d + %d = %d; the acknowledged transfers say %d + %d = %d", transfers, b1, b2, b1+b2, want[21], want[22], 2*initial)
	switch c.mode {
	case modeSafe:
		if b1 != want[21] || b2 != want[22] {
			t.Fatalf("safe: balances %d and %d, the acknowledged transfers say %d and %d", b1, b2, want[21], want[22])
		}
	case modeRacy:
		// The total is usually off too (see the log), but not always: when
		// one transfer happens to write both accounts last, it writes back
		// the sum it read. The ledger of acknowledged transfers always
		// disagrees once updates were lost.
		if b1 == want[21] && b2 == want[22] {
			t.Fatalf("racy: balances %d and %d match the acknowledged transfers; want lost updates", b1, b2)
		}
	}
}

// Oversell: 20 buyers for a stock of 5, at once.
func runOversell(t *testing.T, c *classEnv) {
	const buyers, stock = 20, 5
	exec(t, c.s, `UPDATE products SET stock = ? WHERE id = 1`, stock)
	rs := burst(buyers, buyers, func(i int) response {
		return c.call(http.MethodPost, "/products/1/purchase", fmt.Sprintf(`{"buyer":"buyer-%d"}`, i))
	})
	requireStatuses(t, rs, http.StatusCreated, http.StatusConflict)
	ok := int64(statusCounts(rs)[http.StatusCreated])
	p := decode[productBody](t, mustCall(t, http.MethodGet, c.srv.URL+"/products/1", nil, ""))
	t.Logf("%d buyers for %d units: %d sold, %d purchases stored, stock %d", buyers, stock, ok, p.Purchases, p.Stock)
	if p.Purchases != ok || p.Stock+p.Purchases != stock {
		t.Fatalf("%s: %d acknowledged, %d stored, stock %d: stock + purchases must stay %d", c.mode, ok, p.Purchases, p.Stock, stock)
	}
	switch c.mode {
	case modeSafe:
		if p.Purchases != stock || p.Stock != 0 {
			t.Fatalf("safe: %d purchases, stock %d; want %d and 0", p.Purchases, p.Stock, stock)
		}
	case modeRacy:
		if p.Purchases <= stock || p.Stock >= 0 {
			t.Fatalf("racy: %d purchases, stock %d; want oversold (> %d, negative)", p.Purchases, p.Stock, stock)
		}
	}
}

// Webhook replay: 3 events, each delivered 10 times at once.
func runWebhookReplay(t *testing.T, c *classEnv) {
	const events, copies, amount = 3, 10, 5
	rs := burst(events*copies, events*copies, func(i int) response {
		return c.call(http.MethodPost, "/webhooks", fmt.Sprintf(`{"event_id":"evt-%d","wallet":1,"amount":%d}`, i%events, amount))
	})
	requireStatuses(t, rs, http.StatusOK)
	applied := 0
	for _, r := range rs {
		if decode[webhookBody](t, r).Applied {
			applied++
		}
	}
	rows := count(t, c.s, `SELECT COUNT(*) FROM webhook_events`)
	dupes := count(t, c.s, `SELECT COUNT(*) FROM (SELECT event_id FROM webhook_events GROUP BY event_id HAVING COUNT(*) > 1) d`)
	balance := count(t, c.s, `SELECT balance FROM wallets WHERE id = 1`)
	t.Logf("%d events × %d copies: %d applied, %d event rows, %d events applied more than once, wallet %d", events, copies, applied, rows, dupes, balance)
	if balance != amount*rows || int64(applied) != rows {
		t.Fatalf("%s: wallet %d, %d event rows, %d applied answers: inconsistent", c.mode, balance, rows, applied)
	}
	switch c.mode {
	case modeSafe:
		if rows != events || dupes != 0 {
			t.Fatalf("safe: %d event rows for %d events", rows, events)
		}
		if n := count(t, c.s, `SELECT COUNT(*) FROM processed_events`); n != events {
			t.Fatalf("safe: %d processed events, want %d", n, events)
		}
	case modeRacy:
		if dupes == 0 {
			t.Fatalf("racy: every event applied once; want a replay applied twice")
		}
	}
}

// Linearizable register: the racy register serves a read from its cache
// after an acknowledged write (a stale read); the safe one never does. First
// one deterministic sequence, then one writer and four readers at once:
// every read that starts after the write of v was acknowledged must return
// v or later (values only grow). The database holds the last write.
func runStaleRead(t *testing.T, c *classEnv) {
	mode := c.mode
	get := func(key string) *int64 {
		r := mustCall(t, http.MethodGet, c.srv.URL+"/kv/"+key, nil, "")
		if r.status != http.StatusOK {
			t.Errorf("GET /kv/%s = %d %s", key, r.status, r.body)
			return nil
		}
		return decode[kvBody](t, r).Value
	}
	put := func(key string, v int64) {
		if r := mustCall(t, http.MethodPut, c.srv.URL+"/kv/"+key, nil, fmt.Sprintf(`{"value":%d}`, v)); r.status != http.StatusOK {
			t.Errorf("PUT /kv/%s = %d %s", key, r.status, r.body)
		}
	}

	began := time.Now() // the racy cache entry is filled after this: it lives at least until began+kvCacheTTL
	if v := get("seq"); v != nil {
		t.Fatalf("unwritten key reads %d, want null", *v)
	}
	put("seq", 1)
	first := get("seq")
	put("seq", 2)
	second := get("seq")
	// The racy read of 2 must be stale only when it was served while the
	// entry lived: when the whole sequence ended within the cache's TTL. On
	// a machine too loaded for that, the concurrent part below still
	// requires stale reads.
	withinTTL := time.Since(began) < kvCacheTTL
	switch {
	case mode == modeSafe && (first == nil || *first != 1 || second == nil || *second != 2):
		t.Fatalf("safe: reads after writes 1 and 2 gave %v and %v", first, second)
	case mode == modeRacy && withinTTL && second != nil && *second == 2:
		t.Fatalf("racy: the read right after the acknowledged write of 2 saw it; want the cached (stale) value")
	case mode == modeRacy && !withinTTL:
		t.Logf("racy: the write-read sequence outlasted the %v cache entry (%v): its reads not judged", kvCacheTTL, time.Since(began))
	}

	const writes = 20
	var (
		mu    sync.Mutex
		acked int64 // the last value whose write was acknowledged
		stale int
		reads int
		wg    sync.WaitGroup
		done  = make(chan struct{})
	)
	wg.Go(func() {
		defer close(done)
		for v := int64(1); v <= writes; v++ {
			put("conc", v)
			mu.Lock()
			acked = v
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				mu.Lock()
				floor := acked // acknowledged before this read began
				mu.Unlock()
				got := int64(0)
				if v := get("conc"); v != nil {
					got = *v
				}
				mu.Lock()
				reads++
				if got < floor {
					stale++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if v := count(t, c.s, `SELECT value FROM kv WHERE kv.key = ?`, "conc"); v != writes {
		t.Fatalf("the database holds %d, the last acknowledged write was %d", v, writes)
	}
	t.Logf("%d reads during %d writes: %d stale (older than a write acknowledged before the read began)", reads, writes, stale)
	switch {
	case mode == modeSafe && stale > 0:
		t.Fatalf("safe: %d stale reads", stale)
	case mode == modeRacy && stale == 0:
		t.Fatalf("racy: no stale read; want reads served from the uninvalidated cache")
	}
}

package discover

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Attack shape of a generated profile: bursts of BurstCopies copies of the
// request, released together with last-byte sync (HTTP/1.1 and HTTP/2
// targets alike), BurstRate bursts a second for one second.
const (
	BurstCopies = 16
	BurstRate   = "20/s"
	BurstFor    = "1s"
)

// Attack shape of a generated newest_wins profile: a stream of requests,
// each with its own {{seq}}, NewestWorkers at a time, and on the demo a
// think time (its jobs' run time) so that jobs overtake each other.
const (
	NewestRate    = "200/s"
	NewestFor     = "2s"
	NewestWorkers = 32
	NewestThink   = "100ms"
)

// captured is a value that is one captured variable: {{resource}}.
var captured = regexp.MustCompile(`^\{\{\w+\}\}$`)

// Environment variables a generated profile reads, so that no address or
// secret is written to the file.
const (
	// EnvTarget holds the base URL of the service (url targets).
	EnvTarget = "COLLIDE_TARGET"
	// EnvDSN holds the database DSN the invariants read.
	EnvDSN = "COLLIDE_DB_DSN"
)

// GenerateOptions say what a generated profile runs against.
type GenerateOptions struct {
	// Driver is database.driver: postgres or mysql.
	Driver string
	// DemoMode, "racy" or "safe", makes the target collide's demo service
	// (target: {demo: {mode: …}}); empty makes it url: ${COLLIDE_TARGET}.
	DemoMode string
	// Captures, when not nil, names the variables a setup request takes
	// from its JSON response (Request.Capture): its step captures them,
	// and later steps and the operation use them as {{name}}.
	Captures func(Request) map[string]string
	// Trace, when not nil, is the trace of the finding's request, sent
	// alone: the parameter values of its statements name the rows the
	// profile's setup prepares (a toctou-debit's balance, a double
	// submit's recorded key).
	Trace *Trace
}

// Profile returns a runnable collide profile (YAML) that proves f: its
// target is url: ${COLLIDE_TARGET}, its database dsnDriver at
// ${COLLIDE_DB_DSN}; setup replays the setup requests; one operation sends
// req in bursts; the invariant is f's checker on f's table. See
// ProfileWith.
func Profile(f Finding, req Request, setup []Request, dsnDriver string) ([]byte, error) {
	return ProfileWith(f, req, setup, GenerateOptions{Driver: dsnDriver})
}

// ProfileWith is Profile with the target chosen by o. The file starts with
// comments: the finding, its evidence and fix, and how to run it. Secret
// headers of the requests (Authorization, Cookie …) are written as
// {{env "COLLIDE_<NAME>"}}, read when the request is sent, unless they
// hold a captured variable (Bearer {{token}}); the DSN is always
// ${COLLIDE_DB_DSN}.
//
// The row: when the key column of the evidence's WHERE (id) is a path
// parameter of the endpoint (/counters/{id}/increment), the operation aims
// at that key (keys: [1], url /counters/{{key}}/increment) and the query
// at its row. Fresh values: a header or JSON body field named after one of
// f.Columns (Idempotency-Key for idempotency_key) gets "-{{uuid}}" appended,
// one fresh value per burst, so that every burst races anew; for
// newest_wins the body field named after the written column carries
// {{seq}}, the version the checker orders by.
func ProfileWith(f Finding, req Request, setup []Request, o GenerateOptions) ([]byte, error) {
	if o.Driver == "" {
		return nil, fmt.Errorf("generate %s: no database driver", f.ID)
	}
	if f.Table == "" {
		return nil, fmt.Errorf("generate %s: the finding names no table", f.ID)
	}
	sh := shapeOf(f)
	if sh.key == "" {
		sh.key = dupKeyColumn(f, req) // MariaDB's ON DUPLICATE KEY names no key
	}
	op := genOp{
		Name:     opName(req),
		Burst:    &genBurst{Copies: BurstCopies, Sync: "last-byte"},
		Rate:     BurstRate,
		Duration: BurstFor,
	}
	var err error
	if op.Request, err = genRequest(req); err != nil {
		return nil, fmt.Errorf("generate %s: %w", f.ID, err)
	}
	if sh.key != "" {
		if v, tmpl, ok := pathKey(req, sh.key); ok && captured.MatchString(v) {
			sh.value = v // a captured {{id}}: a bind parameter of the query
		} else if ok && !strings.Contains(v, "{{") {
			sh.value = v
			op.Request.URL = tmpl
			op.Keys = []string{v}
		}
	}
	checker := f.Checker
	if checker == "" {
		checker = defaultChecker[f.Class]
	}
	if checker == "newest_wins" {
		// Copies of a burst carry one {{seq}}: the jobs must differ and
		// overtake each other, so a stream of them instead (as the
		// built-in out-of-order-jobs profile does).
		op.Burst, op.Rate, op.Duration, op.Workers = nil, NewestRate, NewestFor, NewestWorkers
	}
	var spread *keyRange
	if checker == "newest_wins" && sh.key != "" && upserts(f) {
		// The write creates its row (an upsert): the stream spreads over
		// NewestKeys rows from the recorded one, each a chance for an
		// older job to end last; the setup clears them first.
		if keys, ok := op.Keys.([]string); ok && len(keys) == 1 {
			if v, err := strconv.ParseInt(keys[0], 10, 64); err == nil {
				spread = &keyRange{From: v, To: v + NewestKeys - 1}
				op.Keys = spread
			}
		}
	}
	fresh := ""
	switch checker {
	case "unique", "exactly_one", "newest_wins":
		fresh = freshen(&op.Request, f.Columns, checker == "newest_wins", sh.col)
	}
	var setupSQL, notes []string
	var debit *debitRow
	var lease []genInv
	if checker == "counter" && f.Class == LostUpdate {
		if key, v, ok := leaseOf(f, o.Trace); ok {
			// A lease (taken, then released): the row is gone before and
			// after, so the proof is the taking: at most one copy of a
			// burst may hold it. A row left by a holder that died goes
			// first.
			checker = "exactly_one"
			setupSQL = append(setupSQL, "DELETE FROM "+f.Table+" WHERE "+key+" = "+quoted(v))
			notes = append(notes, fmt.Sprintf("each request takes the %s row %s = %s and deletes it again (a lease), so no counter can read it: at most one copy of a burst may hold it (exactly_one per burst).", f.Table, key, quoted(v)))
			lease = []genInv{{Name: "at most one " + op.Name + " of a burst holds the " + singular(f.Table), Check: "exactly_one", Op: op.Name, Group: "burst"}}
		}
	}
	if spread != nil {
		setupSQL = append(setupSQL, "DELETE FROM "+f.Table+" WHERE "+spread.where(sh.key))
		notes = append(notes, fmt.Sprintf("the write creates its row (an upsert): the stream spreads over %d rows, cleared first.", NewestKeys))
	}
	switch {
	case lease != nil:
	case checker == "never_negative":
		// Room for DebitRoom debits of the recorded amount: a burst of
		// BurstCopies can only partly succeed, whatever was debited before.
		if d, ok := debitOf(f, req, o.Trace); ok {
			debit = &d
			setupSQL = append(setupSQL, "UPDATE "+f.Table+" SET "+d.col+" = "+number(d.amount*DebitRoom)+" WHERE "+d.key+" = "+quoted(d.value))
			notes = append(notes, fmt.Sprintf("the setup leaves room for %d debits of %s (the recorded amount) on the recorded row; a burst of %d must not overdraw it nor lose a debit (bounded_debits).", DebitRoom, number(d.amount), BurstCopies))
		}
	case checker == "unique" || checker == "exactly_one":
		// No value to make fresh: remove the rows the recorded request
		// found or made, so that the first burst finds none again.
		if fresh == "" {
			if w := recordedKey(f, o.Trace); w != "" {
				setupSQL = append(setupSQL, "DELETE FROM "+f.Table+" WHERE "+w)
				notes = append(notes, "the request carries no value to make fresh: the setup deletes the rows it recorded, so the first burst finds none again.")
			}
		}
	}
	inv, err := invariantsFor(f, checker, sh, op.Name, fresh, debit, spread)
	if lease != nil {
		inv, err = lease, nil
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s: %w", f.ID, err)
	}
	p := genProfile{
		Name:       profileName(f),
		About:      oneLine(f.Why),
		Database:   genDatabase{Driver: o.Driver, DSN: "${" + EnvDSN + "}"},
		Operations: []genOp{op},
		Invariants: inv,
	}
	if o.DemoMode != "" {
		p.Target.Demo = &genDemo{Mode: o.DemoMode}
		if checker == "newest_wins" {
			p.Target.Demo.Think = NewestThink // the jobs' run time: an older one still runs when a newer ends
		}
	} else {
		p.Target.URL = "${" + EnvTarget + "}"
	}
	for _, q := range setupSQL {
		p.Setup = append(p.Setup, q)
	}
	// A double submit with no value of its own to make fresh races once
	// per parent row (the first burst finds none, the others find its
	// rows): when a setup request creates the parent the operation's path
	// names, the setup creates FreshParents of them, and each burst aims
	// at one.
	parents := (checker == "unique" || checker == "exactly_one") && fresh == "" && lease == nil
	for i, s := range setup {
		r, err := genRequest(s)
		if err != nil {
			return nil, fmt.Errorf("generate %s: setup %d: %w", f.ID, i, err)
		}
		st := genStep{Name: stepName(s, i), Request: r, Outcome: &genOutcome{OK: []string{"2xx", "409"}}}
		if o.Captures != nil {
			st.Capture = o.Captures(s)
		}
		if parents && freshParent(&p.Operations[0], &st) {
			parents = false
			doc := fmt.Sprintf("the setup request %s creates %d parents; each burst aims at one (a first-or-create races once per parent).", s.Endpoint, FreshParents)
			notes = append(notes, doc)
		}
		p.Setup = append(p.Setup, st)
	}
	var doc yaml.Node
	if err := doc.Encode(p); err != nil {
		return nil, fmt.Errorf("generate %s: %w", f.ID, err)
	}
	doc.HeadComment = header(f, req, o, secretEnv(p), notes)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("generate %s: %w", f.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("generate %s: %w", f.ID, err)
	}
	return b.Bytes(), nil
}

// FreshParents is how many parent rows a generated double-submit profile's
// setup creates when the operation's path names its parent (POST
// /resources, then POST /resources/{id}/favorite): one per burst
// (BurstRate × BurstFor), each burst aiming at one at random.
const FreshParents = 20

// freshParent makes st, a setup request that POSTs to the collection whose
// member op's path names ({{key}} of /resources/{{key}}/favorite, st
// POST /resources capturing one variable), create FreshParents parents,
// and op aim its bursts at them (keys: {capture: name}).
func freshParent(op *genOp, st *genStep) bool {
	if _, literal := op.Keys.([]string); !literal || len(st.Capture) != 1 || st.Request.Method != http.MethodPost {
		return false
	}
	prefix, _, ok := strings.Cut(op.Request.URL, "/{{key}}")
	path, _, _ := strings.Cut(st.Request.URL, "?")
	if !ok || prefix == "" || strings.TrimSuffix(path, "/") != prefix {
		return false
	}
	for name := range st.Capture {
		st.Repeat = FreshParents
		op.Keys = map[string]string{"capture": name}
	}
	return true
}

// NewestKeys is how many rows a generated newest_wins profile spreads its
// stream over when its write creates the row (an upsert).
const NewestKeys = 16

// keyRange is an operation's keys: {from: …, to: …}.
type keyRange struct {
	From int64 `yaml:"from"`
	To   int64 `yaml:"to"`
}

// where is the SQL condition of the range on column key.
func (k keyRange) where(key string) string {
	return fmt.Sprintf("%s >= %d AND %s <= %d", key, k.From, key, k.To)
}

// insertColsRE reads an INSERT's column list.
var insertColsRE = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+"?[\w.]+"?\s*\(([^)]*)\)`)

// dupKeyColumn is the key of an ON DUPLICATE KEY UPDATE of f's table,
// which names none: the first inserted column that is a path parameter of
// the endpoint (INSERT INTO reports (id, job …) for /reports/{id}/…); ""
// when there is none.
func dupKeyColumn(f Finding, req Request) string {
	for _, e := range f.Evidence {
		stmt := evidenceNote.ReplaceAllString(evidenceNumber.ReplaceAllString(e, ""), "")
		if m := dupKeyRE.FindStringSubmatch(stmt); m == nil || !sameTable(m[1], f.Table) {
			continue
		}
		m := insertColsRE.FindStringSubmatch(stmt)
		if m == nil {
			continue
		}
		for _, c := range strings.Split(m[1], ",") {
			c = strings.ToLower(strings.Trim(strings.TrimSpace(c), "`\""))
			if _, _, ok := pathKey(req, c); ok {
				return c
			}
		}
	}
	return ""
}

// upserts reports whether f's evidence writes its table with an upsert
// (INSERT … ON CONFLICT DO UPDATE, ON DUPLICATE KEY UPDATE).
func upserts(f Finding) bool {
	for _, e := range f.Evidence {
		stmt := evidenceNote.ReplaceAllString(evidenceNumber.ReplaceAllString(e, ""), "")
		if m := upsertRE.FindStringSubmatch(stmt); m != nil && sameTable(m[1], f.Table) {
			return true
		}
		if m := dupKeyRE.FindStringSubmatch(stmt); m != nil && sameTable(m[1], f.Table) {
			return true
		}
	}
	return false
}

// defaultChecker is the checker of a class whose finding names none.
var defaultChecker = map[Class]string{
	LostUpdate:     "counter",
	TOCTOUDebit:    "never_negative",
	DoubleSubmit:   "unique",
	IdempotencyKey: "unique",
	NewestWins:     "newest_wins",
}

// The generated profile's shape, in the order collide's own profiles write
// their fields.
type (
	genProfile struct {
		Name       string      `yaml:"name"`
		About      string      `yaml:"about,omitempty"`
		Target     genTarget   `yaml:"target"`
		Database   genDatabase `yaml:"database"`
		Setup      []any       `yaml:"setup,omitempty"` // SQL text or a genStep
		Operations []genOp     `yaml:"operations"`
		Invariants []genInv    `yaml:"invariants"`
	}
	genTarget struct {
		URL  string   `yaml:"url,omitempty"`
		Demo *genDemo `yaml:"demo,omitempty,flow"`
	}
	genDemo struct {
		Mode  string `yaml:"mode"`
		Think string `yaml:"think,omitempty"`
	}
	genDatabase struct {
		Driver string `yaml:"driver"`
		DSN    string `yaml:"dsn"`
	}
	genStep struct {
		Name    string            `yaml:"name"`
		Request genReq            `yaml:"request"`
		Repeat  int               `yaml:"repeat,omitempty"`
		Capture map[string]string `yaml:"capture,omitempty,flow"`
		Outcome *genOutcome       `yaml:"outcome,omitempty"`
	}
	genOutcome struct {
		OK []string `yaml:"ok,flow"`
	}
	genReq struct {
		Method  string            `yaml:"method"`
		URL     string            `yaml:"url"`
		Headers map[string]string `yaml:"headers,omitempty"`
		Body    string            `yaml:"body,omitempty"`
	}
	genOp struct {
		Name     string    `yaml:"name"`
		Request  genReq    `yaml:"request"`
		Keys     any       `yaml:"keys,omitempty,flow"` // []string or {capture: name}
		Burst    *genBurst `yaml:"burst,omitempty,flow"`
		Rate     string    `yaml:"rate"`
		Duration string    `yaml:"duration"`
		Workers  int       `yaml:"workers,omitempty"`
	}
	genBurst struct {
		Copies int    `yaml:"copies"`
		Sync   string `yaml:"sync"`
	}
	genInv struct {
		Name        string   `yaml:"name"`
		Check       string   `yaml:"check,omitempty"`
		Unique      string   `yaml:"unique,omitempty"`
		Query       string   `yaml:"query,omitempty"`
		Op          string   `yaml:"op,omitempty"`
		Group       string   `yaml:"group,omitempty"`
		VersionFrom string   `yaml:"version_from,omitempty"`
		Amount      float64  `yaml:"amount,omitempty"`
		Floor       *float64 `yaml:"floor,omitempty"`
		Thing       string   `yaml:"thing,omitempty"`
	}
)

// invariantsFor builds the invariant(s) of checker for f's table.
func invariantsFor(f Finding, checker string, sh shape, op string, fresh string, debit *debitRow, spread *keyRange) ([]genInv, error) {
	table := f.Table
	cols := f.Columns
	col := sh.col
	if col == "" && len(cols) > 0 {
		col = cols[len(cols)-1]
	}
	where := ""
	switch {
	case spread != nil:
		where = " WHERE " + spread.where(sh.key)
	case sh.key != "" && sh.value != "":
		where = " WHERE " + sh.key + " = " + sqlLiteral(sh.value)
	}
	thing := singular(table)
	switch checker {
	case "counter":
		var q string
		switch {
		case sh.inserts: // each request adds a row: count them
			q = "SELECT COUNT(*) FROM " + table + where
		case col == "":
			return nil, fmt.Errorf("counter: no column of %s to count", table)
		case where != "":
			q = "SELECT " + col + " FROM " + table + where
		default:
			q = "SELECT COALESCE(SUM(" + col + "), 0) FROM " + table
		}
		return []genInv{{Name: "every acknowledged " + op + " is counted exactly once", Check: "counter", Query: q, Op: op, Thing: thing}}, nil
	case "never_negative":
		if debit != nil {
			// The row the setup filled: it may not go below zero, and it
			// falls by exactly the debits acknowledged (none beyond it).
			row := " FROM " + table + " WHERE " + debit.key + " = " + quoted(debit.value)
			floor := 0.0
			return []genInv{
				{Name: "no " + debit.col + " of " + table + " goes below zero", Check: "never_negative", Query: "SELECT " + debit.key + ", " + debit.col + row, Thing: thing},
				{Name: "the " + debit.col + " falls by the acknowledged " + op + " requests, none beyond it", Check: "bounded_debits",
					Query: "SELECT " + debit.col + row, Op: op, Amount: debit.amount, Floor: &floor, Thing: thing},
			}, nil
		}
		if col == "" {
			return nil, fmt.Errorf("never_negative: no column of %s to check", table)
		}
		q := "SELECT " + col + " FROM " + table
		if sh.key != "" {
			q = "SELECT " + sh.key + ", " + col + " FROM " + table
		}
		return []genInv{{Name: "no " + col + " of " + table + " goes below zero", Check: "never_negative", Query: q, Thing: thing}}, nil
	case "unique":
		if len(cols) == 0 {
			return nil, fmt.Errorf("unique: the finding names no columns of %s", table)
		}
		return []genInv{uniqueInv(table, cols)}, nil
	case "exactly_one":
		inv := genInv{Name: "at most one " + op + " per key succeeds", Check: "exactly_one", Op: op, Group: fresh}
		out := []genInv{inv}
		if len(cols) > 0 {
			out = append(out, uniqueInv(table, cols))
		}
		return out, nil
	case "newest_wins":
		if col == "" || sh.key == "" {
			return nil, fmt.Errorf("newest_wins: want the key and the written column of %s (the evidence's UPDATE … SET col = … WHERE key = …)", table)
		}
		return []genInv{{Name: "every " + thing + " keeps its newest acknowledged " + col, Check: "newest_wins",
			Query: "SELECT " + sh.key + ", " + col + " FROM " + table + where, Op: op, VersionFrom: "seq", Thing: thing}}, nil
	}
	return nil, fmt.Errorf("no generator for checker %q (class %s)", checker, f.Class)
}

func uniqueInv(table string, cols []string) genInv {
	return genInv{Name: "no two rows of " + table + " share " + strings.Join(cols, ", "),
		Unique: "SELECT " + strings.Join(cols, ", ") + " FROM " + table}
}

// shape is what the evidence's SQL says of the row: the column written or
// checked (col), the key column of its WHERE (or of an upsert's ON
// CONFLICT), the key's value when the request names it, and whether rows
// of the table are inserted without an UPDATE of it (inserts).
type shape struct {
	col, key, value string
	inserts         bool
}

var (
	evidenceNumber = regexp.MustCompile(`^\s*\d+\.\s*`)
	evidenceNote   = regexp.MustCompile(`\s+\([^()]*\)\s*$`)
	updateRE       = regexp.MustCompile(`(?is)^\s*UPDATE\s+("?[\w.]+"?)\s+SET\s+(.+?)\s+WHERE\s+"?(\w+)"?\s*=`)
	upsertRE       = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+("?[\w.]+"?).*?\bON\s+CONFLICT\s*\(\s*"?(\w+)"?[^)]*\)\s*DO\s+UPDATE\s+SET\s+(.+)$`)
	dupKeyRE       = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+("?[\w.]+"?).*?\bON\s+DUPLICATE\s+KEY\s+UPDATE\s+(.+)$`)
	insertRE       = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+("?[\w.]+"?)`)
	selectRE       = regexp.MustCompile(`(?is)^\s*SELECT\s+(.+?)\s+FROM\s+("?[\w.]+"?)(?:\s+WHERE\s+"?(\w+)"?\s*=)?`)
	setColumnRE    = regexp.MustCompile(`(?:^|,)\s*"?(\w+)"?\s*=`)
)

// shapeOf reads the written column and the key column of f's table from
// its evidence: an UPDATE's SET column (the first that is one of
// f.Columns) and WHERE column, else an upsert's, else the SELECT's WHERE
// column.
func shapeOf(f Finding) shape {
	var sh shape
	updated := false
	for _, e := range f.Evidence {
		stmt := evidenceNote.ReplaceAllString(evidenceNumber.ReplaceAllString(e, ""), "")
		if m := updateRE.FindStringSubmatch(stmt); m != nil && sameTable(m[1], f.Table) {
			return shape{col: setColumn(m[2], f.Columns), key: strings.ToLower(m[3])}
		}
		if m := upsertRE.FindStringSubmatch(stmt); m != nil && sameTable(m[1], f.Table) {
			sh.col, sh.key, updated = setColumn(m[3], f.Columns), strings.ToLower(m[2]), true
			continue
		}
		if m := dupKeyRE.FindStringSubmatch(stmt); m != nil && sameTable(m[1], f.Table) {
			sh.col, updated = setColumn(m[2], f.Columns), true
			continue
		}
		if m := insertRE.FindStringSubmatch(stmt); m != nil && sameTable(m[1], f.Table) {
			sh.inserts = true
			continue
		}
		if m := selectRE.FindStringSubmatch(stmt); m != nil && sameTable(m[2], f.Table) && sh.key == "" && m[3] != "" {
			sh.key = strings.ToLower(m[3])
		}
	}
	sh.inserts = sh.inserts && !updated
	return sh
}

// setColumn picks the column of a SET list: the first that is one of cols,
// else the first.
func setColumn(set string, cols []string) string {
	var names []string
	for _, m := range setColumnRE.FindAllStringSubmatch(set, -1) {
		names = append(names, strings.ToLower(m[1]))
	}
	for _, n := range names {
		for _, c := range cols {
			if strings.EqualFold(n, c) {
				return n
			}
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

func sameTable(ref, table string) bool {
	ref = strings.ToLower(strings.Trim(ref, `"`))
	if i := strings.LastIndexByte(ref, '.'); i >= 0 {
		ref = ref[i+1:]
	}
	return ref == strings.ToLower(table)
}

// pathKey finds the value of the key column among the endpoint's path
// parameters: a parameter of that name, or the only one when the column is
// id. It returns the value and req's path with {{key}} in its place.
func pathKey(req Request, key string) (value, tmpl string, ok bool) {
	_, route, _ := strings.Cut(req.Endpoint, " ")
	u, err := url.Parse(req.URL)
	if err != nil || route == "" {
		return "", "", false
	}
	rs, us := strings.Split(strings.Trim(route, "/"), "/"), strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(rs) != len(us) {
		return "", "", false
	}
	var params []int
	for i, s := range rs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			params = append(params, i)
		}
	}
	at := -1
	for _, i := range params {
		if strings.EqualFold(strings.Trim(rs[i], "{}"), key) {
			at = i
		}
	}
	if len(params) == 1 && at < 0 {
		// /counters/{id} for counters.id; /projects/{id}/items for
		// project_items.project_id
		if i := params[0]; key == "id" || (i > 0 && key == singular(strings.ToLower(rs[i-1]))+"_id") {
			at = i
		}
	}
	if at < 0 || us[at] == "" {
		return "", "", false
	}
	value = us[at]
	us[at] = "{{key}}"
	tmpl = "/" + strings.Join(us, "/")
	if strings.HasSuffix(u.Path, "/") {
		tmpl += "/"
	}
	if u.RawQuery != "" {
		tmpl += "?" + u.RawQuery
	}
	return value, tmpl, true
}

// freshen makes the request's value of one of cols fresh per burst (a
// header or a top-level JSON body field named after it gets "-{{uuid}}"
// appended) and, for newest_wins, puts {{seq}} in the body field named
// version. It returns "uuid" when it freshened a value: the rendered value
// that groups a burst's copies.
func freshen(r *genReq, cols []string, seq bool, version string) string {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("-", "_", " ", "_").Replace(s)) }
	want := map[string]bool{}
	for _, c := range cols {
		want[norm(c)] = true
	}
	fresh := ""
	for k, v := range r.Headers {
		if want[norm(k)] && v != "" && !strings.Contains(v, "{{") {
			r.Headers[k] = v + "-{{uuid}}"
			fresh = "uuid"
		}
	}
	var body map[string]json.RawMessage
	if r.Body == "" || json.Unmarshal([]byte(r.Body), &body) != nil {
		return fresh
	}
	changed := false
	names := make([]string, 0, len(body))
	for k := range body {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		var s string
		switch {
		case seq && norm(k) == norm(version):
			body[k] = json.RawMessage("{{seq}}")
			changed = true
		case want[norm(k)] && json.Unmarshal(body[k], &s) == nil && s != "" && !strings.Contains(s, "{{"):
			b, _ := json.Marshal(s + "-")
			body[k] = json.RawMessage(strings.TrimSuffix(string(b), `"`) + `{{uuid}}"`)
			fresh, changed = "uuid", true
		}
	}
	if changed {
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteString(": ")
			b.Write(body[k])
		}
		b.WriteByte('}')
		r.Body = b.String()
	}
	return fresh
}

// secretHeaders are written as {{env "COLLIDE_<NAME>"}}, never as values,
// unless their value is a template of captured variables ("Bearer
// {{token}}": collide keeps such values out of what it writes).
var secretHeaders = map[string]bool{"Authorization": true, "Cookie": true, "Proxy-Authorization": true,
	"X-Api-Key": true, "X-Auth-Token": true, "X-Csrf-Token": true, "X-Xsrf-Token": true}

// skipHeaders are the client's or the connection's own.
var skipHeaders = map[string]bool{"Host": true, "Content-Length": true, "Connection": true, "Accept-Encoding": true,
	"Transfer-Encoding": true, "Keep-Alive": true, "Upgrade": true, "Te": true, "Trailer": true}

// genRequest is r as a profile request: its path and query (an absolute
// URL's host is the target's), its headers with secrets replaced, its body.
func genRequest(r Request) (genReq, error) {
	if _, err := url.Parse(r.URL); err != nil {
		return genReq{}, fmt.Errorf("%s: URL %q: %w", r.Source, r.URL, err)
	}
	// The text as written ({{vars}} unescaped), without scheme, host and
	// fragment.
	path, _, _ := strings.Cut(r.URL, "#")
	if i := strings.Index(path, "://"); i >= 0 && !strings.ContainsAny(path[:i], "/?{") {
		rest := path[i+3:]
		path = "/"
		if j := strings.IndexAny(rest, "/?"); j >= 0 {
			path = rest[j:]
		}
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	method := strings.ToUpper(r.Method)
	if method == "" {
		method = http.MethodGet
	}
	g := genReq{Method: method, URL: path, Body: string(r.Body)}
	for k, vs := range r.Header {
		ck := http.CanonicalHeaderKey(k)
		if skipHeaders[ck] || strings.HasPrefix(k, ":") || len(vs) == 0 {
			continue
		}
		if g.Headers == nil {
			g.Headers = map[string]string{}
		}
		if secretHeaders[ck] && !strings.Contains(strings.Join(vs, ""), "{{") { // a captured {{token}} stays
			g.Headers[ck] = `{{env "COLLIDE_` + strings.ToUpper(strings.ReplaceAll(ck, "-", "_")) + `"}}`
			continue
		}
		g.Headers[ck] = strings.Join(vs, ", ")
	}
	return g, nil
}

// header is the comment that opens a generated profile.
func header(f Finding, req Request, o GenerateOptions, env []string, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Generated by collide discover: finding %s, %s on %s (%s).\n", f.ID, f.Class, f.Endpoint, f.Table)
	if req.Source != "" {
		fmt.Fprintf(&b, "Request: %s.\n", req.Source)
	}
	if f.Why != "" {
		fmt.Fprintf(&b, "Why: %s\n", oneLine(f.Why))
	}
	if len(f.Evidence) > 0 {
		b.WriteString("Evidence (one request sent alone):\n")
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "  %s\n", oneLine(e))
		}
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "Proof: %s\n", n)
	}
	if f.Fix != "" {
		fmt.Fprintf(&b, "Fix: %s\n", oneLine(f.Fix))
	}
	b.WriteString("Run it:\n  ")
	if o.DemoMode == "" {
		fmt.Fprintf(&b, "%s=http://127.0.0.1:8080 ", EnvTarget)
	}
	fmt.Fprintf(&b, "%s='<%s DSN>' ", EnvDSN, o.Driver)
	for _, e := range env {
		fmt.Fprintf(&b, "%s='<secret>' ", e)
	}
	b.WriteString("collide run <this file>")
	return b.String()
}

// envRef is a request's reference to an environment variable.
var envRef = regexp.MustCompile(`\{\{env "([A-Z0-9_]+)"\}\}`)

// secretEnv lists the environment variables p's requests read, sorted.
func secretEnv(p genProfile) []string {
	seen := map[string]bool{}
	reqs := []genReq{}
	for _, s := range p.Setup {
		if st, ok := s.(genStep); ok {
			reqs = append(reqs, st.Request)
		}
	}
	for _, o := range p.Operations {
		reqs = append(reqs, o.Request)
	}
	var out []string
	for _, r := range reqs {
		for _, v := range r.Headers {
			for _, m := range envRef.FindAllStringSubmatch(v, -1) {
				if !seen[m[1]] {
					seen[m[1]] = true
					out = append(out, m[1])
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// profileName is "f-3a9c1e-counter": the finding's id and class, in the
// characters a profile name allows.
func profileName(f Finding) string {
	return slug(f.ID+"-"+string(f.Class), "finding", 60)
}

// opName names the operation after the endpoint: "post-counters-id-increment".
func opName(r Request) string {
	return slug(r.Endpoint, "request", 40)
}

// stepName names a setup step after its request.
func stepName(r Request, i int) string {
	if s := slug(r.Endpoint, "", 40); s != "" {
		return s
	}
	return "setup-" + strconv.Itoa(i)
}

// slug keeps lower-case letters and digits, one "-" for each run of other
// characters, at most n bytes; def when nothing is left.
func slug(s, def string, n int) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(c)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= n {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > n {
		out = strings.Trim(out[:n], "-")
	}
	if out == "" {
		return def
	}
	return out
}

// sqlLiteral writes v as an SQL literal: a number as is, a captured
// {{variable}} as is (collide binds it), text quoted.
func sqlLiteral(v string) string {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil || captured.MatchString(v) {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// singular is a table's row word for explanations: counters → counter.
func singular(table string) string {
	switch {
	case strings.HasSuffix(table, "ies"):
		return strings.TrimSuffix(table, "ies") + "y"
	case strings.HasSuffix(table, "ss"):
		return table
	case strings.HasSuffix(table, "s"):
		return strings.TrimSuffix(table, "s")
	}
	return table
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

package discover

import (
	"strconv"
	"strings"
)

// A small SQL tokenizer and a shallow statement reader: enough of SELECT,
// INSERT, UPDATE, DELETE and the transaction statements to see which table
// a statement touches, which columns it reads, writes and filters on, and
// whether it locks or is conditional. It is not a parser: subqueries, CTEs
// and joins are read only as far as their first table.

type tokKind int

const (
	tIdent  tokKind = iota // a name or keyword, lower-cased, unquoted
	tNumber                // 12, 1.5
	tString                // 'text' (Text holds the raw literal)
	tParam                 // $1 or ? (N is its number, from 1)
	tOp                    // = < > <= >= <> != + - * / % || ::
	tPunct                 // ( ) , ; .
)

type token struct {
	kind tokKind
	text string
	n    int // tParam: its number
}

// tokenize splits sql into tokens, skipping comments. Identifiers and
// keywords come out lower-cased; "quoted" and `quoted` names unquoted.
func tokenize(sql string) []token {
	var out []token
	qmarks := 0
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-', c == '#':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '\'':
			j := stringEnd(sql, i)
			out = append(out, token{kind: tString, text: sql[i:min(j+1, len(sql))]})
			i = j + 1
		case c == '"' || c == '`':
			j := strings.IndexByte(sql[i+1:], c)
			if j < 0 {
				j = len(sql) - i - 1
			}
			out = append(out, token{kind: tIdent, text: strings.ToLower(sql[i+1 : i+1+j])})
			i += j + 2
		case c == '?':
			qmarks++
			out = append(out, token{kind: tParam, text: "?", n: qmarks})
			i++
		case c == '$' && i+1 < len(sql) && isDigit(sql[i+1]):
			j := i + 1
			for j < len(sql) && isDigit(sql[j]) {
				j++
			}
			n, _ := strconv.Atoi(sql[i+1 : j])
			out = append(out, token{kind: tParam, text: sql[i:j], n: n})
			i = j
		case isDigit(c):
			j := i
			for j < len(sql) && (isDigit(sql[j]) || sql[j] == '.') {
				j++
			}
			out = append(out, token{kind: tNumber, text: sql[i:j]})
			i = j
		case isIdentStart(c):
			j := i
			for j < len(sql) && (isIdentStart(sql[j]) || isDigit(sql[j]) || sql[j] == '$') {
				j++
			}
			out = append(out, token{kind: tIdent, text: strings.ToLower(sql[i:j])})
			i = j
		case strings.IndexByte("(),;.", c) >= 0:
			out = append(out, token{kind: tPunct, text: string(c)})
			i++
		default:
			if i+1 < len(sql) {
				switch two := sql[i : i+2]; two {
				case "<=", ">=", "<>", "!=", "||", "::":
					out = append(out, token{kind: tOp, text: two})
					i += 2
					continue
				}
			}
			out = append(out, token{kind: tOp, text: string(c)})
			i++
		}
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// stmtKind is what a statement does, as far as the analysis cares.
type stmtKind int

const (
	kOther stmtKind = iota
	kSelect
	kInsert
	kUpdate
	kDelete
	kBegin
	kEnd // COMMIT, ROLLBACK
	kSetIsolation
	kLock // LOCK TABLE(S)
)

// pred is one comparison in a WHERE clause: column op value.
type pred struct {
	col string
	op  string // "=", "<", ">=", "in", "is" …
	val token  // the value compared with, when a single token (param or literal)
}

// setItem is one "col = expr" of an UPDATE or an upsert's DO UPDATE.
type setItem struct {
	col  string
	self bool // expr reads col itself (col = col + 1): atomic
	sub  bool // self and subtracts (col = col - ?)
	expr string
}

// parsed is one statement, read shallowly.
type parsed struct {
	kind  stmtKind
	table string // the first table it reads or writes, lower case, no schema
	// reads: the plain columns of a SELECT list; star for *.
	reads []string
	star  bool
	// where: the comparisons of the WHERE clause (of the DO UPDATE for an
	// upsert, when it has one); hasWhere even if none was understood.
	where    []pred
	hasWhere bool
	// forUpdate: FOR UPDATE, FOR SHARE, FOR NO KEY UPDATE, LOCK IN SHARE MODE.
	forUpdate bool
	// sets: the assignments of an UPDATE or of an upsert's update part.
	sets []setItem
	// insertCols: the column list of an INSERT.
	insertCols []string
	// conflictCols: ON CONFLICT (cols) of an upsert.
	conflictCols []string
	// onConflict: INSERT … ON CONFLICT, ON DUPLICATE KEY, INSERT IGNORE,
	// REPLACE, INSERT OR IGNORE/REPLACE.
	onConflict bool
	// upsert: the conflict branch updates (DO UPDATE, ON DUPLICATE KEY UPDATE).
	upsert bool
	// serializable: the statement names ISOLATION LEVEL SERIALIZABLE.
	serializable bool
	// session: SET SESSION … (all later transactions of the connection).
	session bool
}

// parse reads one statement's text.
func parse(sql string) parsed {
	toks := tokenize(sql)
	var p parsed
	if len(toks) == 0 {
		return p
	}
	p.serializable = hasSeq(toks, "isolation", "level", "serializable")
	first := toks[0].text
	if toks[0].kind == tPunct && first == "(" && len(toks) > 1 {
		first = toks[1].text
	}
	switch first {
	case "select", "with":
		p.kind = kSelect
		p.readSelect(toks)
	case "insert", "replace":
		p.kind = kInsert
		p.readInsert(toks)
	case "update":
		p.kind = kUpdate
		p.readUpdate(toks)
	case "delete":
		p.kind = kDelete
		if i := findTop(toks, 0, "from"); i >= 0 {
			p.table = tableAt(toks, i+1)
			p.readWhere(toks, findTop(toks, i, "where"))
		}
	case "begin", "start":
		p.kind = kBegin
	case "commit", "rollback", "end":
		p.kind = kEnd
	case "set":
		if hasSeq(toks, "isolation", "level") {
			p.kind = kSetIsolation
			p.session = hasSeq(toks, "session") || hasSeq(toks, "characteristics")
		}
	case "lock":
		p.kind = kLock
	}
	return p
}

func (p *parsed) readSelect(toks []token) {
	sel := findTop(toks, 0, "select")
	from := findTop(toks, max(sel, 0), "from")
	if sel >= 0 {
		end := from
		if end < 0 {
			end = len(toks)
		}
		for _, item := range splitTop(toks[sel+1 : end]) {
			if len(item) > 0 && item[0].kind == tIdent && (item[0].text == "distinct" || item[0].text == "all") {
				item = item[1:]
			}
			if c, ok := plainColumn(item); ok {
				if c == "*" {
					p.star = true
				} else {
					p.reads = append(p.reads, c)
				}
			}
		}
	}
	if from >= 0 {
		p.table = tableAt(toks, from+1)
		p.readWhere(toks, findTop(toks, from, "where"))
	}
	p.forUpdate = hasSeq(toks, "for", "update") || hasSeq(toks, "for", "share") ||
		hasSeq(toks, "for", "no", "key", "update") || hasSeq(toks, "for", "key", "share") ||
		hasSeq(toks, "lock", "in", "share", "mode")
}

func (p *parsed) readInsert(toks []token) {
	p.onConflict = toks[0].text == "replace" || hasSeq(toks, "insert", "ignore") ||
		hasSeq(toks, "insert", "or") || hasSeq(toks, "on", "conflict") || hasSeq(toks, "on", "duplicate", "key")
	into := findTop(toks, 0, "into")
	if into < 0 {
		return
	}
	p.table = tableAt(toks, into+1)
	// the column list: the parenthesis right after the table name
	i := into + 1
	for i < len(toks) && (toks[i].kind == tIdent || toks[i].text == ".") {
		i++
	}
	if i < len(toks) && toks[i].text == "(" {
		end := matching(toks, i)
		for _, item := range splitTop(toks[i+1 : end]) {
			if c, ok := plainColumn(item); ok {
				p.insertCols = append(p.insertCols, c)
			}
		}
	}
	if at := findSeq(toks, "on", "conflict"); at >= 0 {
		j := at + 2
		if j < len(toks) && toks[j].text == "(" {
			end := matching(toks, j)
			for _, item := range splitTop(toks[j+1 : end]) {
				if c, ok := plainColumn(item); ok {
					p.conflictCols = append(p.conflictCols, c)
				}
			}
		}
		if u := findSeq(toks, "do", "update"); u >= 0 {
			p.upsert = true
			if s := findTop(toks, u, "set"); s >= 0 {
				p.readSets(toks, s)
				p.readWhere(toks, findTop(toks, s, "where"))
			}
		}
	}
	if at := findSeq(toks, "on", "duplicate", "key", "update"); at >= 0 {
		p.upsert = true
		p.readSets(toks, at+3)
	}
}

func (p *parsed) readUpdate(toks []token) {
	i := 1
	if i < len(toks) && (toks[i].text == "only" || toks[i].text == "low_priority" || toks[i].text == "ignore") {
		i++
	}
	p.table = tableAt(toks, i)
	s := findTop(toks, i, "set")
	if s < 0 {
		return
	}
	p.readSets(toks, s)
	p.readWhere(toks, findTop(toks, s, "where"))
}

// readSets reads the assignments after toks[at] (SET, or UPDATE of ON
// DUPLICATE KEY UPDATE) up to the clause that ends them.
func (p *parsed) readSets(toks []token, at int) {
	end := clauseEnd(toks, at+1)
	for _, item := range splitTop(toks[at+1 : end]) {
		eq := -1
		for k, t := range item {
			if t.kind == tOp && t.text == "=" {
				eq = k
				break
			}
		}
		if eq < 1 {
			continue
		}
		col, ok := plainColumn(item[:eq])
		if !ok {
			continue
		}
		expr := item[eq+1:]
		s := setItem{col: col, expr: joinTokens(expr)}
		for k, t := range expr {
			if t.kind == tIdent && t.text == col && !(k+1 < len(expr) && expr[k+1].text == "(") {
				// excluded.col / values(col) name the new value, not the old
				if k >= 2 && expr[k-1].text == "." && (expr[k-2].text == "excluded" || expr[k-2].text == "new") {
					continue
				}
				if k >= 2 && expr[k-1].text == "(" && expr[k-2].text == "values" {
					continue
				}
				s.self = true
			}
			if t.kind == tOp && t.text == "-" {
				s.sub = true
			}
		}
		s.sub = s.sub && s.self
		p.sets = append(p.sets, s)
	}
}

// readWhere reads the comparisons of the WHERE clause at toks[at] (at < 0:
// none).
func (p *parsed) readWhere(toks []token, at int) {
	if at < 0 {
		return
	}
	p.hasWhere = true
	p.where = nil
	end := clauseEnd(toks, at+1)
	w := toks[at+1 : end]
	for k := 0; k < len(w); k++ {
		if w[k].kind != tIdent || isKeyword(w[k].text) {
			continue
		}
		col := w[k].text
		j := k + 1
		for j+1 < len(w) && w[j].text == "." && w[j+1].kind == tIdent { // t.col
			col = w[j+1].text
			j += 2
		}
		if j >= len(w) {
			break
		}
		switch {
		case w[j].kind == tOp && isComparison(w[j].text):
			var v token
			if j+1 < len(w) {
				v = w[j+1]
			}
			p.where = append(p.where, pred{col: col, op: w[j].text, val: v})
		case w[j].kind == tOp && (w[j].text == "-" || w[j].text == "+"):
			// col - ? >= 0: a guard on col
			p.where = append(p.where, pred{col: col, op: w[j].text})
		case w[j].text == "in" || w[j].text == "is" || w[j].text == "between" || w[j].text == "like":
			p.where = append(p.where, pred{col: col, op: w[j].text})
		}
		k = j
	}
}

func isComparison(op string) bool {
	switch op {
	case "=", "<", ">", "<=", ">=", "<>", "!=":
		return true
	}
	return false
}

var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "null": true, "true": true, "false": true,
	"exists": true, "select": true, "from": true, "where": true, "in": true, "is": true,
}

func isKeyword(s string) bool { return keywords[s] }

// clauseEnd is the index of the first top-level token from i on that
// starts another clause.
func clauseEnd(toks []token, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		switch toks[i].text {
		case "(":
			depth++
		case ")":
			depth--
			if depth < 0 {
				return i
			}
		}
		if depth > 0 || toks[i].kind != tIdent {
			if depth == 0 && toks[i].text == ";" {
				return i
			}
			continue
		}
		switch toks[i].text {
		case "where", "returning", "order", "group", "having", "limit", "for", "from", "on", "union", "lock", "offset":
			return i
		}
	}
	return len(toks)
}

// findTop is the index of the first top-level (outside parentheses)
// keyword word at or after from, or -1.
func findTop(toks []token, from int, word string) int {
	depth := 0
	for i := 0; i < len(toks); i++ {
		switch toks[i].text {
		case "(":
			depth++
		case ")":
			depth--
		}
		if i >= from && depth == 0 && toks[i].kind == tIdent && toks[i].text == word {
			return i
		}
	}
	return -1
}

// findSeq is the index where the words appear in a row, or -1.
func findSeq(toks []token, words ...string) int {
	for i := 0; i+len(words) <= len(toks); i++ {
		ok := true
		for k, w := range words {
			if toks[i+k].kind != tIdent || toks[i+k].text != w {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

func hasSeq(toks []token, words ...string) bool { return findSeq(toks, words...) >= 0 }

// matching is the index of the ")" closing the "(" at i.
func matching(toks []token, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch toks[j].text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(toks)
}

// splitTop splits toks at top-level commas.
func splitTop(toks []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, t := range toks {
		switch t.text {
		case "(":
			depth++
		case ")":
			depth--
		case ",":
			if depth == 0 {
				out = append(out, toks[start:i])
				start = i + 1
			}
		}
	}
	return append(out, toks[start:])
}

// plainColumn reads "col", "t.col", "col AS x", "t.*" or "*"; anything
// else (a function, an expression) is not a plain column.
func plainColumn(item []token) (string, bool) {
	if len(item) >= 2 && item[len(item)-2].text == "as" {
		item = item[:len(item)-2]
	}
	if len(item) == 1 && item[0].kind == tOp && item[0].text == "*" {
		return "*", true
	}
	if len(item) == 0 || item[0].kind != tIdent {
		return "", false
	}
	name := item[0].text
	k := 1
	for k+1 < len(item) && item[k].text == "." {
		name = item[k+1].text
		k += 2
	}
	if k == len(item) || k+1 == len(item) && item[k].kind == tIdent { // col, or col alias
		return name, true
	}
	return "", false
}

// tableAt reads the table name at toks[i] (schema.table → table).
func tableAt(toks []token, i int) string {
	if i >= len(toks) || toks[i].kind != tIdent {
		return ""
	}
	name := toks[i].text
	for i+2 < len(toks) && toks[i+1].text == "." && toks[i+2].kind == tIdent {
		name = toks[i+2].text
		i += 2
	}
	return name
}

func joinTokens(toks []token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.text
	}
	return strings.Join(parts, " ")
}

// redactSQL returns sql with every string literal replaced by '?', and
// whitespace runs made single spaces, for evidence: bound parameters
// ($1, ?) are already placeholders, but a driver that interpolates values
// client-side sends them as literals. With numbers true (a statement sent
// without bound parameters, so maybe interpolated) numeric literals become
// ? too.
func redactSQL(sql string, numbers bool) string {
	var b strings.Builder
	space := false
	prevIdent := false // the previous byte continues a name ($1, t1)
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		wasIdent := prevIdent
		prevIdent = isIdentStart(c) || isDigit(c) || c == '$'
		switch {
		case numbers && isDigit(c) && !wasIdent:
			for i+1 < len(sql) && (isDigit(sql[i+1]) || sql[i+1] == '.') {
				i++
			}
			b.WriteByte('?')
			space = false
		case c == '\'':
			j := stringEnd(sql, i)
			b.WriteString("'?'")
			i = j
			space = false
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
		default:
			b.WriteByte(c)
			space = false
		}
	}
	return strings.TrimSpace(b.String())
}

// splitStatements splits a text of several statements (a simple-protocol
// batch such as "BEGIN; UPDATE …; COMMIT") at the semicolons outside
// quotes and comments; empty parts are dropped.
func splitStatements(sql string) []string {
	var out []string
	start := 0
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '\'' || c == '"' || c == '`':
			for i++; i < len(sql) && sql[i] != c; i++ {
				if c == '\'' && sql[i] == '\\' {
					i++
				}
			}
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 3
			}
		case c == ';':
			if s := strings.TrimSpace(sql[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if start < len(sql) {
		if s := strings.TrimSpace(sql[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// stringEnd returns the index of the quote that closes the '…' literal
// opening at sql[i], past backslash escapes and quotes written twice, or
// len(sql) when it is not closed.
func stringEnd(sql string, i int) int {
	j := i + 1
	for j < len(sql) {
		if sql[j] == '\\' && j+1 < len(sql) {
			j += 2
			continue
		}
		if sql[j] == '\'' {
			if j+1 < len(sql) && sql[j+1] == '\'' {
				j += 2
				continue
			}
			break
		}
		j++
	}
	return j
}

package redis

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/collide-dev/collide/database"
)

// DB is the Redis database. Statements are Redis commands written as
// text, words separated by spaces, with "double" (backslash escapes) or
// 'single' quotes around words that hold spaces: SET greeting "hello world".
//
// Exec runs any command (FLUSHDB, SET k v, DEL k, HSET h f v, EVAL …) and
// ignores its reply. Query runs a command and shapes its reply as rows:
//
//	GET key, HGET key f, LINDEX key i      one row (value), none when missing
//	MGET k1 k2 …                           (key, value), missing keys left out
//	HGETALL key                            (field, value), sorted by field
//	HKEYS key / HVALS key                  (field) sorted / (value)
//	KEYS pattern                           (key), sorted; runs SCAN, not KEYS
//	SMEMBERS key, SINTER/SUNION/SDIFF …    (member), sorted
//	LRANGE key start stop                  (value), in list order
//	ZRANGE key start stop [WITHSCORES] …   (member[, score]); also ZREVRANGE,
//	                                       ZRANGEBYSCORE
//	anything else (SCARD, LLEN, EXISTS, EVAL …)
//	                                       an integer or text is one row
//	                                       (value); a list is one row per
//	                                       element; nil is no rows
//
// Texts that are canonical integers ("42", "-7", not "007") become int64,
// scores float64, everything else stays text, so `value >= ok("incr")`
// works on a counter kept with INCR. Redis has no NULL inside a reply; a
// missing key gives no row.
type DB struct {
	c *redis.Client
}

// Driver returns "redis".
func (d *DB) Driver() string { return Name }

func (d *DB) Close() error { return d.c.Close() }

func (d *DB) Exec(ctx context.Context, cmd string, params ...any) error {
	args, err := redisCommand(cmd, params)
	if err != nil {
		return d.cmdError(cmd, err)
	}
	if err := d.c.Do(ctx, args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return d.cmdError(cmd, err)
	}
	return nil
}

func (d *DB) Each(ctx context.Context, cmd string, fn func(row []any) error, params ...any) ([]string, error) {
	rows, err := d.Query(ctx, cmd, params...)
	if err != nil {
		return nil, err
	}
	for _, r := range rows.Values {
		if err := fn(r); err != nil {
			return rows.Columns, err
		}
	}
	return rows.Columns, nil
}

func (d *DB) Query(ctx context.Context, cmd string, params ...any) (*database.Rows, error) {
	args, err := redisCommand(cmd, params)
	if err != nil {
		return nil, d.cmdError(cmd, err)
	}
	name := strings.ToUpper(args[0].(string))
	if name == "KEYS" {
		if len(args) != 2 {
			return nil, d.cmdError(cmd, fmt.Errorf("KEYS takes one pattern"))
		}
		keys, err := d.scan(ctx, args[1].(string))
		if err != nil {
			return nil, d.cmdError(cmd, err)
		}
		return column("key", keys, true), nil
	}
	reply, err := d.c.Do(ctx, args...).Result()
	if errors.Is(err, redis.Nil) {
		reply, err = nil, nil
	}
	if err != nil {
		return nil, d.cmdError(cmd, err)
	}
	list, isList := reply.([]any)
	switch name {
	case "GET", "HGET", "LINDEX", "GETDEL", "GETEX", "GETSET", "SPOP", "SRANDMEMBER", "LPOP", "RPOP":
		if !isList {
			return scalarRows("value", reply), nil
		}
	case "MGET":
		if isList {
			rows := &database.Rows{Columns: []string{"key", "value"}}
			for i, v := range list {
				if v != nil && i+1 < len(args) {
					rows.Values = append(rows.Values, []any{redisValue(args[i+1]), redisValue(v)})
				}
			}
			return rows, nil
		}
	case "HGETALL":
		if isList {
			return pairs([]string{"field", "value"}, list, true, false), nil
		}
	case "HKEYS":
		return column("field", list, true), nil
	case "HVALS", "LRANGE":
		return column("value", list, false), nil
	case "SMEMBERS", "SINTER", "SUNION", "SDIFF":
		return column("member", list, true), nil
	case "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE":
		for _, a := range args[1:] {
			if s, _ := a.(string); strings.EqualFold(s, "WITHSCORES") && isList {
				return pairs([]string{"member", "score"}, list, false, true), nil
			}
		}
		return column("member", list, false), nil
	}
	if isList {
		return column("value", list, false), nil
	}
	return scalarRows("value", reply), nil
}

// scan lists the keys matching pattern with SCAN, which, unlike KEYS, does
// not block the server.
func (d *DB) scan(ctx context.Context, pattern string) ([]any, error) {
	var keys []any
	var cursor uint64
	for {
		batch, next, err := d.c.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return nil, err
		}
		for _, k := range batch {
			keys = append(keys, k)
		}
		if cursor = next; cursor == 0 {
			return keys, nil
		}
	}
}

func (d *DB) cmdError(cmd string, err error) error {
	return fmt.Errorf("redis: %s: %w", database.Snippet(cmd), err)
}

// scalarRows is one row holding v, or no rows when v is nil.
func scalarRows(col string, v any) *database.Rows {
	rows := &database.Rows{Columns: []string{col}}
	if v != nil {
		rows.Values = [][]any{{redisValue(v)}}
	}
	return rows
}

// column is one row per element, sorted when the reply has no order.
func column(col string, list []any, sorted bool) *database.Rows {
	rows := &database.Rows{Columns: []string{col}, Values: make([][]any, 0, len(list))}
	if sorted {
		sortReply(list)
	}
	for _, v := range list {
		rows.Values = append(rows.Values, []any{redisValue(v)})
	}
	return rows
}

// pairs turns a flat [a1 b1 a2 b2 …] reply into rows (a, b).
func pairs(cols []string, list []any, sorted, scores bool) *database.Rows {
	rows := &database.Rows{Columns: cols, Values: make([][]any, 0, len(list)/2)}
	type pair struct{ a, b any }
	ps := make([]pair, 0, len(list)/2)
	for i := 0; i+1 < len(list); i += 2 {
		ps = append(ps, pair{list[i], list[i+1]})
	}
	if sorted {
		sort.SliceStable(ps, func(i, j int) bool { return fmt.Sprint(ps[i].a) < fmt.Sprint(ps[j].a) })
	}
	for _, p := range ps {
		b := redisValue(p.b)
		if scores {
			if s, ok := p.b.(string); ok {
				if f, err := strconv.ParseFloat(s, 64); err == nil {
					b = f
				}
			}
		}
		rows.Values = append(rows.Values, []any{redisValue(p.a), b})
	}
	return rows
}

func sortReply(list []any) {
	sort.SliceStable(list, func(i, j int) bool { return fmt.Sprint(list[i]) < fmt.Sprint(list[j]) })
}

// redisValue normalizes a RESP2 value: canonical integer texts become int64.
func redisValue(v any) any {
	switch x := v.(type) {
	case nil, int64, float64, bool:
		return x
	case string:
		if i, err := strconv.ParseInt(x, 10, 64); err == nil && strconv.FormatInt(i, 10) == x {
			return i
		}
		return x
	case []byte:
		return redisValue(string(x))
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(redisValue(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		return database.Normalize(v)
	}
}

// redisCommand splits cmd into words and, when there are params, replaces
// $1, $2 … in each word by the text of that parameter: a value with spaces
// or quotes stays within its word.
func redisCommand(cmd string, params []any) ([]any, error) {
	args, err := redisArgs(cmd)
	if err != nil || len(params) == 0 {
		return args, err
	}
	for i, a := range args {
		w := a.(string)
		if !strings.Contains(w, "$") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(w); j++ {
			k := j + 1
			for k < len(w) && w[k] >= '0' && w[k] <= '9' {
				k++
			}
			if w[j] != '$' || k == j+1 {
				b.WriteByte(w[j])
				continue
			}
			n, _ := strconv.Atoi(w[j+1 : k])
			if n < 1 || n > len(params) {
				return nil, fmt.Errorf("$%d: no such parameter (%d given)", n, len(params))
			}
			fmt.Fprint(&b, params[n-1])
			j = k - 1
		}
		args[i] = b.String()
	}
	return args, nil
}

// redisArgs splits a command line into words. "double quotes" take the
// escapes \" \\ \n \r \t \xHH; 'single quotes' take \' only.
func redisArgs(cmd string) ([]any, error) {
	var args []any
	var word strings.Builder
	inWord := false
	s := cmd
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if inWord {
				args = append(args, word.String())
				word.Reset()
				inWord = false
			}
		case ch == '"' || ch == '\'':
			quote := ch
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				c := s[i]
				if c == quote {
					closed = true
					break
				}
				if c != '\\' || i+1 >= len(s) {
					word.WriteByte(c)
					continue
				}
				next := s[i+1]
				if quote == '\'' {
					if next == '\'' {
						word.WriteByte('\'')
						i++
					} else {
						word.WriteByte('\\')
					}
					continue
				}
				i++
				switch next {
				case 'n':
					word.WriteByte('\n')
				case 'r':
					word.WriteByte('\r')
				case 't':
					word.WriteByte('\t')
				case 'x':
					if i+2 < len(s) {
						if b, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
							word.WriteByte(byte(b))
							i += 2
							continue
						}
					}
					word.WriteString(`\x`)
				default:
					word.WriteByte(next)
				}
			}
			if !closed {
				return nil, fmt.Errorf("unbalanced %c quote", quote)
			}
			if i+1 < len(s) && s[i+1] != ' ' && s[i+1] != '\t' && s[i+1] != '\n' && s[i+1] != '\r' {
				return nil, fmt.Errorf("a closing quote must be followed by a space")
			}
		default:
			inWord = true
			word.WriteByte(ch)
		}
	}
	if inWord {
		args = append(args, word.String())
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return args, nil
}

// CheckStatement splits cmd into words and asks the server whether it
// knows the command (COMMAND INFO); nothing runs
// (database.StatementChecker).
func (d *DB) CheckStatement(ctx context.Context, cmd string) error {
	args, err := redisArgs(cmd)
	if err != nil {
		return &database.StatementError{Err: d.cmdError(cmd, err)}
	}
	name := strings.ToLower(args[0].(string))
	reply, err := d.c.Do(ctx, "COMMAND", "INFO", name).Slice()
	if err != nil {
		return d.cmdError(cmd, err)
	}
	if len(reply) == 0 || reply[0] == nil {
		return &database.StatementError{Err: d.cmdError(cmd, fmt.Errorf("unknown command %s", strings.ToUpper(name)))}
	}
	return nil
}

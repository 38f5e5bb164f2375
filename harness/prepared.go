package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/report"
)

// PreparedFile is written by shard 0 of a sharded run: what the checkers'
// Prepare read from the database after setup and before the attack (the
// state "before"), and the run-wide variables setup captured, so that
// collide merge, long after, checks against the same before-state.
const PreparedFile = "prepared.json"

// prepared is PreparedFile's content.
type prepared struct {
	// Vars are the run-wide variables setup captured, secret ones left out.
	Vars map[string]string `json:"vars,omitempty"`
	// Reads are the statements the checkers' Prepare ran, in order, with
	// their rows.
	Reads []preparedRead `json:"reads"`
}

type preparedRead struct {
	SQL     string    `json:"sql"`
	Args    []value   `json:"args,omitempty"`
	Columns []string  `json:"columns,omitempty"`
	Rows    [][]value `json:"rows,omitempty"`
	Error   string    `json:"error,omitempty"`
	key     string    // SQL and args, for matching
	used    bool
}

// value is a database value with its Go type, so that a replay returns
// int64 where the driver returned int64.
type value struct {
	T string          `json:"t"`
	V json.RawMessage `json:"v,omitempty"`
}

func encodeValue(v any) value {
	raw := func(x any) json.RawMessage { b, _ := json.Marshal(x); return b }
	switch x := v.(type) {
	case nil:
		return value{T: "nil"}
	case int64:
		return value{T: "int64", V: raw(strconv.FormatInt(x, 10))}
	case int:
		return value{T: "int64", V: raw(strconv.FormatInt(int64(x), 10))}
	case int32:
		return value{T: "int64", V: raw(strconv.FormatInt(int64(x), 10))}
	case float64:
		return value{T: "float64", V: raw(strconv.FormatFloat(x, 'g', -1, 64))}
	case bool:
		return value{T: "bool", V: raw(x)}
	case []byte:
		return value{T: "bytes", V: raw(x)}
	case time.Time:
		return value{T: "time", V: raw(x.Format(time.RFC3339Nano))}
	case string:
		return value{T: "string", V: raw(x)}
	default:
		return value{T: "string", V: raw(fmt.Sprint(x))}
	}
}

func (v value) decode() (any, error) {
	var s string
	switch v.T {
	case "nil":
		return nil, nil
	case "bool":
		var b bool
		err := json.Unmarshal(v.V, &b)
		return b, err
	case "bytes":
		var b []byte
		err := json.Unmarshal(v.V, &b)
		return b, err
	}
	if err := json.Unmarshal(v.V, &s); err != nil {
		return nil, err
	}
	switch v.T {
	case "int64":
		return strconv.ParseInt(s, 10, 64)
	case "float64":
		return strconv.ParseFloat(s, 64)
	case "time":
		return time.Parse(time.RFC3339Nano, s)
	case "string":
		return s, nil
	}
	return nil, fmt.Errorf("unknown value type %q", v.T)
}

func readKey(sql string, args []any) string {
	vs := make([]value, len(args))
	for i, a := range args {
		vs[i] = encodeValue(a)
	}
	b, _ := json.Marshal(vs)
	return sql + "\x00" + string(b)
}

// recordingDB passes every read to DB and records it.
type recordingDB struct {
	database.DB
	mu    sync.Mutex
	reads []preparedRead
}

func (d *recordingDB) record(sql string, args []any, cols []string, rows [][]any, err error) {
	pr := preparedRead{SQL: sql, Columns: cols}
	for _, a := range args {
		pr.Args = append(pr.Args, encodeValue(a))
	}
	for _, row := range rows {
		vs := make([]value, len(row))
		for i, v := range row {
			vs[i] = encodeValue(v)
		}
		pr.Rows = append(pr.Rows, vs)
	}
	if err != nil {
		pr.Error = err.Error()
	}
	d.mu.Lock()
	d.reads = append(d.reads, pr)
	d.mu.Unlock()
}

func (d *recordingDB) Query(ctx context.Context, sql string, args ...any) (*database.Rows, error) {
	rows, err := d.DB.Query(ctx, sql, args...)
	if rows != nil {
		d.record(sql, args, rows.Columns, rows.Values, err)
	} else {
		d.record(sql, args, nil, nil, err)
	}
	return rows, err
}

func (d *recordingDB) Each(ctx context.Context, sql string, fn func(row []any) error, args ...any) ([]string, error) {
	var kept [][]value // encoded at once: the driver reuses the row and its buffers
	cols, err := d.DB.Each(ctx, sql, func(row []any) error {
		vs := make([]value, len(row))
		for i, v := range row {
			vs[i] = encodeValue(v)
		}
		kept = append(kept, vs)
		return fn(row)
	}, args...)
	d.record(sql, args, cols, nil, err)
	d.mu.Lock()
	d.reads[len(d.reads)-1].Rows = kept
	d.mu.Unlock()
	return cols, err
}

// replayDB answers the reads a recordingDB recorded, each once, in order;
// anything else goes to DB (the database now, after the attack).
type replayDB struct {
	database.DB
	mu    sync.Mutex
	reads []preparedRead
}

func (d *replayDB) find(sql string, args []any) (*preparedRead, bool) {
	key := readKey(sql, args)
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.reads {
		if r := &d.reads[i]; !r.used && r.key == key {
			r.used = true
			return r, true
		}
	}
	return nil, false
}

func (r *preparedRead) rows() (*database.Rows, error) {
	if r.Error != "" {
		return nil, fmt.Errorf("before the attack (recorded by shard 0): %s", r.Error)
	}
	out := &database.Rows{Columns: r.Columns}
	for _, row := range r.Rows {
		vs := make([]any, len(row))
		for i, v := range row {
			x, err := v.decode()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", PreparedFile, err)
			}
			vs[i] = x
		}
		out.Values = append(out.Values, vs)
	}
	return out, nil
}

func (d *replayDB) Query(ctx context.Context, sql string, args ...any) (*database.Rows, error) {
	if r, ok := d.find(sql, args); ok {
		return r.rows()
	}
	return nil, fmt.Errorf("%s: shard 0 recorded no read of %q before the attack", PreparedFile, sql)
}

func (d *replayDB) Each(ctx context.Context, sql string, fn func(row []any) error, args ...any) ([]string, error) {
	r, ok := d.find(sql, args)
	if !ok {
		return nil, fmt.Errorf("%s: shard 0 recorded no read of %q before the attack", PreparedFile, sql)
	}
	rows, err := r.rows()
	if err != nil {
		return nil, err
	}
	for _, row := range rows.Values {
		if err := fn(row); err != nil {
			return rows.Columns, err
		}
	}
	return rows.Columns, nil
}

func writePrepared(path string, p *prepared) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", PreparedFile, err)
	}
	return report.WriteFileAtomic(path, append(b, '\n'))
}

func readPrepared(path string) (*prepared, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p prepared
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range p.Reads {
		r := &p.Reads[i]
		args := make([]any, len(r.Args))
		for j, a := range r.Args {
			x, err := a.decode()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			args[j] = x
		}
		r.key = readKey(r.SQL, args)
	}
	return &p, nil
}

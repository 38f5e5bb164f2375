package history

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendOpJSON appends op's JSON line — byte for byte what json.Encoder
// writes for it, newline included — without reflection. Captures (rare, and
// of any type) still go through encoding/json.
func appendOpJSON(b []byte, op *Op) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, op.ID, 10)
	b = append(b, `,"op":`...)
	b = appendString(b, op.Op)
	if op.Key != "" {
		b = append(b, `,"key":`...)
		b = appendString(b, op.Key)
	}
	b = append(b, `,"worker":`...)
	b = strconv.AppendInt(b, int64(op.Worker), 10)
	if op.Logical != 0 {
		b = append(b, `,"logical":`...)
		b = strconv.AppendUint(b, op.Logical, 10)
	}
	if op.Attempt != 0 {
		b = append(b, `,"attempt":`...)
		b = strconv.AppendInt(b, int64(op.Attempt), 10)
	}
	var err error
	b = append(b, `,"invoke":`...)
	if b, err = appendTime(b, op.Invoke); err != nil {
		return b, err
	}
	b = append(b, `,"complete":`...)
	if b, err = appendTime(b, op.Complete); err != nil {
		return b, err
	}
	b = append(b, `,"outcome":`...)
	b = appendString(b, string(op.Outcome))
	if op.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(op.Status), 10)
	}
	b = append(b, `,"sent":`...)
	b = strconv.AppendBool(b, op.Sent)
	if op.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, op.Error)
	}
	if len(op.Values) > 0 {
		b = append(b, `,"values":{`...)
		if len(op.Values) == 1 {
			for k, v := range op.Values {
				b = appendString(b, k)
				b = append(b, ':')
				b = appendString(b, v)
			}
		} else {
			keys := make([]string, 0, len(op.Values))
			for k := range op.Values {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for i, k := range keys {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, k)
				b = append(b, ':')
				b = appendString(b, op.Values[k])
			}
		}
		b = append(b, '}')
	}
	if len(op.Captures) > 0 {
		c, err := json.Marshal(op.Captures)
		if err != nil {
			return b, err
		}
		b = append(b, `,"captures":`...)
		b = append(b, c...)
	}
	return append(b, '}', '\n'), nil
}

// appendTime is time.Time.MarshalJSON: RFC 3339 with nanoseconds, quoted.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		_, err := t.MarshalJSON() // the same error encoding/json reports
		return b, err
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendString quotes s as encoding/json does (HTML-escaped). Plain
// printable ASCII is copied; anything else takes encoding/json's path.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

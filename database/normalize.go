package database

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Normalize maps a database/sql value to int64, float64, string, bool,
// time.Time or nil.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, int64, float64, string, bool, time.Time:
		return x
	case []byte:
		return string(x)
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// NormalizeNumeric turns the text of a NUMERIC or DECIMAL into int64 when
// it is integral and fits ("812.000" is 812), float64 otherwise.
func NormalizeNumeric(v any) any {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return Normalize(v)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return int64(f)
	}
	return f
}

package invariants

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxValueLen bounds one rendered value in Actual and Evidence.
const maxValueLen = 80

// formatValue renders a value for Actual and Evidence: strings quoted,
// numbers plain, NULL as null, times in RFC 3339.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if r := []rune(x); len(r) > maxValueLen {
			x = string(r[:maxValueLen-1]) + "…"
		}
		return strconv.Quote(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []any:
		return fmt.Sprintf("[%d items]", len(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + formatValue(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	default:
		s := fmt.Sprint(x)
		if r := []rune(s); len(r) > maxValueLen {
			s = string(r[:maxValueLen-1]) + "…"
		}
		return s
	}
}

// appendKey appends a value's text to a uniqueness key.
func appendKey(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(b, x...)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		return x.AppendFormat(b, time.RFC3339Nano)
	default:
		return fmt.Append(b, x)
	}
}

// keyPrefix introduces a line of evidence about key k — `key "7": ` — or
// nothing when the profile uses no key (every op's key is empty).
func keyPrefix(k any) string {
	if s, ok := k.(string); ok && s == "" {
		return ""
	}
	return "key " + formatValue(k) + ": "
}

package resp

import (
	"math"
	"strconv"
	"strings"
	"unsafe"
)

// parseInt parses a RESP integer: an optional sign and one or more decimal
// digits, within int64. It does not allocate.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0') // 19 digits cannot overflow uint64
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// parseDouble parses a RESP3 double as the specification spells it: an
// optional sign, one or more digits, optionally a dot and one or more digits,
// optionally e or E with an optional sign and one or more digits; inf with an
// optional sign; or nan. Values beyond the float64 range become infinities.
// Redis before 7.2 printed infinities and NaN however its libc did, so inf is
// accepted in any case, and NaN in any case and with any sign, bare or with
// the parenthesised character sequence of C's strtod ("-nan", "NAN",
// "nan(0x7ff8)"). Hex floats, a bare dot or exponent (".5", "5.", "1e"),
// underscores and "infinity" are refused.
func parseDouble(s string) (float64, bool) {
	body := s
	if len(body) > 0 && (body[0] == '-' || body[0] == '+') {
		body = body[1:]
	}
	if len(body) > 0 && !isDigit(body[0]) {
		return parseNonFinite(body, s[0] == '-')
	}
	if !isDecimalFloat(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) { // out of range parses as ±Inf
		return 0, false
	}
	return f, true
}

// parseNonFinite parses the unsigned text of an infinity or a NaN; neg says
// whether a minus sign came before it, which a NaN ignores.
func parseNonFinite(body string, neg bool) (float64, bool) {
	switch {
	case strings.EqualFold(body, "inf"):
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case len(body) >= 3 && strings.EqualFold(body[:3], "nan") && isNaNPayload(body[3:]):
		return math.NaN(), true
	}
	return 0, false
}

// isNaNPayload reports whether s may follow "nan": nothing, or a
// parenthesised run of letters, digits and underscores, as C's strtod reads.
func isNaNPayload(s string) bool {
	if s == "" {
		return true
	}
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return false
	}
	for _, c := range []byte(s[1 : len(s)-1]) {
		if !isDigit(c) && c != '_' && !('a' <= c|0x20 && c|0x20 <= 'z') {
			return false
		}
	}
	return true
}

// isDecimalFloat reports whether s is one or more digits, optionally a dot
// and one or more digits, optionally an exponent: e or E, an optional sign
// and one or more digits.
func isDecimalFloat(s string) bool {
	i := skipDigits(s, 0)
	if i == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		j := skipDigits(s, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		j := skipDigits(s, i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(s)
}

// skipDigits returns the index of the first byte at or after i in s that is
// not a decimal digit.
func skipDigits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// isBigNumber reports whether b is an optional sign and one or more digits.
func isBigNumber(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// borrow views b as a string without copying, for a parser that does not
// keep its argument. The result must not outlive b's contents.
func borrow(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// appendFloat writes f the way Redis does: inf, -inf, nan, or the shortest
// decimal that reads back as f.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

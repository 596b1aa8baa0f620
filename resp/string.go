package resp

import (
	"strconv"
	"strings"
)

// String renders v the way redis-cli shows a reply: "OK", "(integer) 1",
// "(nil)", "(error) ERR ...", quoted bulk strings, and aggregates as numbered
// lines ("1) ...", maps as "1# key => value", sets as "1~ ..."), nested ones
// indented. Attributes come first, on lines starting with "| ".
func (v Value) String() string {
	b := appendRendered(nil, v, "")
	return string(b[:len(b)-1]) // without the final newline
}

// appendRendered renders v followed by a newline. indent starts every line
// after the first, which the caller has already begun.
func appendRendered(b []byte, v Value, indent string) []byte {
	attrs := v.Attrs()
	for i := 0; i+1 < len(attrs); i += 2 {
		b = append(b, "| "...)
		b = appendRendered(b, attrs[i], indent+"  ")
		b = append(b[:len(b)-1], " => "...)
		b = appendRendered(b, attrs[i+1], indent+"  ")
		b = append(b, indent...)
	}
	switch v.kind {
	case SimpleString:
		b = append(b, v.str...)
	case SimpleError, BulkError:
		b = append(b, "(error) "...)
		b = append(b, v.str...)
	case Integer:
		b = append(b, "(integer) "...)
		b = strconv.AppendInt(b, v.num, 10)
	case BulkString:
		b = appendQuoted(b, v.str)
	case Verbatim:
		text, _ := v.Text()
		if format, _ := v.Format(); format == "txt" {
			b = append(b, text...)
		} else {
			b = appendQuoted(b, text)
		}
	case Null:
		b = append(b, "(nil)"...)
	case Boolean:
		if v.num != 0 {
			b = append(b, "(true)"...)
		} else {
			b = append(b, "(false)"...)
		}
	case Double:
		b = append(b, "(double) "...)
		b = appendFloat(b, v.float())
	case BigNumber:
		b = append(b, "(big number) "...)
		b = append(b, v.str...)
	case Array, Set, Push, Map:
		return appendAggregate(b, v, indent)
	default:
		b = append(b, "(invalid)"...)
	}
	return append(b, '\n')
}

func appendAggregate(b []byte, v Value, indent string) []byte {
	if len(v.elems) == 0 {
		return append(append(b, emptyName(v.kind)...), '\n')
	}
	count, step, mark := len(v.elems), 1, ") "
	switch v.kind {
	case Map:
		count, step, mark = len(v.elems)/2, 2, "# "
	case Set:
		mark = "~ "
	}
	width := len(strconv.Itoa(count))
	inner := indent + strings.Repeat(" ", width+2)
	for i := 0; i < len(v.elems); i += step {
		if i > 0 {
			b = append(b, indent...)
		}
		num := strconv.Itoa(i/step + 1)
		for range width - len(num) {
			b = append(b, ' ')
		}
		b = append(b, num...)
		b = append(b, mark...)
		b = appendRendered(b, v.elems[i], inner)
		if step == 2 {
			b = append(b[:len(b)-1], " => "...)
			b = appendRendered(b, v.elems[i+1], inner)
		}
	}
	return b
}

func emptyName(k Kind) string {
	switch k {
	case Map:
		return "(empty hash)"
	case Set:
		return "(empty set)"
	case Push:
		return "(empty push)"
	}
	return "(empty array)"
}

// appendQuoted writes s in double quotes with the escapes redis-cli uses.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\a':
			b = append(b, `\a`...)
		case '\b':
			b = append(b, `\b`...)
		default:
			if c < ' ' || c > '~' {
				b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

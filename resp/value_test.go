package resp_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

func TestKindString(t *testing.T) {
	names := map[resp.Kind]string{
		resp.SimpleString: "simple string", resp.SimpleError: "simple error", resp.Integer: "integer",
		resp.BulkString: "bulk string", resp.Array: "array", resp.Null: "null", resp.Boolean: "boolean",
		resp.Double: "double", resp.BigNumber: "big number", resp.BulkError: "bulk error",
		resp.Verbatim: "verbatim string", resp.Map: "map", resp.Set: "set", resp.Attribute: "attribute",
		resp.Push: "push",
	}
	for k, want := range names {
		assert.Equal(t, want, k.String())
	}
	assert.Equal(t, "Kind(0x41)", resp.Kind('A').String())
	assert.Equal(t, "Kind(0xff)", resp.Kind(0xff).String())
}

func TestText(t *testing.T) {
	tests := []struct {
		v    resp.Value
		want string
	}{
		{resp.NewSimpleString("OK"), "OK"},
		{resp.NewBulkString("hello"), "hello"},
		{resp.NewVerbatim("txt", "Some string"), "Some string"},
		{resp.NewDouble(3.5), "3.5"},
		{resp.NewDouble(math.Inf(-1)), "-inf"},
		{resp.NewBigNumber("-123456789012345678901234567890"), "-123456789012345678901234567890"},
	}
	for _, tc := range tests {
		got, err := tc.v.Text()
		require.NoError(t, err, tc.v.Kind().String())
		assert.Equal(t, tc.want, got)
	}
	format, err := resp.NewVerbatim("mkd", "# title").Format()
	require.NoError(t, err)
	assert.Equal(t, "mkd", format)
	assert.Equal(t, 7, resp.NewVerbatim("mkd", "# title").Len())
}

func TestWrongKind(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{second(resp.NewInt(1).Text()), "resp: Text on integer"},
		{second(resp.NewNull().Text()), "resp: Text on null"},
		{second(resp.NewBulkString("x").Int()), "resp: Int on bulk string"},
		{second(resp.NewMap().Int()), "resp: Int on map"},
		{second(resp.NewBulkString("x").Float()), "resp: Float on bulk string"},
		{second(resp.NewArray().Float()), "resp: Float on array"},
		{second(resp.NewInt(2).Bool()), "resp: Bool on integer"},
		{second(resp.NewBulkString("1").Bool()), "resp: Bool on bulk string"},
		{second(resp.NewDouble(1).BigInt()), "resp: BigInt on double"},
		{second(resp.NewBigNumber("12x").BigInt()), "resp: BigInt on big number"},
		{second(resp.NewBulkString("txt").Format()), "resp: Format on bulk string"},
	}
	for _, tc := range tests {
		require.Error(t, tc.err, tc.want)
		assert.EqualError(t, tc.err, tc.want)
		assert.ErrorIs(t, tc.err, resp.ErrWrongKind)
	}
}

func second[T any](_ T, err error) error { return err }

func TestNumbers(t *testing.T) {
	n, err := resp.NewInt(-7).Int()
	require.NoError(t, err)
	assert.Equal(t, int64(-7), n)
	n, err = resp.NewBulkString("12345").Int()
	require.NoError(t, err)
	assert.Equal(t, int64(12345), n)
	n, err = resp.NewSimpleString("-3").Int()
	require.NoError(t, err)
	assert.Equal(t, int64(-3), n)

	f, err := resp.NewDouble(math.NaN()).Float()
	require.NoError(t, err)
	assert.True(t, math.IsNaN(f))
	f, err = resp.NewInt(4).Float()
	require.NoError(t, err)
	assert.Equal(t, 4.0, f)
	f, err = resp.NewBulkString("2.5e3").Float()
	require.NoError(t, err)
	assert.Equal(t, 2500.0, f)
	f, err = resp.NewBulkString("-inf").Float()
	require.NoError(t, err)
	assert.True(t, math.IsInf(f, -1))

	for _, tc := range []struct {
		v    resp.Value
		want bool
	}{{resp.NewBool(true), true}, {resp.NewBool(false), false}, {resp.NewInt(1), true}, {resp.NewInt(0), false}} {
		got, err := tc.v.Bool()
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}

	want, _ := new(big.Int).SetString("-3492890328409238509324850943850943825024385", 10)
	got, err := resp.NewBigNumber(want.String()).BigInt()
	require.NoError(t, err)
	assert.Equal(t, 0, want.Cmp(got))
	got, err = resp.NewInt(math.MinInt64).BigInt()
	require.NoError(t, err)
	assert.Equal(t, big.NewInt(math.MinInt64), got)
}

func TestErrAndParseError(t *testing.T) {
	err := resp.NewSimpleError("MOVED 3999 127.0.0.1:6381").Err()
	var e *resp.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "MOVED", e.Code)
	assert.Equal(t, "MOVED 3999 127.0.0.1:6381", e.Message)
	assert.EqualError(t, err, "MOVED 3999 127.0.0.1:6381")

	require.ErrorAs(t, resp.NewBulkError("SYNTAX invalid syntax").Err(), &e)
	assert.Equal(t, "SYNTAX", e.Code)
	assert.Equal(t, &resp.Error{Code: "NOAUTH", Message: "NOAUTH"}, resp.ParseError("NOAUTH"))

	assert.NoError(t, resp.NewBulkString("ERR not an error").Err())
	assert.NoError(t, resp.NewNull().Err())
}

func TestNulls(t *testing.T) {
	for _, v := range []resp.Value{resp.NewNull(), resp.NewNullBulk(), resp.NewNullArray()} {
		assert.True(t, v.IsNull())
		assert.Equal(t, resp.Null, v.Kind())
		assert.True(t, resp.NewNull().Equal(v))
	}
	assert.False(t, resp.NewBulkString("").IsNull())
	assert.False(t, resp.NewArray().IsNull())
}

func TestElemsAndAttrs(t *testing.T) {
	m := resp.NewMap(resp.NewSimpleString("a"), resp.NewInt(1))
	assert.Len(t, m.Elems(), 2)
	assert.Equal(t, 1, m.Len())
	assert.Nil(t, m.Attrs())
	assert.Nil(t, resp.NewInt(1).Elems())

	withAttrs := m.WithAttrs(resp.NewSimpleString("ttl"), resp.NewInt(5))
	require.Len(t, withAttrs.Attrs(), 2)
	assert.Nil(t, m.Attrs(), "WithAttrs returns a copy")
	assert.False(t, m.Equal(withAttrs))
	assert.Nil(t, withAttrs.WithAttrs().Attrs())

	elems := []resp.Value{resp.NewInt(1)}
	arr := resp.NewArray(elems...)
	elems[0] = resp.NewInt(2)
	assert.True(t, resp.NewInt(1).Equal(arr.Elems()[0]), "constructors copy their elements")

	// Keys without their values: the constructors must refuse an odd count
	// at run time, whatever length the slice has.
	for _, odd := range [][]resp.Value{
		{resp.NewInt(1)},
		{resp.NewInt(1), resp.NewInt(2), resp.NewInt(3)},
	} {
		assert.Panics(t, func() { resp.NewMap(odd...) }, "NewMap of %d values", len(odd))
		assert.Panics(t, func() { resp.NewInt(1).WithAttrs(odd...) }, "WithAttrs of %d values", len(odd))
	}
	assert.Panics(t, func() { resp.NewVerbatim("text", "x") })
}

func TestEqual(t *testing.T) {
	assert.True(t, resp.NewDouble(math.NaN()).Equal(resp.NewDouble(math.NaN())))
	assert.False(t, resp.NewDouble(0).Equal(resp.NewInt(0)))
	assert.False(t, resp.NewBulkString("a").Equal(resp.NewSimpleString("a")))
	assert.False(t, resp.NewArray(resp.NewInt(1)).Equal(resp.NewArray(resp.NewInt(2))))
	assert.False(t, resp.NewArray(resp.NewInt(1)).Equal(resp.NewSet(resp.NewInt(1))))
	assert.False(t, resp.NewInt(1).WithAttrs(resp.NewInt(1), resp.NewInt(2)).
		Equal(resp.NewInt(1).WithAttrs(resp.NewInt(1), resp.NewInt(3))))
}

func TestValueString(t *testing.T) {
	tests := []struct {
		v    resp.Value
		want string
	}{
		{resp.NewSimpleString("OK"), "OK"},
		{resp.NewBulkString("a\"b\n\x01"), `"a\"b\n\x01"`},
		{resp.NewInt(1), "(integer) 1"},
		{resp.NewNull(), "(nil)"},
		{resp.NewNullArray(), "(nil)"},
		{resp.NewSimpleError("ERR bad"), "(error) ERR bad"},
		{resp.NewBulkError("SYNTAX x"), "(error) SYNTAX x"},
		{resp.NewBool(true), "(true)"},
		{resp.NewDouble(3.141), "(double) 3.141"},
		{resp.NewBigNumber("123"), "(big number) 123"},
		{resp.NewVerbatim("txt", "line one\nline two"), "line one\nline two"},
		{resp.NewArray(), "(empty array)"},
		{resp.NewMap(), "(empty hash)"},
		{resp.NewSet(), "(empty set)"},
		{resp.NewArray(resp.NewBulkString("a"), resp.NewInt(2)), "1) \"a\"\n2) (integer) 2"},
		{resp.NewSet(resp.NewInt(0), resp.NewInt(1)), "1~ (integer) 0\n2~ (integer) 1"},
		{resp.NewMap(resp.NewBulkString("k"), resp.NewArray(resp.NewInt(1), resp.NewInt(2)), resp.NewBulkString("j"), resp.NewNull()),
			"1# \"k\" => 1) (integer) 1\n   2) (integer) 2\n2# \"j\" => (nil)"},
		{resp.NewArray(resp.NewArray(resp.NewBulkString("x"), resp.NewBulkString("y")), resp.NewBulkString("z")),
			"1) 1) \"x\"\n   2) \"y\"\n2) \"z\""},
		{resp.NewArray(make10()...), " 1) (integer) 0\n 2) (integer) 1\n 3) (integer) 2\n 4) (integer) 3\n 5) (integer) 4\n" +
			" 6) (integer) 5\n 7) (integer) 6\n 8) (integer) 7\n 9) (integer) 8\n10) (integer) 9"},
		{resp.NewBulkString("v").WithAttrs(resp.NewBulkString("ttl"), resp.NewInt(3)), "| \"ttl\" => (integer) 3\n\"v\""},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.v.String())
	}
}

func make10() []resp.Value {
	var vs []resp.Value
	for i := range 10 {
		vs = append(vs, resp.NewInt(int64(i)))
	}
	return vs
}

// TestArrayOf: ArrayOf holds the caller's slice itself, where NewArray
// holds a copy; an empty one is the empty array either way.
func TestArrayOf(t *testing.T) {
	elems := []resp.Value{resp.NewInt(1), resp.NewBulkString("b")}
	v := resp.ArrayOf(elems)
	assert.Equal(t, resp.Array, v.Kind())
	assert.True(t, v.Equal(resp.NewArray(elems...)))
	assert.Same(t, &elems[0], &v.Elems()[0], "no copy")
	assert.True(t, resp.ArrayOf(nil).Equal(resp.NewArray()))
	assert.Equal(t, []byte("*0\r\n"), resp.AppendValue(nil, resp.ArrayOf([]resp.Value{})))
}

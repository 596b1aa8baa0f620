package resp_test

import (
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

var (
	bulk = resp.NewBulkString
	num  = resp.NewInt
)

// nulls are the three nulls a server sends: each must fail every helper
// with ErrNull, and differ from an empty string or an empty array.
var nulls = []resp.Value{resp.NewNull(), resp.NewNullBulk(), resp.NewNullArray()}

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		v    resp.Value
		want string
	}{
		{bulk("v"), "v"},
		{bulk("a\r\n\x00b"), "a\r\n\x00b"},
		{bulk(""), ""},
		{resp.NewSimpleString("OK"), "OK"},
		{resp.NewVerbatim("txt", "report"), "report"},
		{resp.NewDouble(1.5), "1.5"},
		{resp.NewBigNumber("12345678901234567890"), "12345678901234567890"},
	} {
		b, err := tc.v.Bytes()
		require.NoError(t, err, "%v", tc.v)
		assert.Equal(t, []byte(tc.want), b)
		assert.NotNil(t, b, "an empty string is not null")
	}
	for _, v := range nulls {
		b, err := v.Bytes()
		assert.Nil(t, b)
		assert.ErrorIs(t, err, resp.ErrNull)
		assert.ErrorIs(t, err, resp.ErrWrongKind)
	}
	_, err := num(1).Bytes()
	assert.ErrorIs(t, err, resp.ErrWrongKind)
	assert.NotErrorIs(t, err, resp.ErrNull)
	assert.EqualError(t, err, "resp: Bytes on integer")
	_, err = resp.NewArray(bulk("a")).Bytes()
	assert.ErrorIs(t, err, resp.ErrWrongKind)
}

// TestAccessorsOnNull: every accessor of a null, not only the helpers,
// wraps ErrNull, so a GET of a missing key is tested with errors.Is.
func TestAccessorsOnNull(t *testing.T) {
	for _, v := range nulls {
		_, err := v.Text()
		assert.ErrorIs(t, err, resp.ErrNull)
		_, err = v.Int()
		assert.ErrorIs(t, err, resp.ErrNull)
		_, err = v.Float()
		assert.ErrorIs(t, err, resp.ErrNull)
		_, err = v.Bool()
		assert.ErrorIs(t, err, resp.ErrNull)
		_, err = v.BigInt()
		assert.ErrorIs(t, err, resp.ErrNull)
	}
	_, err := bulk("x").Int()
	assert.NotErrorIs(t, err, resp.ErrNull)
}

func TestSliceHelpers(t *testing.T) {
	arr := func(vs ...resp.Value) resp.Value { return resp.NewArray(vs...) }
	strs, err := arr(bulk("a"), resp.NewSimpleString("b"), bulk(""), resp.NewVerbatim("txt", "c")).Strings()
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "", "c"}, strs)
	strs, err = resp.NewSet(bulk("x")).Strings()
	require.NoError(t, err)
	assert.Equal(t, []string{"x"}, strs)

	ints, err := arr(num(1), bulk("-2"), resp.NewSimpleString("3")).Int64s()
	require.NoError(t, err)
	assert.Equal(t, []int64{1, -2, 3}, ints)

	floats, err := arr(resp.NewDouble(1.5), num(2), bulk("-inf"), bulk("3.25"), resp.NewDouble(math.Inf(1))).Float64s()
	require.NoError(t, err)
	assert.Equal(t, []float64{1.5, 2, math.Inf(-1), 3.25, math.Inf(1)}, floats)

	// Empty is not null: an empty, non-nil slice.
	for _, get := range []func(resp.Value) (int, error){
		func(v resp.Value) (int, error) { s, err := v.Strings(); return len(s), nonNil(s, err) },
		func(v resp.Value) (int, error) { s, err := v.Int64s(); return len(s), nonNil(s, err) },
		func(v resp.Value) (int, error) { s, err := v.Float64s(); return len(s), nonNil(s, err) },
	} {
		n, err := get(arr())
		require.NoError(t, err)
		assert.Zero(t, n)
		for _, v := range nulls {
			_, err := get(v)
			assert.ErrorIs(t, err, resp.ErrNull)
		}
	}

	for _, tc := range []struct {
		name string
		err  error
		msg  string
		null bool
	}{
		{"Strings of a map", second(resp.NewMap(bulk("k"), bulk("v")).Strings()), "resp: Strings on map", false},
		{"Strings of a string", second(bulk("a").Strings()), "resp: Strings on bulk string", false},
		{"Strings with a null element (MGET)", second(arr(bulk("a"), resp.NewNullBulk()).Strings()), "resp: Strings: element 1 is null", true},
		{"Strings with an integer", second(arr(num(1)).Strings()), "resp: Strings: element 0 is of kind integer", false},
		{"Strings with an array", second(arr(arr()).Strings()), "element 0 is of kind array", false},
		{"Int64s with a word", second(arr(num(1), bulk("abc")).Int64s()), `resp: Int64s: element 1 is the bulk string "abc"`, false},
		{"Int64s with a double", second(arr(resp.NewDouble(1)).Int64s()), "element 0 is of kind double", false},
		{"Float64s with a word", second(arr(bulk("x1")).Float64s()), `resp: Float64s: element 0 is the bulk string "x1"`, false},
		{"Float64s with a null (ZMSCORE of a missing member)", second(arr(resp.NewDouble(1), resp.NewNull()).Float64s()), "element 1 is null", true},
		{"Int64s of an integer", second(num(1).Int64s()), "resp: Int64s on integer", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Error(t, tc.err)
			assert.ErrorIs(t, tc.err, resp.ErrWrongKind)
			assert.Equal(t, tc.null, errors.Is(tc.err, resp.ErrNull))
			assert.Contains(t, tc.err.Error(), tc.msg)
		})
	}
}

func nonNil[T any](s []T, err error) error {
	if err == nil && s == nil {
		return errors.New("nil slice for an empty array")
	}
	return err
}

func TestStringMap(t *testing.T) {
	want := map[string]string{"field": "value", "n": "1", "empty": ""}
	for _, v := range []resp.Value{
		resp.NewMap(bulk("field"), bulk("value"), bulk("n"), bulk("1"), bulk("empty"), bulk("")),
		resp.NewArray(bulk("field"), bulk("value"), bulk("n"), bulk("1"), bulk("empty"), bulk("")),
		resp.NewArray(resp.NewSimpleString("field"), resp.NewVerbatim("txt", "value"), bulk("n"), resp.NewSimpleString("1"), bulk("empty"), bulk("")),
	} {
		m, err := v.StringMap()
		require.NoError(t, err, "%v", v)
		assert.Equal(t, want, m)
	}
	m, err := resp.NewMap(bulk("k"), bulk("1"), bulk("k"), bulk("2")).StringMap()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k": "2"}, m, "a repeated key keeps its last value")
	for _, empty := range []resp.Value{resp.NewMap(), resp.NewArray()} {
		m, err := empty.StringMap()
		require.NoError(t, err)
		assert.NotNil(t, m)
		assert.Empty(t, m)
	}
	for _, v := range nulls {
		_, err := v.StringMap()
		assert.ErrorIs(t, err, resp.ErrNull)
	}

	for _, tc := range []struct {
		v    resp.Value
		msg  string
		null bool
	}{
		{resp.NewArray(bulk("k"), bulk("v"), bulk("odd")), "resp: StringMap: an array of 3 elements is no list of keys and values", false},
		{resp.NewMap(bulk("k"), resp.NewArray()), "resp: StringMap: element 1 is of kind array", false},
		{resp.NewMap(num(1), bulk("v")), "element 0 is of kind integer", false},
		{resp.NewArray(bulk("k"), resp.NewNullBulk()), "element 1 is null", true},
		{resp.NewSet(bulk("k"), bulk("v")), "resp: StringMap on set", false},
		{bulk("k"), "resp: StringMap on bulk string", false},
	} {
		_, err := tc.v.StringMap()
		require.Error(t, err, "%v", tc.v)
		assert.ErrorIs(t, err, resp.ErrWrongKind)
		assert.Equal(t, tc.null, errors.Is(err, resp.ErrNull), "%v", err)
		assert.Contains(t, err.Error(), tc.msg)
	}
}

// TestHelpersReturnServerErrors: on an error reply every helper returns
// the *Error itself, so one check after Do covers both.
func TestHelpersReturnServerErrors(t *testing.T) {
	for _, v := range []resp.Value{resp.NewSimpleError("WRONGTYPE Operation against a key holding the wrong kind of value"), resp.NewBulkError("WRONGTYPE x")} {
		for name, err := range map[string]error{
			"Bytes":     second(v.Bytes()),
			"Strings":   second(v.Strings()),
			"Int64s":    second(v.Int64s()),
			"Float64s":  second(v.Float64s()),
			"StringMap": second(v.StringMap()),
		} {
			var re *resp.Error
			require.ErrorAs(t, err, &re, name)
			assert.Equal(t, "WRONGTYPE", re.Code, name)
			assert.NotErrorIs(t, err, resp.ErrWrongKind, name)
		}
	}
}

// TestLiveHelpers runs real commands under HELLO 3 and HELLO 2, where the
// same command answers with different kinds (a map or a flat array, a
// double or a bulk string, a set or an array), and reads every reply with
// the helpers.
func TestLiveHelpers(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			c := dialRaw(t, proto)
			key := func(name string) string { return "helpers:" + t.Name() + ":" + name }
			c.do("DEL", key("s"), key("h"), key("z"), key("l"), key("set"), key("missing"))

			binary := "a\x00b\r\nc\xff"
			require.NoError(t, c.do("SET", key("s"), binary).Err())
			b, err := c.do("GET", key("s")).Bytes()
			require.NoError(t, err)
			assert.Equal(t, []byte(binary), b)
			require.NoError(t, c.do("SET", key("empty"), "").Err())
			b, err = c.do("GET", key("empty")).Bytes()
			require.NoError(t, err)
			assert.Equal(t, []byte{}, b, "an empty value is no missing key")

			_, err = c.do("GET", key("missing")).Bytes()
			assert.ErrorIs(t, err, resp.ErrNull, "GET of a missing key")
			_, err = c.do("GET", key("missing")).Text()
			assert.ErrorIs(t, err, resp.ErrNull)

			require.NoError(t, c.do("HSET", key("h"), "f1", "v1", "f2", "", "n", "3").Err())
			m, err := c.do("HGETALL", key("h")).StringMap()
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"f1": "v1", "f2": "", "n": "3"}, m)
			m, err = c.do("HGETALL", key("missing")).StringMap()
			require.NoError(t, err)
			assert.Empty(t, m)
			m, err = c.do("CONFIG", "GET", "maxmemory*").StringMap()
			require.NoError(t, err)
			assert.Contains(t, m, "maxmemory-policy")

			_, err = c.do("HGETALL", key("s")).StringMap()
			var re *resp.Error
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "WRONGTYPE", re.Code)

			require.NoError(t, c.do("SADD", key("set"), "a", "b").Err())
			members, err := c.do("SMEMBERS", key("set")).Strings()
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{"a", "b"}, members)
			flags, err := c.do("SMISMEMBER", key("set"), "a", "zz").Int64s()
			require.NoError(t, err)
			assert.Equal(t, []int64{1, 0}, flags)

			require.NoError(t, c.do("RPUSH", key("l"), "10", "-20", "x").Err())
			ints, err := c.do("LRANGE", key("l"), "0", "1").Int64s()
			require.NoError(t, err)
			assert.Equal(t, []int64{10, -20}, ints)
			_, err = c.do("LRANGE", key("l"), "0", "-1").Int64s()
			assert.ErrorContains(t, err, `resp: Int64s: element 2 is the bulk string "x"`)
			strs, err := c.do("LRANGE", key("missing"), "0", "-1").Strings()
			require.NoError(t, err)
			assert.Equal(t, []string{}, strs)

			require.NoError(t, c.do("ZADD", key("z"), "1.5", "a", "-inf", "b").Err())
			scores, err := c.do("ZMSCORE", key("z"), "a", "b").Float64s()
			require.NoError(t, err)
			assert.Equal(t, []float64{1.5, math.Inf(-1)}, scores)
			_, err = c.do("ZMSCORE", key("z"), "a", "nobody").Float64s()
			assert.ErrorIs(t, err, resp.ErrNull, "a missing member's score")

			mget := c.do("MGET", key("s"), key("missing"))
			_, err = mget.Strings()
			assert.ErrorIs(t, err, resp.ErrNull)
			require.Len(t, mget.Elems(), 2)
			assert.True(t, mget.Elems()[1].IsNull())

			// DEBUG PROTOCOL's types, read with the helpers in either
			// protocol.
			f, err := c.do("DEBUG", "PROTOCOL", "double").Bytes()
			require.NoError(t, err)
			assert.Equal(t, "3.141", string(f))
			_, err = c.do("DEBUG", "PROTOCOL", "null").Bytes()
			assert.ErrorIs(t, err, resp.ErrNull)
			set, err := c.do("DEBUG", "PROTOCOL", "set").Int64s()
			require.NoError(t, err, "a set in RESP3, an array in RESP2")
			assert.Equal(t, []int64{0, 1, 2}, set)
			_, err = c.do("DEBUG", "PROTOCOL", "map").StringMap()
			assert.ErrorContains(t, err, "resp: StringMap: element 0 is of kind integer", "its keys are integers")
			assert.ErrorIs(t, err, resp.ErrWrongKind)
		})
	}
}

package conn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

func TestDoReplies(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	assert.Equal(t, 3, c.Protocol())
	assert.Equal(t, StateOpen, c.State())

	v, err := c.Do(ctx, "SET", "conn:do", "hello")
	require.NoError(t, err)
	assert.Equal(t, "OK", text(t, v))

	v, err = c.Do(ctx, "GET", "conn:do")
	require.NoError(t, err)
	assert.Equal(t, "hello", text(t, v))

	v, err = c.Do(ctx, "GET", "conn:missing")
	require.NoError(t, err)
	assert.True(t, v.IsNull())

	v, err = c.Do(ctx, "HSET", "conn:hash", "f", "1")
	require.NoError(t, err)
	assert.Equal(t, resp.Integer, v.Kind())
	v, err = c.Do(ctx, "HGETALL", "conn:hash")
	require.NoError(t, err)
	assert.Equal(t, resp.Map, v.Kind(), "RESP3 answers HGETALL with a map")
}

func TestDoErrorReply(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	_, err := c.Do(ctx, "SET", "conn:str", "x")
	require.NoError(t, err)

	v, err := c.Do(ctx, "LPUSH", "conn:str", "y")
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "WRONGTYPE", re.Code)
	assert.Equal(t, resp.SimpleError, v.Kind(), "the error reply is returned as the value too")

	// The connection stays in step after an error reply.
	v, err = c.Do(ctx, "GET", "conn:str")
	require.NoError(t, err)
	assert.Equal(t, "x", text(t, v))
}

func TestDoRefusesWhatItCannotMatch(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	_, err := c.Do(ctx)
	assert.ErrorIs(t, err, errEmptyCommand)
	for _, name := range []string{"SUBSCRIBE", "psubscribe", "SSubscribe", "UNSUBSCRIBE", "punsubscribe", "SUNSUBSCRIBE"} {
		_, err := c.Do(ctx, name, "ch")
		assert.ErrorContains(t, err, "use Send", name)
		_, err = c.DoMulti(ctx, []string{"PING"}, []string{name, "ch"})
		assert.ErrorContains(t, err, "use Send", name)
	}
	_, err = c.DoMulti(ctx, []string{"PING"}, nil)
	assert.ErrorIs(t, err, errEmptyCommand)

	// Names that only look alike go through.
	for _, args := range [][]string{{"PING"}, {"ECHO", "subscribe"}} {
		_, err := c.Do(ctx, args...)
		assert.NoError(t, err, args)
	}
	_, err = c.Do(ctx, "XSUBSCRIBE")
	var re *resp.Error
	assert.ErrorAs(t, err, &re, "an unknown command is the server's to refuse")
}

func TestDoMulti(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	vals, err := c.DoMulti(ctx,
		[]string{"DEL", "conn:multi"},
		[]string{"MULTI"},
		[]string{"INCR", "conn:multi"},
		[]string{"INCRBY", "conn:multi", "10"},
		[]string{"EXEC"},
		[]string{"LPUSH", "conn:multi", "x"},
	)
	require.NoError(t, err)
	require.Len(t, vals, 6)
	assert.Equal(t, "OK", text(t, vals[1]))
	assert.Equal(t, "QUEUED", text(t, vals[2]))
	exec := vals[4].Elems()
	require.Len(t, exec, 2)
	n, err := exec[1].Int()
	require.NoError(t, err)
	assert.EqualValues(t, 11, n)
	var re *resp.Error
	assert.ErrorAs(t, vals[5].Err(), &re, "error replies stay in the values")

	vals, err = c.DoMulti(ctx)
	assert.NoError(t, err)
	assert.Empty(t, vals)
}

// TestDoNilContextPanics: a nil context panics, as in the standard library
// (the documented behaviour), before anything is queued: the Conn stays
// usable.
func TestDoNilContextPanics(t *testing.T) {
	c := dialTest(t, nil)
	//lint:ignore SA1012 the nil context is what this test is about
	assert.Panics(t, func() { _, _ = c.Do(nil, "PING") })
	//lint:ignore SA1012 the nil context is what this test is about
	assert.Panics(t, func() { _, _ = c.DoMulti(nil, []string{"PING"}) })
	v, err := c.Do(testContext(t), "PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", text(t, v))
}

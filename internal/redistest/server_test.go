package redistest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServerAnswers(t *testing.T) {
	ctx := context.Background()
	n := Server()
	v, err := n.Do(ctx, "SET", "k", "v")
	require.NoError(t, err)
	require.Equal(t, "OK", must(v.Text()))
	v, err = n.Do(ctx, "GET", "k")
	require.NoError(t, err)
	require.Equal(t, "v", must(v.Text()))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

package pubsub

import (
	"testing"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMessageBufferOption(t *testing.T) {
	ctx := testContext(t)
	addr := redistest.Server().Addr
	for _, tc := range []struct {
		opts *Options
		want int
	}{
		{nil, DefaultMessageBuffer},
		{&Options{}, DefaultMessageBuffer},
		{&Options{MessageBuffer: 1}, 1},
		{&Options{MessageBuffer: 10_000}, 10_000},
	} {
		s, err := NewWithOptions(ctx, addr, nil, tc.opts)
		require.NoError(t, err)
		assert.Equal(t, tc.want, cap(s.Messages()), "%+v", tc.opts)
		require.NoError(t, s.Close())
	}
	_, err := NewWithOptions(ctx, addr, nil, &Options{MessageBuffer: -1})
	assert.ErrorContains(t, err, "pubsub: Options.MessageBuffer is -1")
	_, err = NewClusterWithOptions(ctx, newClusterClient(t, uniqueName("opts")), &Options{MessageBuffer: -1})
	assert.ErrorContains(t, err, "pubsub: Options.MessageBuffer is -1")
	s, err := NewClusterWithOptions(ctx, newClusterClient(t, uniqueName("opts")), &Options{MessageBuffer: 7})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, 7, cap(s.Messages()))
}

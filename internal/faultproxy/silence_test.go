package faultproxy

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSilenceOpenSilencesOnlyOpenLinks(t *testing.T) {
	p := startProxy(t)
	old, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer old.Close()
	oldReader := bufio.NewReader(old)
	got, err := roundTrip(t, old, oldReader, "before")
	require.NoError(t, err)
	require.Equal(t, "before\n", got)

	p.SilenceOpen()
	require.NoError(t, old.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	_, err = roundTrip(t, old, oldReader, "lost")
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout(), "a silenced link must not answer: %v", err)
	require.Equal(t, 1, p.Conns(), "the silenced link stays open")

	fresh, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer fresh.Close()
	got, err = roundTrip(t, fresh, bufio.NewReader(fresh), "after")
	require.NoError(t, err)
	require.Equal(t, "after\n", got, "a link opened after the silence passes")
}

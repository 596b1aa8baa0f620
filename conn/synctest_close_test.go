package conn

import (
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
)

// TestSynctestClientDoneWaitsForALostConn: Client.Close, made while the
// shared Conn is still closing after the server dropped it (its reader
// held up in a State hook), closes Done only once that Conn has closed, so
// that every StateClosed event (what an OpenTelemetry connection count
// decrements on) has been reported by then.
func TestSynctestClientDoneWaitsForALostConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		hooks := &Hooks{State: func(e StateEvent) {
			if e.To == StateClosing && e.Cause != ErrClosed { // lost, not closed by Close
				<-release
			}
		}}
		s := fakeserver.New(t).Handle(func(c *fakeserver.Conn, cmd []string) {
			if cmd[0] == "DROP" {
				_ = c.Close()
				return
			}
			fakeHandler(c, cmd)
		})
		c, err := newClient(t.Context(), pipeDialer(s, &Options{Hooks: hooks}), 0)
		require.NoError(t, err)
		old := c.current.Load()
		go func() { _, _ = c.Do(t.Context(), "DROP") }()
		synctest.Wait() // the reader is held up in the hook, the Conn closing
		require.Equal(t, StateClosing, old.State())

		closed := make(chan struct{})
		go func() {
			_ = c.Close()
			close(closed)
		}()
		synctest.Wait()
		select {
		case <-c.Done():
			t.Errorf("Done closed while the Client's Conn is %v", old.State())
		default:
		}
		close(release)
		<-closed
		<-c.Done()
		assert.Equal(t, StateClosed, old.State(), "closed by the time Done is")
	})
}

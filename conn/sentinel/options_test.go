package sentinel

import (
	"context"
	"testing"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
)

// The connections to sentinels hear announcements through OnPush: callbacks
// of the user's in Options.Sentinel must not take them.
func TestSentinelOptionsDropCallbacks(t *testing.T) {
	o := Options{Sentinel: conn.Options{
		ClientName:      "kept",
		OnPush:          func(resp.Value) {},
		OnPubSubMessage: func(conn.PubSubMessage) {},
		OnConnect:       func(context.Context, *conn.Conn) error { return nil },
	}}
	so := o.sentinelOptions()
	assert.Equal(t, "kept", so.ClientName)
	assert.Nil(t, so.OnPush)
	assert.Nil(t, so.OnPubSubMessage)
	assert.Nil(t, so.OnConnect)
}

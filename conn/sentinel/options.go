package sentinel

import (
	"errors"
	"fmt"
	"time"

	"github.com/respwire/respwire/conn"
)

// Options configures a Client.
type Options struct {
	// MasterName is the name the sentinels monitor the master under
	// ("sentinel monitor <name> ..."). Required.
	MasterName string
	// Addrs are the sentinels to start from, "host:port". Others are learnt
	// from SENTINEL SENTINELS. At least one is required.
	Addrs []string
	// Sentinel configures the connections to sentinels: Username and
	// Password (a sentinel's own requirepass or ACL user, not the master's),
	// TLSConfig, DialTimeout (which also bounds each question to a
	// sentinel; 0 means 2 s) and ClientName. Its Protocol, DB, OnPush,
	// OnPubSubMessage and OnConnect are not used: sentinel connections speak RESP3, so that
	// one connection both asks questions and hears announcements.
	Sentinel conn.Options
	// Conn configures the connections to the master and the replicas, as
	// for conn.NewClient. Its Logger also gets the Client's own records:
	// master switches, unreachable sentinels (see the package
	// documentation, Logging).
	Conn conn.Options
	// ReadReplicas routes read-only commands (by the flags the server's
	// COMMAND reports, as cluster.Options.ReadReplicas does) to a random
	// replica that the sentinels report up and connected to the master.
	// Blocking commands, transactions and Dedicated always go to the master.
	ReadReplicas bool
}

// defaultSentinelTimeout bounds a dial to a sentinel and a question to it
// when Options.Sentinel.DialTimeout is 0.
const defaultSentinelTimeout = 2 * time.Second

// maxSentinels bounds how many sentinels a Client keeps connections to,
// however many SENTINEL SENTINELS names.
const maxSentinels = 16

func (o *Options) check() error {
	if o.MasterName == "" {
		return errors.New("sentinel: Options.MasterName is empty")
	}
	if len(o.Addrs) == 0 {
		return errors.New("sentinel: Options.Addrs names no sentinel")
	}
	for _, addr := range o.Addrs {
		if addr == "" {
			return fmt.Errorf("sentinel: Options.Addrs holds an empty address")
		}
	}
	return nil
}

// sentinelOptions are the options of every connection to a sentinel.
func (o *Options) sentinelOptions() conn.Options {
	so := o.Sentinel
	so.Protocol = 3
	so.DB = 0
	so.OnPush = nil
	so.OnPubSubMessage = nil // the announcements are OnPush's
	so.OnConnect = nil
	if so.DialTimeout <= 0 {
		so.DialTimeout = defaultSentinelTimeout
	}
	return so
}

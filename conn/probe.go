package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/respwire/respwire/resp"
)

// probeResult is what a fresh connection's PING found out about a server.
type probeResult struct {
	dialErr  error         // the server could not be dialled at all
	answered bool          // a reply came, within the probe's time
	busy     bool          // the reply was BUSY or LOADING: the server is stuck, maybe on our command
	rtt      time.Duration // from writing the PING to its reply
}

// pingCommand is PING, encoded once.
var pingCommand = resp.AppendCommand(nil, "PING")

// dialProbe returns the probe of a Conn dialled to addr: it dials addr
// afresh (with TLS when tlsConfig is not nil), writes PING and reads one
// reply, whatever it is. It authenticates as nobody: a server that wants a
// password answers NOAUTH, which proves it answers just as well.
func dialProbe(addr string, tlsConfig *tls.Config) func(context.Context) probeResult {
	return func(ctx context.Context) probeResult {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() != nil {
				return probeResult{} // out of time: no verdict
			}
			return probeResult{dialErr: err}
		}
		defer nc.Close()
		if deadline, ok := ctx.Deadline(); ok {
			_ = nc.SetDeadline(deadline)
		}
		stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
		defer stop()
		if tlsConfig != nil {
			cfg := tlsConfig
			if cfg.ServerName == "" {
				cfg = cfg.Clone()
				cfg.ServerName, _, _ = net.SplitHostPort(addr)
			}
			tc := tls.Client(nc, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				return probeResult{} // Redis does TLS on its event loop: a busy server stalls here
			}
			nc = tc
		}
		start := time.Now()
		if _, err := nc.Write(pingCommand); err != nil {
			return probeResult{}
		}
		v, err := resp.NewReaderSize(nc, 512).Read()
		if err != nil {
			return probeResult{}
		}
		return probeResult{answered: true, busy: isBusy(v), rtt: time.Since(start)}
	}
}

// isBusy reports whether v is the error of a server that answers but runs
// nothing else now: a long script (BUSY) or loading its data (LOADING).
func isBusy(v resp.Value) bool {
	var re *resp.Error
	if !errors.As(v.Err(), &re) {
		return false
	}
	return re.Code == "BUSY" || re.Code == "LOADING"
}

// String describes r, for tests and logs.
func (r probeResult) String() string {
	switch {
	case r.dialErr != nil:
		return "unreachable: " + r.dialErr.Error()
	case r.busy:
		return fmt.Sprintf("busy, answered in %v", r.rtt)
	case r.answered:
		return fmt.Sprintf("answered in %v", r.rtt)
	}
	return "no answer"
}

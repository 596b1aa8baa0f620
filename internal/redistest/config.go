package redistest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Settings every node gets: no persistence, loopback only, DEBUG allowed
// from loopback, and replication that starts at once instead of waiting for
// more replicas (repl-diskless-sync-delay defaults to 5 s).
var baseConfig = []string{
	"bind 127.0.0.1",
	"daemonize no",
	`save ""`,
	"appendonly no",
	"enable-debug-command local",
	"protected-mode no",
	`logfile ""`,
	"repl-diskless-sync-delay 0",
}

// Settings cluster nodes get: a 2 s node timeout so failures are detected and
// failovers happen within seconds, replicas that may always fail over however
// stale, and replicas that stay with the master they were given.
var clusterConfig = []string{
	"cluster-enabled yes",
	"cluster-config-file nodes.conf",
	"cluster-node-timeout 2000",
	"cluster-replica-validity-factor 0",
	"cluster-allow-replica-migration no",
}

// configFile is the name of the node's redis.conf inside its directory.
const configFile = "redis.conf"

// writeConfig writes the node's redis.conf for its current ports.
func (n *Node) writeConfig() error {
	lines := append([]string(nil), baseConfig...)
	lines = append(lines, "dir "+quoteConfig(n.dir))
	if n.opts.TLS {
		certs, err := harnessCerts()
		if err != nil {
			return err
		}
		if n.tlsConfig, err = ClientTLSConfig(); err != nil {
			return err
		}
		lines = append(lines,
			"port 0",
			"tls-port "+strconv.Itoa(n.Port),
			"tls-cert-file "+quoteConfig(certs.serverCert),
			"tls-key-file "+quoteConfig(certs.serverKey),
			"tls-ca-cert-file "+quoteConfig(certs.caCert),
			"tls-auth-clients optional",
		)
		if n.opts.Cluster {
			lines = append(lines, "tls-cluster yes", "tls-replication yes")
		} else if n.opts.Sentinel {
			lines = append(lines, "tls-replication yes") // TLS to the monitored nodes too
		}
	} else {
		lines = append(lines, "port "+strconv.Itoa(n.Port))
	}
	if n.opts.Cluster {
		lines = append(lines, clusterConfig...)
		lines = append(lines, "cluster-port "+strconv.Itoa(n.busPort))
	}
	if n.opts.Password != "" && n.opts.Sentinel {
		lines = append(lines, "requirepass "+quoteConfig(n.opts.Password))
	} else if n.opts.Password != "" {
		lines = append(lines,
			"requirepass "+quoteConfig(n.opts.Password),
			"masterauth "+quoteConfig(n.opts.Password))
	}
	lines = append(lines, n.opts.Config...)
	data := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(n.dir, configFile), []byte(data), 0o600); err != nil {
		return fmt.Errorf("redistest: write config: %w", err)
	}
	return nil
}

// quoteConfig quotes s for redis.conf, whose parser understands double
// quotes with backslash escapes and \xHH.
func quoteConfig(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

package slots

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/respwire/respwire/resp"
)

// Helpers that read the parts of a reply. Their errors say what was wrong;
// the callers add where, on the way out, so reading a good reply builds no
// error context at all.

// list returns the elements of an array (RESP2 or RESP3) or set.
func list(v resp.Value) ([]resp.Value, error) {
	switch v.Kind() {
	case resp.Array, resp.Set:
		return v.Elems(), nil
	}
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("server error: %w", err)
	}
	return nil, fmt.Errorf("want an array, got %s", v.Kind())
}

// pairs returns the keys and values, alternating, of a RESP3 map or of the
// flat array RESP2 sends in its place.
func pairs(v resp.Value) ([]resp.Value, error) {
	switch v.Kind() {
	case resp.Map:
		return v.Elems(), nil
	case resp.Array:
		if len(v.Elems())%2 != 0 {
			return nil, fmt.Errorf("want keys and values in pairs, got %d elements", len(v.Elems()))
		}
		return v.Elems(), nil
	}
	return nil, fmt.Errorf("want a map, got %s", v.Kind())
}

// text returns a string's text.
func text(v resp.Value) (string, error) {
	s, err := v.Text()
	if err != nil {
		return "", fmt.Errorf("want a string, got %s", v.Kind())
	}
	return s, nil
}

// integer returns an integer, or a string that holds one.
func integer(v resp.Value) (int64, error) {
	n, err := v.Int()
	if err != nil {
		return 0, fmt.Errorf("want an integer, got %s", v.Kind())
	}
	return n, nil
}

// port returns a TCP port, 1 to 65535.
func port(v resp.Value) (int, error) {
	n, err := integer(v)
	if err != nil {
		return 0, err
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("bad port %d", n)
	}
	return int(n), nil
}

// endpoint is what a reply says about where to reach a node.
type endpoint struct {
	preferred string // the endpoint field, when given
	given     bool   // there was an endpoint field, not NULL
	null      bool   // the endpoint field was NULL
	ip        string // the node's IP, when the reply also gives it
}

// set records the endpoint field v: NULL, or a string.
func (e *endpoint) set(v resp.Value) error {
	if v.IsNull() {
		e.null = true
		return nil
	}
	var err error
	e.preferred, err = text(v)
	e.given = err == nil
	return err
}

// host picks the host to dial. With cluster-preferred-endpoint-type
// unknown-endpoint the server sends NULL (CLUSTER SLOTS) or "" (CLUSTER
// SHARDS), meaning "the host you asked". With hostname it sends "?" for a
// node that announced none; its IP is then the best guess, as it is when
// there is no endpoint field at all; failing that, the asked host.
func (e endpoint) host(askedHost string) string {
	switch {
	case e.null || e.given && e.preferred == "":
		return askedHost
	case e.given && e.preferred != "?":
		return e.preferred
	case e.ip != "" && e.ip != "?":
		return e.ip
	}
	return askedHost
}

// askedHost returns the host part of askedAddr, the node that was asked.
func askedHost(askedAddr string) string {
	if host, _, err := net.SplitHostPort(askedAddr); err == nil {
		return host
	}
	return askedAddr
}

// address joins a host and port, or fails when the host is unknown.
func address(host string, port int) (string, error) {
	if host == "" {
		return "", errors.New("endpoint unknown and no asked address to stand in")
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// health maps the server's word for a node's health to ours: Redis 7.0
// says "fail" where the documentation and later versions say "failed".
func health(s string) string {
	switch s {
	case "", HealthOnline:
		return HealthOnline
	case "fail", HealthFailed:
		return HealthFailed
	}
	return s
}

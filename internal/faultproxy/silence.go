package faultproxy

// SilenceOpen silences, for good, every connection open at the moment of the
// call: bytes stop flowing both ways but both sockets stay open, as when a
// NAT or a load balancer forgets a flow. Connections accepted later pass as
// usual. A silenced connection ends only with CutAll, Close, or its client
// or server closing it.
func (p *Proxy) SilenceOpen() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.silenceOnce.Do(func() { close(l.silenced) })
	}
}

// waitSilenced reports whether l has been silenced; if so it blocks until l
// is torn down, so the bytes in hand are never forwarded.
func (l *link) waitSilenced() bool {
	select {
	case <-l.silenced:
	default:
		return false
	}
	select {
	case <-l.gone:
	case <-l.proxy.done:
	}
	return true
}

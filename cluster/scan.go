package cluster

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// ScanOptions narrow a Scan, as SCAN's own options do.
type ScanOptions struct {
	Match string // a glob pattern (MATCH); empty: every key
	Count int    // the work per SCAN call (COUNT); 0: the server's default (10)
	Type  string // only keys of this type (TYPE), such as "string" or "hash"
}

const (
	// scanPasses bounds how many times Scan goes over the masters that
	// gained slots while it ran.
	scanPasses = 4
	// scanRetryWindow bounds how long one master's scan is retried after
	// its node failed, for callers whose context never ends: a failover
	// takes a few seconds (the node timeout, then an election), and calls
	// to a dead node fail at once, so the bound is in time, not in tries.
	scanRetryWindow = 15 * time.Second
)

// Scan walks the keyspace of every master with SCAN, one master after the
// other, yielding each key it finds. It stops at the first error it can't
// get past (the context ended, a master stayed unreachable), which it
// yields, and when the loop body returns false.
//
// Scan survives the cluster changing under it. When a master fails (its
// SCAN calls fail), Scan reads the topology again and scans the new master
// of that master's slots from the start. After going over every master it
// reads the topology again, and scans again each master that gained slots
// since its scan began (a slot migration or a failover finished meanwhile),
// up to four passes. So every key that exists for the whole scan is
// yielded at least once, provided the slot holding it is not migrating when
// the scan ends; keys added or deleted during the scan may or may not be.
//
// A key may be yielded more than once: SCAN itself may return a key twice,
// a master scanned again after a failover yields again what it yielded
// before, and a master that gained slots is scanned again whole. Callers
// that must see each key once keep a set.
func (c *Client) Scan(ctx context.Context, opts *ScanOptions) iter.Seq2[string, error] {
	var o ScanOptions
	if opts != nil {
		o = *opts
	}
	return func(yield func(string, error) bool) {
		s := &scan{c: c, opts: o, yield: yield, owned: make(map[string]*[slots.NumSlots]bool)}
		s.run(ctx)
	}
}

// scan is one run of a Scan iterator.
type scan struct {
	c     *Client
	opts  ScanOptions
	yield func(string, error) bool
	// owned maps a master's address to the slots it served when its last
	// scan began.
	owned map[string]*[slots.NumSlots]bool
}

// run goes over the masters, then again over those that gained slots.
func (s *scan) run(ctx context.Context) {
	if s.c.closed.Load() {
		s.yield("", errClosed)
		return
	}
	todo := mastersOf(s.c.Topology())
	for pass := 0; pass < scanPasses && len(todo) > 0; pass++ {
		for _, m := range todo {
			if !s.scanMaster(ctx, m) {
				return
			}
		}
		topo, err := s.c.Refresh(ctx)
		if err != nil {
			s.yield("", fmt.Errorf("cluster: scan: reading the topology: %w", err))
			return
		}
		todo = todo[:0]
		for _, m := range mastersOf(topo) {
			if s.gained(topo, m.addr) {
				todo = append(todo, m)
			}
		}
	}
}

// scanTarget is a master to scan, and a slot it serves: when the master
// fails, the slot's new master is scanned instead.
type scanTarget struct {
	addr string
	slot uint16
}

// mastersOf returns the masters of topo that serve slots.
func mastersOf(topo *slots.Topology) []scanTarget {
	var list []scanTarget
	for i := range topo.Shards {
		sh := &topo.Shards[i]
		if len(sh.Ranges) > 0 {
			list = append(list, scanTarget{addr: sh.Master.Addr, slot: sh.Ranges[0][0]})
		}
	}
	return list
}

// note records the slots addr serves in topo, as its scan begins.
func (s *scan) note(topo *slots.Topology, addr string) {
	var set [slots.NumSlots]bool
	for i := range topo.Shards {
		sh := &topo.Shards[i]
		if sh.Master.Addr != addr {
			continue
		}
		for _, r := range sh.Ranges {
			for slot := int(r[0]); slot <= int(r[1]); slot++ {
				set[slot] = true
			}
		}
	}
	s.owned[addr] = &set
}

// gained reports whether addr serves in topo a slot it didn't serve when
// its last scan began (or was never scanned).
func (s *scan) gained(topo *slots.Topology, addr string) bool {
	had := s.owned[addr]
	if had == nil {
		return true
	}
	for i := range topo.Shards {
		sh := &topo.Shards[i]
		if sh.Master.Addr != addr {
			continue
		}
		for _, r := range sh.Ranges {
			for slot := int(r[0]); slot <= int(r[1]); slot++ {
				if !had[slot] {
					return true
				}
			}
		}
	}
	return false
}

// scanMaster runs SCAN on m from cursor 0 to 0, yielding keys. When m
// fails it starts again on the new master of m's slot. It returns false
// when the iteration must end.
func (s *scan) scanMaster(ctx context.Context, m scanTarget) bool {
	s.note(s.c.Topology(), m.addr)
	cursor, retries := "0", 0
	var failingSince time.Time
	for {
		v, err := Node{Addr: m.addr, c: s.c}.Do(ctx, s.command(cursor)...)
		if err == nil {
			var keys []string
			cursor, keys, err = parseScanReply(v)
			if err == nil {
				retries, failingSince = 0, time.Time{}
				for _, k := range keys {
					if !s.yield(k, nil) {
						return false
					}
				}
				if cursor == "0" {
					return true
				}
				continue
			}
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
		}
		if ctx.Err() != nil || s.c.closed.Load() || time.Since(failingSince) > scanRetryWindow {
			s.yield("", fmt.Errorf("cluster: scan of %s: %w", m.addr, err))
			return false
		}
		// The master may have failed over: wait, read the topology and
		// start again on whoever serves its slot now.
		retries++
		if berr := s.c.backoff(ctx, retries); berr != nil {
			s.yield("", withCause(berr, err))
			return false
		}
		topo, rerr := s.c.Refresh(ctx)
		if rerr == nil {
			if sh, ok := topo.ShardFor(m.slot); ok {
				m.addr = sh.Master.Addr
			}
			s.note(topo, m.addr)
		}
		cursor = "0"
	}
}

// command builds the SCAN command for cursor.
func (s *scan) command(cursor string) []string {
	args := []string{"SCAN", cursor}
	if s.opts.Match != "" {
		args = append(args, "MATCH", s.opts.Match)
	}
	if s.opts.Count > 0 {
		args = append(args, "COUNT", strconv.Itoa(s.opts.Count))
	}
	if s.opts.Type != "" {
		args = append(args, "TYPE", s.opts.Type)
	}
	return args
}

var errScanReply = errors.New("cluster: malformed SCAN reply")

// parseScanReply reads [cursor, [key ...]].
func parseScanReply(v resp.Value) (cursor string, keys []string, err error) {
	e := v.Elems()
	if len(e) != 2 {
		return "", nil, fmt.Errorf("%w: %d elements", errScanReply, len(e))
	}
	if cursor, err = e[0].Text(); err != nil {
		return "", nil, fmt.Errorf("%w: cursor: %v", errScanReply, err)
	}
	keys = make([]string, 0, len(e[1].Elems()))
	for _, k := range e[1].Elems() {
		key, err := k.Text()
		if err != nil {
			return "", nil, fmt.Errorf("%w: key: %v", errScanReply, err)
		}
		keys = append(keys, key)
	}
	return cursor, keys, nil
}

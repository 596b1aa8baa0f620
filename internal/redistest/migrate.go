package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
)

// Migration is a slot being moved from one master to another, for tests
// that want to see the cluster half-way (ASK redirections): after
// StartMigration the source answers ASK for keys it no longer has; MoveKeys
// moves some or all keys; Finish moves the rest and hands the slot over.
type Migration struct {
	c        *TestCluster
	Slot     int
	From, To *Node
	toHost   string // as the cluster knows the target, for MIGRATE
	toPort   string
}

// migrateBatch is how many keys one MIGRATE moves.
const migrateBatch = 100

// migrateTimeout is MIGRATE's own timeout, in milliseconds.
const migrateTimeout = "5000"

// MigrateSlot moves slot, with its keys, to the master to: SETSLOT
// IMPORTING on the target, MIGRATING on the source, MIGRATE of every key,
// then SETSLOT NODE on the target, the source and the other masters. It
// returns once every running node agrees that to owns the slot. Moving a
// slot to its owner does nothing.
func (c *TestCluster) MigrateSlot(ctx context.Context, slot int, to *Node) error {
	m, err := c.startMigration(ctx, slot, to)
	if err != nil || m == nil {
		return err
	}
	return m.Finish(ctx)
}

// StartMigration marks slot as importing on to and migrating on its
// current owner, and moves no key.
func (c *TestCluster) StartMigration(ctx context.Context, slot int, to *Node) (*Migration, error) {
	m, err := c.startMigration(ctx, slot, to)
	if err == nil && m == nil {
		err = fmt.Errorf("redistest: slot %d already belongs to %s", slot, to)
	}
	return m, err
}

// startMigration is StartMigration, returning no Migration and no error if
// to owns the slot already.
func (c *TestCluster) startMigration(ctx context.Context, slot int, to *Node) (*Migration, error) {
	if err := checkSlot(slot); err != nil {
		return nil, err
	}
	v, err := c.anyView(ctx)
	if err != nil {
		return nil, err
	}
	from, err := c.ownerIn(v, slot)
	if err != nil {
		return nil, err
	}
	if from == to {
		return nil, nil
	}
	target := v.nodes[to.ID]
	if target == nil || !target.isMaster() {
		return nil, fmt.Errorf("redistest: %s is not a master of the cluster", to)
	}
	m := &Migration{c: c, Slot: slot, From: from, To: to}
	if m.toHost, m.toPort, err = net.SplitHostPort(target.addr); err != nil {
		return nil, fmt.Errorf("redistest: address of %s: %w", to, err)
	}
	s := strconv.Itoa(slot)
	if _, err := to.Do(ctx, "CLUSTER", "SETSLOT", s, "IMPORTING", from.ID); err != nil {
		return nil, err
	}
	if _, err := from.Do(ctx, "CLUSTER", "SETSLOT", s, "MIGRATING", to.ID); err != nil {
		return nil, err
	}
	return m, nil
}

// MoveKeys moves the named keys (they must hash to the slot), or with no
// names every key the source still holds in the slot.
func (m *Migration) MoveKeys(ctx context.Context, keys ...string) error {
	if len(keys) > 0 {
		return m.migrate(ctx, keys)
	}
	for {
		v, err := m.From.Do(ctx, "CLUSTER", "GETKEYSINSLOT", strconv.Itoa(m.Slot), strconv.Itoa(migrateBatch))
		if err != nil {
			return err
		}
		if len(v.Elems()) == 0 {
			return nil
		}
		batch := make([]string, len(v.Elems()))
		for i, e := range v.Elems() {
			if batch[i], err = e.Text(); err != nil {
				return fmt.Errorf("redistest: GETKEYSINSLOT: %w", err)
			}
		}
		if err := m.migrate(ctx, batch); err != nil {
			return err
		}
	}
}

// migrate moves keys from the source to the target, replacing copies the
// target may already have.
func (m *Migration) migrate(ctx context.Context, keys []string) error {
	args := []string{"MIGRATE", m.toHost, m.toPort, "", "0", migrateTimeout, "REPLACE"}
	if pw := m.To.Password(); pw != "" {
		args = append(args, "AUTH", pw)
	}
	args = append(args, "KEYS")
	args = append(args, keys...)
	if _, err := m.From.Do(ctx, args...); err != nil {
		return fmt.Errorf("redistest: MIGRATE slot %d from %s to %s: %w", m.Slot, m.From, m.To, err)
	}
	return nil
}

// Finish moves the keys left, assigns the slot to the target on the target,
// the source and every other running master, and waits until every running
// node agrees.
func (m *Migration) Finish(ctx context.Context) error {
	if err := m.MoveKeys(ctx); err != nil {
		return err
	}
	s := strconv.Itoa(m.Slot)
	assign := func(n *Node) error {
		_, err := n.Do(ctx, "CLUSTER", "SETSLOT", s, "NODE", m.To.ID)
		return err
	}
	if err := assign(m.To); err != nil {
		return err
	}
	if err := assign(m.From); err != nil {
		return err
	}
	v, err := m.c.anyView(ctx)
	if err != nil {
		return err
	}
	for _, n := range m.c.withRole(v, true) {
		if n != m.To && n != m.From && n.Running() {
			if err := assign(n); err != nil {
				return err
			}
		}
	}
	err = poll(ctx, func(ctx context.Context) error {
		return eachNode(m.c.running(), func(_ int, n *Node) error {
			v, err := n.view(ctx)
			if err != nil {
				return err
			}
			if owner := v.owners[m.Slot]; owner != m.To.ID {
				return fmt.Errorf("%s: slot %d belongs to %s", n, m.Slot, owner)
			}
			self := v.nodes[v.self]
			if _, ok := self.migrating[m.Slot]; ok {
				return fmt.Errorf("%s: slot %d still migrating", n, m.Slot)
			}
			if _, ok := self.importing[m.Slot]; ok {
				return fmt.Errorf("%s: slot %d still importing", n, m.Slot)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("redistest: slot %d to %s: %w", m.Slot, m.To, err)
	}
	return nil
}

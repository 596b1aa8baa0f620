package conn

import (
	"context"
	"fmt"
)

// Reauthenticate asks Options.Credentials again (or takes Username and
// Password) and authenticates the Client's live connections with the
// answer: for tokens that a server stops honouring on connections that don't
// authenticate again, and for moving a Client to another user without
// dropping its connection. The shared Conn is sent AUTH, which queues behind
// the commands already sent and holds none up. Idle dedicated Conns are
// closed, to be dialled afresh (with the new credentials) when needed; those
// on loan to a blocking command or Dedicated keep their authentication until
// they are redialled. With no password there is nothing to do.
//
// A refusal is returned as the server's *resp.Error (WRONGPASS), wrapped;
// the connection then stays authenticated as it was. The password never
// appears in the error. A shared Conn being redialled fails it unsent
// (SafeToRetry): the redial asks the credentials afresh anyway.
func (c *Client) Reauthenticate(ctx context.Context) error {
	if c.credentials == nil {
		return nil
	}
	user, password, err := c.credentials(ctx)
	if err != nil || password == "" {
		return err
	}
	args := []string{"AUTH", password}
	if user != "" {
		args = []string{"AUTH", user, password}
	}
	cn := c.current.Load()
	_, err = cn.Do(ctx, args...)
	c.pool.dropIdle()
	if err != nil {
		return fmt.Errorf("conn: reauthenticate with %s: %w", cn.Addr(), err)
	}
	return nil
}

// dropIdle closes the pool's idle Conns; the next get dials a new one.
func (p *connPool) dropIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, cn := range idle {
		_ = cn.Close()
	}
}

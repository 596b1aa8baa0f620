package apptest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// RateLimiter allows Limit calls per Window for each user, counted in a
// fixed window: one counter per user and window, INCR then EXPIRE NX in one
// transaction. Now is the clock (time.Now when nil).
type RateLimiter struct {
	DB     conn.Universal
	Limit  int64
	Window time.Duration
	Now    func() time.Time
}

// Allow counts one call of user's and reports whether it is within the
// limit.
func (l *RateLimiter) Allow(ctx context.Context, user string) (bool, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	window := now().UnixMilli() / l.Window.Milliseconds()
	// The {user} hash tag keeps the transaction's keys in one slot.
	key := "ratelimit:{" + user + "}:" + strconv.FormatInt(window, 10)
	replies, err := l.DB.DoMultiCmd(ctx,
		conn.Cmd("MULTI"),
		conn.Cmd("INCR", key),
		conn.Cmd("PEXPIRE", key).Int(l.Window.Milliseconds()).Arg("NX"),
		conn.Cmd("EXEC"))
	if err != nil {
		return false, err
	}
	exec := replies[len(replies)-1]
	if err := exec.Err(); err != nil {
		return false, err
	}
	if len(exec.Elems()) != 2 {
		return false, fmt.Errorf("apptest: EXEC answered %v", exec)
	}
	count, err := exec.Elems()[0].Int()
	if err != nil {
		return false, err
	}
	return count <= l.Limit, nil
}

// Queue is a reliable job queue: Take moves a job from the pending list to
// the processing list (BLMOVE), where it stays until Ack, so a worker that
// dies mid-job leaves it to be found.
type Queue struct {
	DB   conn.Universal
	Name string
}

func (q *Queue) pending() string    { return "queue:{" + q.Name + "}:pending" }
func (q *Queue) processing() string { return "queue:{" + q.Name + "}:processing" }

// Push adds a job.
func (q *Queue) Push(ctx context.Context, job []byte) error {
	_, err := q.DB.DoCmd(ctx, conn.Cmd("LPUSH", q.pending()).Bytes(job))
	return err
}

// ErrNoJob is what Take returns when no job came within its timeout.
var ErrNoJob = errors.New("apptest: no job")

// Take waits up to timeout (0: for ever, within ctx) for a job and moves it
// to the processing list.
func (q *Queue) Take(ctx context.Context, timeout time.Duration) ([]byte, error) {
	v, err := q.DB.DoCmd(ctx, conn.Cmd("BLMOVE", q.pending(), q.processing(), "RIGHT", "LEFT").Float(timeout.Seconds()))
	if err != nil {
		return nil, err
	}
	if v.IsNull() {
		return nil, ErrNoJob
	}
	s, err := v.Text()
	return []byte(s), err
}

// Ack removes a finished job from the processing list.
func (q *Queue) Ack(ctx context.Context, job []byte) error {
	v, err := q.DB.DoCmd(ctx, conn.Cmd("LREM", q.processing()).Int(1).Bytes(job))
	if err != nil {
		return err
	}
	if n, err := v.Int(); err != nil || n != 1 {
		return fmt.Errorf("apptest: ack of a job not in processing (%v)", v)
	}
	return nil
}

// Sessions stores sessions as hashes that expire TTL after they were last
// saved or touched.
type Sessions struct {
	DB  conn.Universal
	TTL time.Duration
}

func sessionKey(id string) string { return "session:" + id }

// Save writes fields into session id and restarts its TTL, in one batch.
func (s *Sessions) Save(ctx context.Context, id string, fields map[string]string) error {
	hset := conn.Cmd("HSET", sessionKey(id))
	for k, v := range fields {
		hset = hset.Arg(k).Arg(v)
	}
	replies, err := s.DB.DoMultiCmd(ctx, hset, conn.Cmd("PEXPIRE", sessionKey(id)).Int(s.TTL.Milliseconds()))
	if err != nil {
		return err
	}
	for _, r := range replies {
		if err := r.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Load returns session id's fields; an expired or unknown session has none.
func (s *Sessions) Load(ctx context.Context, id string) (map[string]string, error) {
	v, err := s.DB.DoCmd(ctx, conn.Cmd("HGETALL", sessionKey(id)))
	if err != nil {
		return nil, err
	}
	return pairs(v)
}

// Touch restarts session id's TTL and reports whether the session exists.
func (s *Sessions) Touch(ctx context.Context, id string) (bool, error) {
	v, err := s.DB.DoCmd(ctx, conn.Cmd("PEXPIRE", sessionKey(id)).Int(s.TTL.Milliseconds()))
	if err != nil {
		return false, err
	}
	n, err := v.Int()
	return n == 1, err
}

// pairs reads a map reply: a RESP3 map, or a RESP2 array of keys and
// values alternating (Elems gives both the same way).
func pairs(v resp.Value) (map[string]string, error) {
	elems := v.Elems()
	if len(elems)%2 != 0 {
		return nil, fmt.Errorf("apptest: %d elements are no map", len(elems))
	}
	m := make(map[string]string, len(elems)/2)
	for i := 0; i < len(elems); i += 2 {
		k, err := elems[i].Text()
		if err != nil {
			return nil, err
		}
		val, err := elems[i+1].Text()
		if err != nil {
			return nil, err
		}
		m[k] = val
	}
	return m, nil
}

// releaseScript deletes a lock only if it still holds the caller's token,
// so a caller whose lock expired can't release another's.
var releaseScript = conn.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`)

// Lock is a lease on a name: Acquire sets it with a random token and a TTL,
// Release deletes it by script, if the token is still there.
type Lock struct {
	DB conn.Universal
}

// Acquire takes the lock name for ttl with token, and reports whether it
// got it.
func (l *Lock) Acquire(ctx context.Context, name string, token []byte, ttl time.Duration) (bool, error) {
	v, err := l.DB.DoCmd(ctx, conn.Cmd("SET", "lock:"+name).Bytes(token).Arg("NX").Arg("PX").Int(ttl.Milliseconds()))
	if err != nil {
		return false, err
	}
	return !v.IsNull(), nil
}

// Release gives the lock up if token still holds it, and reports whether it
// did.
func (l *Lock) Release(ctx context.Context, name string, token []byte) (bool, error) {
	v, err := releaseScript.RunCmd(ctx, l.DB, releaseScript.Cmd("lock:"+name).Bytes(token))
	if err != nil {
		return false, err
	}
	n, err := v.Int()
	return n == 1, err
}

// AddIfBelow adds delta to the counter key, unless that would take it past
// limit, with WATCH so that concurrent callers never overshoot. It reports
// whether it added, and retries when another caller changed the counter
// meanwhile.
func AddIfBelow(ctx context.Context, db conn.Universal, key string, delta, limit int64) (bool, error) {
	for {
		added, committed := false, false
		err := db.Watch(ctx, func(tx conn.Doer) error {
			v, err := tx.DoCmd(ctx, conn.Cmd("GET", key))
			if err != nil {
				return err
			}
			n := int64(0)
			if !v.IsNull() {
				if n, err = v.Int(); err != nil {
					return err
				}
			}
			if n+delta > limit {
				committed = true
				return nil
			}
			replies, err := tx.DoMultiCmd(ctx, conn.Cmd("MULTI"), conn.Cmd("SET", key).Int(n+delta), conn.Cmd("EXEC"))
			if err != nil {
				return err
			}
			committed = !replies[2].IsNull()
			added = committed
			return replies[2].Err()
		}, key)
		if err != nil || committed {
			return added, err
		}
	}
}

package cluster

import "github.com/respwire/respwire/resp"

// refusedUnrun looks at the replies of one transaction (MULTI, the queued
// commands, then EXEC or DISCARD) and returns the error to follow when the
// node refused the transaction without running any of it: the MOVED, ASK,
// TRYAGAIN, CLUSTERDOWN or LOADING that EXEC answered (the server then
// discards the transaction), or, when EXEC answered EXECABORT, the first of
// those that a queued command got (the server refused to queue it, which
// aborts the transaction). It returns nil in every other case, and then the
// transaction must not be sent again:
//   - EXEC ran it (an array), or a WATCH made it return null;
//   - it ended with DISCARD, or EXECABORT had another cause (a syntax error);
//   - MULTI itself was refused: the "queued" commands then ran one by one.
func refusedUnrun(replies []resp.Value) error {
	if len(replies) < 2 || replies[0].Err() != nil {
		return nil
	}
	end, ok := replies[len(replies)-1].Err().(*resp.Error)
	if !ok {
		return nil
	}
	if followed(end.Code) {
		return end
	}
	if end.Code != "EXECABORT" {
		return nil
	}
	for _, v := range replies[1 : len(replies)-1] {
		if re, ok := v.Err().(*resp.Error); ok && followed(re.Code) {
			return re
		}
	}
	return nil
}

// followed reports whether the error code is one the client follows (a
// redirect) or retries (a transient state of the cluster).
func followed(code string) bool {
	switch code {
	case "MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN", "LOADING":
		return true
	}
	return false
}

// Package chaos holds respwire's fault tests: continuous load on a real
// cluster while a fault is injected (a master killed, a failover, slots
// migrating, a black-holed node, every connection killed, a server asleep,
// the open links of a Subscriber silenced while new links pass),
// TLS with verification, ACL limits and password hygiene, and hostile
// servers. Its non-test part is the load generator the tests and the soak
// command (internal/cmd/soak) share.
//
// # Load
//
// Load runs workers that SET, GET and DoMulti their own keys through a
// Doer (a cluster.Client or a conn.Client). Every value names the key it
// was written to, so a reply that reached the wrong caller shows up as a
// crossed reply. Every call has its own deadline; a call that returns
// later than deadline+grace counts as a hang.
//
// # Reading the summary
//
// Each fault test prints one line:
//
//	fault=kill-master degraded=1.84s failed=37/51234 hangs=0 crossed=0
//
// degraded is the time from the fault's injection to the end of the last
// call that failed or was slower than Load.SlowAfter; failed counts calls
// that returned an error, out of all calls made during the test.
//
// The silence tests of a Subscriber print
//
//	fault=silence-subscriber back=1.501s gap_reported_after=1.495s gap=[-11ms, 1.495s] ...
//
// back is the time from the silence to the arrival of the first message
// published after it; the gap's From and To are given relative to the
// silence too.
//
// # Example
//
//	l := chaos.NewLoad(client, chaos.LoadOptions{Workers: 8})
//	l.Start()
//	mark := l.Mark()
//	inject()
//	recover()
//	l.Stop()
//	fmt.Println(l.Summary("kill-master", mark))
package chaos

// Package apptest is a small application written once against
// conn.Universal (a rate limiter, a job queue, a session store, a lock
// released by a script, a check-and-set counter), and its test suite, which
// runs the same code against a standalone server and a 3-master, 3-replica
// cluster in one go test. It shows, and checks, that code written for the
// interface needs nothing of the deployment behind it.
package apptest

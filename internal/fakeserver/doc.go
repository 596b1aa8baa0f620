// Package fakeserver is a scripted RESP server for tests of what a real Redis
// will not do on purpose: stalls, garbage, hostile lengths, half-written
// replies, dropped connections, a refused HELLO. It is built on package resp,
// in the manner of pgx's internal/pgmock.
//
// # Serving
//
// Start listens on a free loopback port; New listens nowhere and is given
// connections with Serve or Pipe, so that tests can run it inside a
// testing/synctest bubble over net.Pipe. Either way the server is closed when
// the test ends, and Close waits for every goroutine it started.
//
// # Scripts
//
// Each connection the server is given takes the next script queued with
// Script: a list of steps run in order on the connection's own goroutine.
// Expect reads a command and checks it; Reply, Push and ReplyRaw write;
// Stall waits for the test; DropMidReply and Close end the connection;
// Serve hands the rest of it to a Handler. A step that fails is reported to
// the test (through TB) and ends the connection. A client that goes away
// while the script writes or stalls ends the script quietly: what the client
// makes of that is its own test's business. A command that arrives after the
// script ended is a failure unless the server has a handler.
//
// # Handlers
//
// Connections that find no script left are served by the Handler given to
// Handle, one command at a time: a free-form server. ServeHello answers HELLO
// as Redis 7 does.
//
// # Example
//
//	s := fakeserver.Start(t).Script(
//		fakeserver.AcceptHello(),
//		fakeserver.Expect("GET", "k"),
//		fakeserver.ReplyRaw([]byte("$3\r\nv"), []byte("al\r\n")), // a reply in two pieces
//		fakeserver.Expect("GET", "k"),
//		fakeserver.DropMidReply(resp.NewBulkString("value")),
//	)
//	c, err := conn.Dial(ctx, s.Addr(), nil)
package fakeserver

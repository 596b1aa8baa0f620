// Package respotel reports what respwire does to OpenTelemetry: a span and a
// db.client.operation.duration measurement per command and per pipeline,
// following OpenTelemetry's database semantic conventions for Redis, and
// connection, redial, cache and cluster metrics.
//
// It is a module of its own, so the respwire module itself depends on
// nothing but the standard library. It works through respwire's hooks:
// New builds a Telemetry, whose Hooks go in conn.Options.Hooks (of a Conn,
// a Client, a cluster's Options.Conn or a Subscriber's conn.Options) and
// whose ClusterHooks and PubsubHooks go in cluster.Options.Hooks and
// pubsub.Options.Hooks. The tracer and meter providers are the otel
// globals unless WithTracerProvider and WithMeterProvider say otherwise.
//
// # Spans
//
// Each Do (and each read of DoCache that reaches the server) is one span of
// kind client, built when the call returns, from the time it started to the
// time it returned, and parented on the span in the call's context. Its
// name is the command's name as the caller wrote it ("GET", or "get": no
// case is changed, as the conventions ask). Its attributes:
//
//	db.system.name           "redis"
//	db.operation.name        the command's name, as the span's
//	db.namespace             the database index the connection selected
//	                         when it was dialled (Options.DB), as a string
//	server.address           the host of the node that ran the command
//	server.port              its port
//	db.query.text            only WithStatement(true): the command's text,
//	                         with the arguments of AUTH, HELLO ... AUTH and
//	                         CLIENT SETNAME replaced by "?" (conn redacts)
//	db.response.status_code  on an error reply: its prefix, e.g. "WRONGTYPE"
//	error.type               on any error (see Errors); the status is Error
//	respwire.written         false only for a call that never reached the
//	                         write buffer, so the server never ran it
//
// A DoMulti of two or more commands is one span named "PIPELINE" with
// db.operation.name "PIPELINE" and db.operation.batch.size, the number of
// commands: the hook reports the first command's name only, so it can't
// tell "PIPELINE GET" (all the same) from a mix, and says the generic name.
// Its query text holds the commands one per line. Error replies inside a
// pipeline that itself succeeded don't make it fail: they are counted in
// respwire.pipeline.errors. A DoMulti of one command is reported as that
// command, as the conventions ask for a batch of one.
//
// In a cluster, server.address and server.port are the node's that ran the
// command, not the seed's of the configuration: the hook knows no other.
// A call that follows a MOVED or ASK makes one span per node it asked: the
// first ends with error.type "MOVED" or "ASK"; after an ASK the cluster
// sends ASKING and the command together, a "PIPELINE" of two.
//
// # Errors
//
// error.type is, for a server's error reply (*resp.Error), its prefix
// ("WRONGTYPE", "MOVED", "NOAUTH"), which db.response.status_code holds
// too. Otherwise it is the first of these that the error wraps:
// "context.DeadlineExceeded", "context.Canceled", "conn.ErrSilent",
// "resp.ErrProtocol", "io.EOF", "io.ErrUnexpectedEOF"; then a net.Error:
// "timeout" when it timed out, else its Go type ("*net.OpError"); then
// "conn.ErrClosed", "conn.ErrSharedState", "cluster.ErrCrossSlot",
// "cluster.ErrSlotMoved". Failing those, it is the Go type of the error
// behind fmt's wrappers, or "_OTHER" for an error made by errors.New,
// fmt.Errorf or errors.Join, whose type says nothing. A lost connection's
// error wraps conn.ErrClosed and its cause, so it is named by its cause.
//
// # Metrics
//
//	db.client.operation.duration      histogram, s: every command and
//	                                  pipeline, with the span's attributes
//	                                  but db.query.text, the batch size and
//	                                  the respwire.* ones; buckets 1 ms to
//	                                  10 s, as the conventions advise
//	db.client.connection.count        up-down counter, {connection}: Conns
//	                                  open, +1 per successful dial, -1 when
//	                                  one reaches StateClosed
//	db.client.connection.create_time  histogram, s: every dial and handshake,
//	                                  with error.type when it failed
//	respwire.client.redials           counter, {attempt}: a Client's attempts
//	                                  to replace its broken Conn
//	respwire.client.connection.closes counter, {connection}: Conns that
//	                                  closed, by respwire.close.reason
//	                                  ("closed", "silent", "lost")
//	respwire.client.cache.lookups     counter, {lookup}: DoCache hits and
//	                                  misses, by respwire.cache.result
//	respwire.client.cache.drops       counter, {entry}: entries evicted or
//	                                  invalidated, by respwire.cache.reason
//
// The connection metrics carry db.client.connection.pool.name (the
// address, "host:port"), db.client.connection.state ("used": a multiplexed
// Conn serves every caller at once, so none is idle), server.address and
// server.port. ClusterHooks and PubsubHooks add the respwire.cluster.* and
// respwire.pubsub.* metrics described at those methods. Names in respwire.*
// are this package's own: the conventions have none for them.
//
// WithAttributes adds attributes to every span and measurement.
//
// To run hooks of your own beside these, wrap the functions of the Hooks
// that Hooks returns before putting them in the Options: respwire takes one
// *conn.Hooks per Options, and it must not change once given.
package respotel

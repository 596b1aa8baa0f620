//go:build !respwire_pubsub

package bench

// respwireSubscribe stands in until respwire's pubsub package lands: a nil constructor
// leaves respwire out of the workloads that need it.
var respwireSubscribe subscribeFunc

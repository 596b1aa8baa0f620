package bench

// respwireKind is respwire: conn.Client on a standalone server, cluster.Client
// on the cluster, pubsub.Subscriber for pub/sub, each with default options.
func respwireKind() clientKind {
	return clientKind{
		name:       "respwire",
		standalone: respwireStandalone,
		cluster:    respwireCluster,
		subscribe:  respwireSubscribe,
	}
}

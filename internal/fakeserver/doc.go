// Package fakeserver is a scripted RESP server for tests of what a real Redis
// will not do on purpose: stalls, garbage, hostile lengths, dropped connections.
package fakeserver

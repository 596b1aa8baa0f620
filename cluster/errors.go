package cluster

import (
	"errors"
	"net"

	"github.com/respwire/respwire/conn"
)

// errReplyCount reports a node that answered a batch with the wrong number
// of replies.
var errReplyCount = errors.New("cluster: reply count does not match the batch")

// unsent tells whether a command that failed with err surely never reached
// the server, so sending it again can't run it twice: the node couldn't be
// dialled, or no node serves the slot. (conn.Client already moves a command
// that its dead Conn refused unwritten to the next Conn; an ErrClosed error
// from it means the command may have been written.)
func unsent(err error) bool {
	var ne *nodeError
	return errors.As(err, &ne) || errors.Is(err, errNoNode)
}

// brokenNode tells whether err means the node's connection broke or the
// node stopped answering: a reason to read the topology again.
func brokenNode(err error) bool {
	var ne net.Error
	return errors.Is(err, conn.ErrClosed) || errors.As(err, &ne)
}

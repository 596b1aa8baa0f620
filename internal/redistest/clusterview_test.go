package redistest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClusterNodes(t *testing.T) {
	text := "aaaa 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-100 150 [100->-bbbb] [200-<-cccc]\n" +
		"bbbb 127.0.0.1:7002@17002,host-b master - 0 1700000000000 2 connected 101-149\n" +
		"cccc 127.0.0.1:7003@17003 master,fail - 1 1700000000000 3 disconnected\n" +
		"dddd 127.0.0.1:7004@17004 slave aaaa 0 1700000000000 1 connected\n"
	v, err := parseClusterNodes(text)
	require.NoError(t, err)
	assert.Equal(t, "aaaa", v.self)
	require.Len(t, v.nodes, 4)

	a := v.nodes["aaaa"]
	assert.True(t, a.isMaster())
	assert.Equal(t, [][2]int{{0, 100}, {150, 150}}, a.slots)
	assert.Equal(t, map[int]string{100: "bbbb"}, a.migrating)
	assert.Equal(t, map[int]string{200: "cccc"}, a.importing)

	b := v.nodes["bbbb"]
	assert.Equal(t, "127.0.0.1:7002", b.addr, "bus port and hostname are cut off")
	assert.True(t, b.linked)
	assert.False(t, b.failing())

	c := v.nodes["cccc"]
	assert.True(t, c.failing())
	assert.False(t, c.linked)

	d := v.nodes["dddd"]
	assert.False(t, d.isMaster())
	assert.Equal(t, "aaaa", d.masterID)
	assert.Equal(t, []string{"dddd"}, v.replicasOf("aaaa"))

	for slot, want := range map[int]string{0: "aaaa", 100: "aaaa", 101: "bbbb", 149: "bbbb", 150: "aaaa", 151: "", 16383: ""} {
		assert.Equal(t, want, v.owners[slot], "slot %d", slot)
	}
}

func TestParseClusterNodesRejectsGarbage(t *testing.T) {
	for name, text := range map[string]string{
		"short line":     "aaaa 127.0.0.1:7001@17001 master",
		"slot too big":   "aaaa 127.0.0.1:7001@17001 master - 0 0 1 connected 0-16384",
		"reversed range": "aaaa 127.0.0.1:7001@17001 master - 0 0 1 connected 10-5",
		"not a number":   "aaaa 127.0.0.1:7001@17001 master - 0 0 1 connected x",
		"bad marker":     "aaaa 127.0.0.1:7001@17001 master - 0 0 1 connected [5-bbbb]",
		"negative slot":  "aaaa 127.0.0.1:7001@17001 master - 0 0 1 connected [-1->-bbbb]",
	} {
		_, err := parseClusterNodes(text)
		assert.Error(t, err, name)
	}
}

func TestQuoteConfig(t *testing.T) {
	for in, want := range map[string]string{
		"":            `""`,
		"plain":       `"plain"`,
		`a "b" \c`:    `"a \"b\" \\c"`,
		"line\nbreak": `"line\x0abreak"`,
		"caf\xc3\xa9": `"caf\xc3\xa9"`,
	} {
		assert.Equal(t, want, quoteConfig(in), "%q", in)
	}
}

package resp_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/respwire/respwire/resp"
)

// FuzzReader decodes arbitrary bytes. It must never panic, fail with anything
// but ErrProtocol, io.EOF or io.ErrUnexpectedEOF, or allocate wildly (the
// limits are lowered so a mistake shows), and whatever decodes must encode
// and decode again to an equal value, byte for byte stable.
//
// Seeds: the test tables here, plus the files in testdata/fuzz/FuzzReader.
// Run locally with: go test -run '^$' -fuzz FuzzReader -fuzztime 60s -fuzzminimizetime 3s ./resp/
// (the short minimize time keeps the fuzzer from pausing a minute per new input).
func FuzzReader(f *testing.F) {
	for _, tc := range goodFrames {
		f.Add([]byte(tc.frame))
	}
	for _, tc := range badFrames {
		f.Add([]byte(tc.frame))
	}
	for _, frame := range truncatedFrames {
		f.Add([]byte(frame))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := resp.NewReaderSize(bytes.NewReader(data), 64)
		r.SetMaxBulkLen(1 << 20)
		r.SetMaxDepth(32)
		for {
			v, err := r.Read()
			if err != nil {
				if err != io.EOF && !errors.Is(err, resp.ErrProtocol) {
					t.Fatalf("error wraps neither io.EOF nor ErrProtocol: %v", err)
				}
				return
			}
			_ = v.String()
			checkRoundTrip(t, v)
		}
	})
}

func checkRoundTrip(t *testing.T, v resp.Value) {
	t.Helper()
	encoded := resp.AppendValue(nil, v)
	again, err := resp.NewReader(bytes.NewReader(encoded)).Read()
	if err != nil {
		t.Fatalf("re-decoding %q: %v", encoded, err)
	}
	if !v.Equal(again) {
		t.Fatalf("round trip changed the value:\n%#v\n%#v", v, again)
	}
	if reencoded := resp.AppendValue(nil, again); !bytes.Equal(encoded, reencoded) {
		t.Fatalf("encoding is not stable: %q then %q", encoded, reencoded)
	}
	resp2 := resp.AppendValue2(nil, v)
	if _, err := resp.NewReader(bytes.NewReader(resp2)).Read(); err != nil {
		t.Fatalf("decoding the RESP2 form %q: %v", resp2, err)
	}
}

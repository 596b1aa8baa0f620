package resp_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/respwire/respwire/resp"
)

// FuzzReader decodes arbitrary bytes. It must never panic or fail with
// anything but io.EOF or an error wrapping ErrProtocol; reading from a full
// buffer and reading byte by byte must agree; and whatever decodes must
// encode and decode again to an equal value, byte for byte stable.
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
	for _, tc := range skippedFrames {
		f.Add([]byte(tc.frame + next))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Whole frames in a large buffer take Read's shortcut; one byte at a
		// time never does. Both must decode the same values.
		fast, fastErr := decodeAll(t, resp.NewReaderSize(bytes.NewReader(data), 4096))
		slow, slowErr := decodeAll(t, resp.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16))
		if len(fast) != len(slow) || (fastErr == io.EOF) != (slowErr == io.EOF) {
			t.Fatalf("buffered: %d values, %v; byte by byte: %d values, %v", len(fast), fastErr, len(slow), slowErr)
		}
		for i := range fast {
			if !fast[i].Equal(slow[i]) {
				t.Fatalf("value %d: buffered %#v, byte by byte %#v", i, fast[i], slow[i])
			}
			if fast[i].Kind() == 0 {
				continue // a skipped reply
			}
			_ = fast[i].String()
			checkRoundTrip(t, fast[i])
		}
	})
}

// decodeAll reads values until an error, which it checks is io.EOF or wraps
// ErrProtocol. A skipped reply (a *SkippedError) is not the end: it stands
// as the zero Value, and reading goes on. The limits are lowered so that a
// mistake shows.
func decodeAll(t *testing.T, r *resp.Reader) ([]resp.Value, error) {
	t.Helper()
	r.SetMaxBulkLen(1 << 20)
	r.SetMaxDepth(32)
	r.SetMaxElements(1000)
	var values []resp.Value
	for {
		v, err := r.Read()
		var skipped *resp.SkippedError
		if errors.As(err, &skipped) {
			values = append(values, resp.Value{})
			continue
		}
		if err != nil {
			if err != io.EOF && !errors.Is(err, resp.ErrProtocol) {
				t.Fatalf("error wraps neither io.EOF nor ErrProtocol: %v", err)
			}
			return values, err
		}
		values = append(values, v)
	}
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

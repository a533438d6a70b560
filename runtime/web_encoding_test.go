package runtime

import (
	"bytes"
	"encoding/base64"
	"testing"
	"unicode/utf8"
)

func TestUTF8Decoder(t *testing.T) {
	cases := []struct {
		name  string
		in    []byte
		want  string
		fatal bool // want a fatal-mode failure
	}{
		{name: "ascii", in: []byte("abc"), want: "abc"},
		{name: "bom stripped", in: []byte("\xef\xbb\xbfhi"), want: "hi"},
		{name: "truncated 4-byte is one replacement", in: []byte("a\xf0\x9f\x98b"), want: "a\ufffdb", fatal: true},
		{name: "lone continuation", in: []byte("\x80"), want: "\ufffd", fatal: true},
		{name: "overlong", in: []byte("\xc0\xaf"), want: "\ufffd\ufffd", fatal: true},
		{name: "surrogate", in: []byte("\xed\xa0\x80"), want: "\ufffd\ufffd\ufffd", fatal: true},
		{name: "above U+10FFFF", in: []byte("\xf4\x90\x80\x80"), want: "\ufffd\ufffd\ufffd\ufffd", fatal: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var d utf8Decoder
			if got, ok := d.decode(tc.in, false, false, false); !ok || got != tc.want {
				t.Fatalf("decode = %q, %v; want %q", got, ok, tc.want)
			}
			var f utf8Decoder
			if _, ok := f.decode(tc.in, true, false, false); ok == tc.fatal {
				t.Fatalf("fatal decode ok = %v, want %v", ok, !tc.fatal)
			}
		})
	}
}

// FuzzUTF8DecoderStreaming checks that decoding in chunks, split anywhere,
// gives what decoding at once gives.
func FuzzUTF8DecoderStreaming(f *testing.F) {
	for _, s := range []string{"abc", "\xef\xbb\xbfhé", "a\xf0\x9f\x98b", "€😀", "\xed\xa0\x80", "\xef\xbb"} {
		f.Add([]byte(s), uint8(1), uint8(2))
	}
	f.Fuzz(func(t *testing.T, b []byte, cut1, cut2 uint8) {
		var whole utf8Decoder
		want, _ := whole.decode(b, false, false, false)
		i, j := min(int(cut1), len(b)), min(int(cut2), len(b))
		if i > j {
			i, j = j, i
		}
		var d utf8Decoder
		p1, _ := d.decode(b[:i], false, false, true)
		p2, _ := d.decode(b[i:j], false, false, true)
		p3, _ := d.decode(b[j:], false, false, false)
		if got := p1 + p2 + p3; got != want {
			t.Fatalf("chunks %d/%d: %q, want %q", i, j, got, want)
		}
		if !utf8.ValidString(want) {
			t.Fatalf("invalid UTF-8 out: %q", want)
		}
	})
}

func TestAtobBtoa(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"aGVsbG8=", "hello", true},
		{"aGVsbG8", "hello", true},
		{" aG\tVs\nbG8= ", "hello", true},
		{"YQ==", "a", true},
		{"YR==", "a", true}, // non-zero padding bits are accepted
		{"", "", true},
		{"a", "", false},
		{"aGVsbG8===", "", false},
		{"YQ=a", "", false},
		{"a-b_", "", false},
		{"/w==", "\u00ff", true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := atob(tc.in)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("atob(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
	if _, ok := btoa("€"); ok {
		t.Fatal("btoa accepted a code point above U+00FF")
	}
}

// FuzzAtob checks atob against the standard decoder and btoa round trips.
func FuzzAtob(f *testing.F) {
	for _, s := range []string{"aGVsbG8=", "YQ", " Y Q = = ", "a", "////", "YR=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := atob(s)
		if !ok {
			return
		}
		var raw []byte
		for _, r := range out {
			if r > 0xff {
				t.Fatalf("atob(%q) gave code point %U", s, r)
			}
			raw = append(raw, byte(r))
		}
		again, ok := btoa(out)
		if !ok {
			t.Fatalf("btoa refused atob's output for %q", s)
		}
		back, err := base64.StdEncoding.DecodeString(again)
		if err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

func TestEncodeInto(t *testing.T) {
	dst := make([]byte, 6)
	r, w := encodeInto("a😀é", dst)
	if r != 3 || w != 5 || string(dst[:w]) != "a😀" {
		t.Fatalf("encodeInto = %d, %d, %q", r, w, dst[:w])
	}
}

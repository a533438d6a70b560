package weburl

import (
	"strings"
	"unicode/utf8"
)

// encodeSet is a percent-encode set over ASCII; every byte >= 0x7F is always
// encoded because all of the standard's sets include the C0 control set.
type encodeSet [128]bool

func newSet(base *encodeSet, extra string) *encodeSet {
	var s encodeSet
	if base != nil {
		s = *base
	}
	for i := 0; i < len(extra); i++ {
		s[extra[i]] = true
	}
	return &s
}

func (s *encodeSet) has(b byte) bool { return b >= 0x7F || s[b] }

var (
	c0ControlSet = func() *encodeSet {
		var s encodeSet
		for i := 0; i < 0x20; i++ {
			s[i] = true
		}
		return &s
	}()
	fragmentSet     = newSet(c0ControlSet, " \"<>`")
	querySet        = newSet(c0ControlSet, " \"#<>")
	specialQuerySet = newSet(querySet, "'")
	pathSet         = newSet(querySet, "?^`{}")
	userinfoSet     = newSet(pathSet, "/:;=@[\\]^|")
	componentSet    = newSet(userinfoSet, "$%&+,")
	formSet         = newSet(componentSet, "!'()~")
)

const upperHex = "0123456789ABCDEF"

// appendEncoded appends s to b, percent-encoding every byte in set.
// With spaceAsPlus, U+0020 becomes "+" (the form serializer's rule).
func appendEncoded(b *strings.Builder, s string, set *encodeSet, spaceAsPlus bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case spaceAsPlus && c == ' ':
			b.WriteByte('+')
		case set.has(c):
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		default:
			b.WriteByte(c)
		}
	}
}

// appendEncodedRune percent-encodes one code point (UTF-8) into b.
func appendEncodedRune(b *strings.Builder, r rune, set *encodeSet) {
	if r < utf8.RuneSelf && !set.has(byte(r)) {
		b.WriteByte(byte(r))
		return
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	appendEncoded(b, string(buf[:n]), set, false)
}

func encodeString(s string, set *encodeSet) string {
	var b strings.Builder
	appendEncoded(&b, s, set, false)
	return b.String()
}

func isHex(c rune) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// percentDecode turns "%XX" sequences into bytes; anything else is kept.
func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(rune(s[i+1])) && isHex(rune(s[i+2])) {
			out = append(out, hexVal(s[i+1])<<4|hexVal(s[i+2]))
			i += 2
			continue
		}
		out = append(out, c)
	}
	return out
}

// utf8DecodeWithoutBOM decodes b per the Encoding Standard: each maximal
// invalid subpart becomes one U+FFFD, and a leading BOM is kept.
func utf8DecodeWithoutBOM(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			sb.WriteByte(c)
			i++
			continue
		}
		var need int
		lower, upper := byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c >= 0xE0 && c <= 0xEF:
			need = 2
			if c == 0xE0 {
				lower = 0xA0
			} else if c == 0xED {
				upper = 0x9F
			}
		case c >= 0xF0 && c <= 0xF4:
			need = 3
			if c == 0xF0 {
				lower = 0x90
			} else if c == 0xF4 {
				upper = 0x8F
			}
		default:
			sb.WriteRune(utf8.RuneError)
			i++
			continue
		}
		j := i + 1
		ok := true
		for k := 0; k < need; k++ {
			if j >= len(b) || b[j] < lower || b[j] > upper {
				ok = false
				break
			}
			lower, upper = 0x80, 0xBF
			j++
		}
		if !ok {
			sb.WriteRune(utf8.RuneError)
			i = j
			continue
		}
		sb.Write(b[i:j])
		i = j
	}
	return sb.String()
}

// appendEncodedRunes is appendEncodedRune for a rune buffer.
func appendEncodedRunes(buf []rune, r rune, set *encodeSet) []rune {
	if r < utf8.RuneSelf && !set.has(byte(r)) {
		return append(buf, r)
	}
	var tmp [utf8.UTFMax]byte
	n := utf8.EncodeRune(tmp[:], r)
	for _, c := range tmp[:n] {
		if set.has(c) {
			buf = append(buf, '%', rune(upperHex[c>>4]), rune(upperHex[c&15]))
		} else {
			buf = append(buf, rune(c))
		}
	}
	return buf
}

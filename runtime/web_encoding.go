package runtime

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// Text and base64 codecs behind TextEncoder, TextDecoder, atob and btoa.
// They follow the Encoding Standard and the HTML "forgiving-base64" rules.

// utf8Decoder decodes UTF-8 per the Encoding Standard: each maximal invalid
// subpart becomes one U+FFFD (or an error in fatal mode). In streaming mode
// an incomplete sequence at the end is kept for the next chunk.
type utf8Decoder struct {
	pending []byte
	bomSeen bool
}

// decode returns the text of b after the pending bytes. ok is false when
// fatal is set and the input is invalid.
func (d *utf8Decoder) decode(b []byte, fatal, ignoreBOM, stream bool) (string, bool) {
	if len(d.pending) > 0 {
		b = append(d.pending, b...)
		d.pending = nil
	}
	if !d.bomSeen && !ignoreBOM {
		if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
			b = b[3:]
			d.bomSeen = true
		} else if stream && len(b) < 3 && (len(b) == 0 || b[0] == 0xEF) && (len(b) < 2 || b[1] == 0xBB) {
			d.pending = append([]byte(nil), b...) // may still be a BOM
			return "", true
		} else if len(b) > 0 {
			d.bomSeen = true
		}
	}
	if !stream {
		d.bomSeen = false
	}
	if utf8.Valid(b) {
		return string(b), true
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
			if fatal {
				return "", false
			}
			sb.WriteRune(utf8.RuneError)
			i++
			continue
		}
		j := i + 1
		ok := true
		for k := 0; k < need; k++ {
			if j >= len(b) {
				if stream {
					d.pending = append([]byte(nil), b[i:]...)
					return sb.String(), true
				}
				ok = false
				break
			}
			if b[j] < lower || b[j] > upper {
				ok = false
				break
			}
			lower, upper = 0x80, 0xBF
			j++
		}
		if !ok {
			if fatal {
				return "", false
			}
			sb.WriteRune(utf8.RuneError)
			i = j
			continue
		}
		sb.Write(b[i:j])
		i = j
	}
	return sb.String(), true
}

// encodeInto writes the UTF-8 of s into dst as far as whole characters fit.
// read counts UTF-16 code units consumed, as TextEncoder.encodeInto does.
func encodeInto(s string, dst []byte) (read, written int) {
	for _, r := range s {
		n := utf8.RuneLen(r)
		if n < 0 {
			r, n = utf8.RuneError, 3
		}
		if written+n > len(dst) {
			break
		}
		utf8.EncodeRune(dst[written:], r)
		written += n
		read++
		if r > 0xFFFF {
			read++
		}
	}
	return read, written
}

// btoa encodes a string of code points up to U+00FF; ok is false otherwise.
func btoa(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return "", false
		}
		b = append(b, byte(r))
	}
	return base64.StdEncoding.EncodeToString(b), true
}

// atob is forgiving-base64 decode; the result has one code point per byte.
func atob(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\f', '\r', ' ':
			return -1
		}
		return r
	}, s)
	if len(s)%4 == 0 {
		s = strings.TrimSuffix(s, "=")
		s = strings.TrimSuffix(s, "=")
	}
	if len(s)%4 == 1 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return "", false
		}
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r), true
}

package weburl

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// idnaProfile is UTS #46 ToASCII with the URL Standard's non-strict flags:
// CheckHyphens=false, CheckBidi=true, CheckJoiners=true,
// UseSTD3ASCIIRules=false, Transitional_Processing=false, VerifyDnsLength=false.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.StrictDomainName(false),
	idna.CheckHyphens(false),
	idna.CheckJoiners(true),
	idna.VerifyDNSLength(false),
)

var errHost = errors.New("invalid host")

func isForbiddenHost(c rune) bool {
	switch c {
	case 0, '\t', '\n', '\r', ' ', '#', '/', ':', '<', '>', '?', '@', '[', '\\', ']', '^', '|':
		return true
	}
	return false
}

func isForbiddenDomain(c rune) bool {
	return isForbiddenHost(c) || c <= 0x1F || c == '%' || c == 0x7F
}

// parseHost runs the host parser and returns the serialized host.
func parseHost(input string, isOpaque bool) (string, error) {
	if strings.HasPrefix(input, "[") {
		if !strings.HasSuffix(input, "]") || len(input) < 2 {
			return "", errHost
		}
		addr, ok := parseIPv6([]rune(input[1 : len(input)-1]))
		if !ok {
			return "", errHost
		}
		return "[" + serializeIPv6(addr) + "]", nil
	}
	if isOpaque {
		for _, c := range input {
			if isForbiddenHost(c) {
				return "", errHost
			}
		}
		return encodeString(input, c0ControlSet), nil
	}
	domain := utf8DecodeWithoutBOM(percentDecode(input))
	ascii, err := domainToASCII(domain)
	if err != nil {
		return "", err
	}
	if endsInNumber(ascii) {
		v, ok := parseIPv4(ascii)
		if !ok {
			return "", errHost
		}
		return serializeIPv4(v), nil
	}
	return ascii, nil
}

// domainToASCII is the standard's "domain to ASCII" with beStrict=false.
func domainToASCII(domain string) (string, error) {
	var out string
	if isASCII(domain) {
		// ASCII domains skip UTS #46 entirely (current URL Standard), so
		// invalid Punycode such as "xn--" passes through lowercased.
		out = strings.ToLower(domain)
	} else {
		var err error
		out, err = idnaProfile.ToASCII(idna16Premap(domain))
		if err != nil {
			return "", errHost
		}
	}
	if out == "" {
		return "", errHost
	}
	for _, c := range out {
		if isForbiddenDomain(c) {
			return "", errHost
		}
	}
	return out, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// idna16Premap applies the UTS #46 mapping changes of Unicode 15.1 and 16
// that x/net/idna's Unicode 15 tables (used before go1.27) lack, so hosts map
// as in current browsers and the WPT data:
//   - U+1E9E maps to U+00DF;
//   - capitals that were disallowed now map to lowercase: Georgian
//     U+10A0..U+10C5, U+10C7, U+10CD, and U+04C0, U+2132, U+2183;
//   - some default-ignorable code points are now ignored: U+115F, U+1160,
//     U+17B4, U+17B5, U+180E, U+206A..U+206F, U+3164, U+FFA0,
//     U+1D173..U+1D17A;
//   - five CJK compatibility ideographs map to their canonical decompositions.
//
// Code points new in Unicode 16/17 remain unknown to the tables and fail.
func idna16Premap(s string) string {
	if idna.UnicodeVersion >= "16.0.0" || strings.IndexFunc(s, premapped) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !premapped(r):
			b.WriteRune(r)
		case idna16Ignored(r):
		case r == 0x1E9E:
			b.WriteRune(0xDF)
		case r >= 0x2F800:
			b.WriteString(norm.NFC.String(string(r)))
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func idna16Ignored(r rune) bool {
	switch {
	case r == 0x115F, r == 0x1160, r == 0x17B4, r == 0x17B5, r == 0x180E,
		r >= 0x206A && r <= 0x206F, r == 0x3164, r == 0xFFA0,
		r >= 0x1D173 && r <= 0x1D17A:
		return true
	}
	return false
}

func premapped(r rune) bool {
	switch {
	case idna16Ignored(r),
		r >= 0x10A0 && r <= 0x10C5, r == 0x10C7, r == 0x10CD,
		r == 0x04C0, r == 0x2132, r == 0x2183, r == 0x1E9E,
		r == 0x2F868, r == 0x2F874, r == 0x2F91F, r == 0x2F95F, r == 0x2F9BF:
		return true
	}
	return false
}

func endsInNumber(s string) bool {
	parts := strings.Split(s, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" {
		allDigits := true
		for i := 0; i < len(last); i++ {
			if last[i] < '0' || last[i] > '9' {
				allDigits = false
				break
			}
		}
		if allDigits {
			return true
		}
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4Number returns the value saturated at 2^32+1: anything that large
// fails the IPv4 parser anyway.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	radix := uint64(10)
	if len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s, radix = s[2:], 16
	} else if len(s) >= 2 && s[0] == '0' {
		s, radix = s[1:], 8
	}
	if s == "" {
		return 0, true
	}
	const limit = 1<<32 + 1
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case radix == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
			d = uint64(hexVal(c))
		default:
			return 0, false
		}
		if d >= radix {
			return 0, false
		}
		v = v*radix + d
		if v > limit {
			v = limit
		}
	}
	return v, true
}

func parseIPv4(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return 0, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return 0, false
		}
		nums[i] = n
	}
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return 0, false
		}
	}
	last := nums[len(nums)-1]
	if float64(last) >= math.Pow(256, float64(5-len(nums))) {
		return 0, false
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		v += n << (8 * (3 - i))
	}
	return uint32(v), true
}

func serializeIPv4(v uint32) string {
	return strconv.Itoa(int(v>>24)) + "." + strconv.Itoa(int(v>>16&255)) + "." +
		strconv.Itoa(int(v>>8&255)) + "." + strconv.Itoa(int(v&255))
}

func parseIPv6(in []rune) ([8]uint16, bool) {
	var addr [8]uint16
	piece, compress := 0, -1
	p := 0
	at := func(i int) rune {
		if i < len(in) {
			return in[i]
		}
		return eof
	}
	if at(p) == ':' {
		if at(p+1) != ':' {
			return addr, false
		}
		p += 2
		piece++
		compress = piece
	}
	for at(p) != eof {
		if piece == 8 {
			return addr, false
		}
		if at(p) == ':' {
			if compress != -1 {
				return addr, false
			}
			p++
			piece++
			compress = piece
			continue
		}
		value, length := 0, 0
		for length < 4 && isHex(at(p)) {
			value = value*16 + int(hexVal(byte(at(p))))
			p++
			length++
		}
		if at(p) == '.' {
			if length == 0 {
				return addr, false
			}
			p -= length
			if piece > 6 {
				return addr, false
			}
			seen := 0
			for at(p) != eof {
				v4 := -1
				if seen > 0 {
					if at(p) == '.' && seen < 4 {
						p++
					} else {
						return addr, false
					}
				}
				if c := at(p); c < '0' || c > '9' {
					return addr, false
				}
				for c := at(p); c >= '0' && c <= '9'; c = at(p) {
					n := int(c - '0')
					switch v4 {
					case -1:
						v4 = n
					case 0:
						return addr, false
					default:
						v4 = v4*10 + n
					}
					if v4 > 255 {
						return addr, false
					}
					p++
				}
				addr[piece] = addr[piece]*0x100 + uint16(v4)
				seen++
				if seen == 2 || seen == 4 {
					piece++
				}
			}
			if seen != 4 {
				return addr, false
			}
			break
		} else if at(p) == ':' {
			p++
			if at(p) == eof {
				return addr, false
			}
		} else if at(p) != eof {
			return addr, false
		}
		addr[piece] = uint16(value)
		piece++
	}
	if compress != -1 {
		swaps := piece - compress
		piece = 7
		for piece != 0 && swaps > 0 {
			addr[piece], addr[compress+swaps-1] = addr[compress+swaps-1], addr[piece]
			piece--
			swaps--
		}
	} else if piece != 8 {
		return addr, false
	}
	return addr, true
}

func serializeIPv6(addr [8]uint16) string {
	// Find the first longest run of two or more zero pieces.
	compress, best := -1, 1
	for i := 0; i < 8; {
		if addr[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && addr[j] == 0 {
			j++
		}
		if j-i > best {
			compress, best = i, j-i
		}
		i = j
	}
	var b strings.Builder
	ignore0 := false
	for i := 0; i < 8; i++ {
		if ignore0 && addr[i] == 0 {
			continue
		}
		ignore0 = false
		if compress == i {
			if i == 0 {
				b.WriteString("::")
			} else {
				b.WriteString(":")
			}
			ignore0 = true
			continue
		}
		b.WriteString(strconv.FormatUint(uint64(addr[i]), 16))
		if i != 7 {
			b.WriteByte(':')
		}
	}
	return b.String()
}

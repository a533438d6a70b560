package firstboot

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// secretLineRE matches the picloud.toml lines that carry secrets.
var secretLineRE = regexp.MustCompile(`^(\s*)(cluster_secret|password|psk)(\s*=\s*)(.*)$`)

// ScrubTOML returns picloud.toml with every secret value replaced by "" and
// a header saying the file was applied, keeping the rest (comments included)
// so the card still documents how the node was set up. It fails rather than
// return text that still holds a secret.
func ScrubTOML(b []byte, note string) ([]byte, error) {
	var out strings.Builder
	fmt.Fprintf(&out, "# %s\n", note)
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if m := secretLineRE.FindStringSubmatch(line); m != nil && m[4] != `""` && !strings.HasPrefix(m[4], `"" `) {
			line = m[1] + m[2] + m[3] + `"" # removed from this partition at first boot`
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scrubbing picloud.toml: %w", err)
	}
	s, err := ParseTOML([]byte(out.String()))
	if err != nil {
		return nil, fmt.Errorf("scrubbed picloud.toml does not parse: %w", err)
	}
	if s.ClusterSecret != "" || s.AdminPassword != "" || (s.WiFi != nil && s.WiFi.PSK != "") {
		return nil, fmt.Errorf("%w: a secret survived scrubbing (multi-line string?)", ErrInvalid)
	}
	return []byte(out.String()), nil
}

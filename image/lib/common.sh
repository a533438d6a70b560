# Shared helpers for the image scripts; sourced, not executed.

log() { printf '%s [image] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# debian_mirror prints the Debian archive URI that this machine's apt already
# uses for bookworm (PICLOUD_DEBIAN_MIRROR overrides). No host is hard-coded.
debian_mirror() {
	if [ -n "${PICLOUD_DEBIAN_MIRROR:-}" ]; then echo "$PICLOUD_DEBIAN_MIRROR"; return; fi
	apt_uri_for_suite bookworm
}

# debian_security_mirror prints the URI used for bookworm-security, or nothing.
debian_security_mirror() {
	if [ -n "${PICLOUD_DEBIAN_SECURITY_MIRROR:-}" ]; then echo "$PICLOUD_DEBIAN_SECURITY_MIRROR"; return; fi
	apt_uri_for_suite bookworm-security
}

# apt_uri_for_suite SUITE reads /etc/apt/sources.list{,.d/*.list,.d/*.sources}
# (both one-line and deb822 formats) and prints the first URI serving SUITE.
apt_uri_for_suite() {
	suite=$1
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			awk -v s="$suite" '$1=="deb" { i=2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1)==s) print $i }' "$f"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk -v s="$suite" '
				function flush() { if (uri != "" && types ~ /(^| )deb( |$)/) { n=split(suites, a, " "); for (j=1;j<=n;j++) if (a[j]==s) print uri } uri=""; suites=""; types="" }
				/^[ \t]*$/ { flush(); next }
				/^Types:/ { sub(/^Types:[ \t]*/, ""); types=$0 }
				/^URIs:/ { sub(/^URIs:[ \t]*/, ""); split($0, u, " "); uri=u[1] }
				/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites=$0 }
				END { flush() }' "$f"
		done
	} | head -n 1
}

# package_list prints packages.txt as a comma-separated list.
package_list() {
	grep -v '^[[:space:]]*#' "$1" | awk 'NF { printf "%s%s", sep, $1; sep="," }'
}

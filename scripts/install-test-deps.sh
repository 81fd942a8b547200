#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: Debian packages
# (only those missing) and Go tools at pinned versions. Safe to run again.
set -euo pipefail

# Debian packages the tests start for real: tshark (parity checks), tcpdump.
# The lab (internal/lab): haproxy, nginx, squid, curl; gss-ntlmssp for curl
# --negotiate; iptables for the lossy runs (TestLabLossy drops packets).
packages=(tshark tcpdump chromium haproxy nginx squid curl gss-ntlmssp iptables)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	echo "installing Debian packages: ${missing[*]}"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# tshark asks whether non-root users may capture: answer no, quietly.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
	# The lab starts its own haproxy, nginx and squid on loopback: keep the
	# packages' system services from starting on install (policy-rc.d).
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
		$sudo chmod +x "$policy"
	fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	if [ -n "$policy" ]; then $sudo rm -f "$policy"; fi
fi

# Go tools, pinned.
gobin="$(go env GOPATH)/bin"
if ! "$gobin/staticcheck" -version 2>/dev/null | grep -q '0.8.2'; then
	echo "installing staticcheck v0.8.2"
	GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi

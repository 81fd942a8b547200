#!/usr/bin/env bash
# Regenerates the captures the lab keeps in testdata/lab: runs every lab
# scenario live (haproxy, nginx, squid, curl, tcpdump on 127.B.S.0/24 of lo)
# and copies each scenario's client-leg and upstream-leg pcap files, its
# ground truth (<scenario>.truth.json, the backends' and clients' own
# accounts) and, for the HTTPS scenarios, the clients' TLS key log
# (<scenario>-client.keylog, throwaway secrets) into testdata/lab. Needs root and the Debian packages of
# scripts/install-test-deps.sh. Review the diff like code: a capture whose
# truth changed is a different scenario.
#
# The run still checks each capture against the scenario's expectations;
# a failure of ntlmscope's checks does not stop the captures from being kept
# (they are the truth), a failure of the lab's own checks does.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "regen-lab-captures: run as root (tcpdump captures on lo)" >&2
	exit 1
fi
export NTLMSCOPE_REQUIRE_LAB=1
status=0
go test -count=1 -run '^TestLab$' ./internal/lab -args -update || status=$?
ls -l testdata/lab
if [ "$status" -ne 0 ]; then
	echo "regen-lab-captures: the lab run failed (see above); kept what it produced" >&2
fi
exit "$status"

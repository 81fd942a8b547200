#!/usr/bin/env bash
# bench/compare.sh: time the raw read loop, ntlmscope and tshark on the same
# generated capture, and check ntlmscope's answer against the counts known by
# construction. See bench/README.md.
#
# Environment:
#   SIZE=2GB            capture size (KB/MB/GB, powers of 1000)
#   SEED=1              generator seed
#   TSHARK_SAMPLE=200MB time tshark on a separately generated capture of this
#                       size (same seed and mix) and extrapolate its per-packet
#                       rate to the full capture; "full" times it on the full
#                       capture. Default: full below 1GB, 200MB from 1GB up.
#   BENCH_DIR=/tmp      where captures, reports and binaries go
#   NTLMSCOPE_FLAGS=    extra flags for `ntlmscope analyze` (e.g. --workers 2)
#   KEEP_OUTPUT=0       1 keeps ntlmscope's report and tshark's output
#   SCALING=            worker counts to time ntlmscope with as well (e.g.
#                       "1 2 4 8 16"): prints the scaling curve and checks
#                       that every count gives the same report
#   FORMATS=            other report formats to time on the same file (e.g.
#                       "table markdown html ndjson csv"): seconds, peak RSS
#                       and the report's size for each
#   SIZES=              other capture sizes of the same seed and mix to time
#                       ntlmscope on (e.g. "200MB 5GB"), generated when
#                       missing: seconds per GB and peak RSS beside SIZE's,
#                       which shows how time and memory grow with the file,
#                       and a check of each report against its construction
# Exit status: 0 when ntlmscope's counts match, 1 when they do not, 2 on error.
set -euo pipefail

SIZE=${SIZE:-2GB}
SEED=${SEED:-1}
BENCH_DIR=${BENCH_DIR:-/tmp}
NTLMSCOPE_FLAGS=${NTLMSCOPE_FLAGS:-}
SCALING=${SCALING:-}
FORMATS=${FORMATS:-}
SIZES=${SIZES:-}
KEEP_OUTPUT=${KEEP_OUTPUT:-0}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "compare.sh: $*" >&2; exit 2; }

# bytes SIZE: the size in bytes, as ntlmgen reads it (KB/MB/GB = 1000^n).
bytes() {
	local s=${1^^}
	case $s in
	*GIB) awk -v v="${s%GIB}" 'BEGIN{printf "%d", v*1073741824}' ;;
	*MIB) awk -v v="${s%MIB}" 'BEGIN{printf "%d", v*1048576}' ;;
	*KIB) awk -v v="${s%KIB}" 'BEGIN{printf "%d", v*1024}' ;;
	*GB) awk -v v="${s%GB}" 'BEGIN{printf "%d", v*1e9}' ;;
	*MB) awk -v v="${s%MB}" 'BEGIN{printf "%d", v*1e6}' ;;
	*KB) awk -v v="${s%KB}" 'BEGIN{printf "%d", v*1e3}' ;;
	*) awk -v v="$s" 'BEGIN{printf "%d", v}' ;;
	esac
}

if [[ -z ${TSHARK_SAMPLE:-} ]]; then
	if (($(bytes "$SIZE") >= 1000000000)); then TSHARK_SAMPLE=200MB; else TSHARK_SAMPLE=full; fi
fi

command -v jq >/dev/null || die "jq is missing: apt-get install -y jq"
command -v tshark >/dev/null || die "tshark is missing: apt-get install -y tshark"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (GNU time, for peak RSS): apt-get install -y time"

echo "== building (go build) into $BENCH_DIR"
(cd "$ROOT" &&
	go build -o "$BENCH_DIR/ntlmscope" ./cmd/ntlmscope &&
	go build -o "$BENCH_DIR/rawread" ./internal/cmd/rawread &&
	go build -o "$BENCH_DIR/ntlmgen" ./internal/cmd/ntlmgen) || die "build failed"

# capture SIZE: the path of the capture of that size, generated if missing.
capture() {
	local f="$BENCH_DIR/ntlmscope-bench-s$SEED-$1.pcapng"
	local e="${f%.pcapng}.expected.json"
	if [[ ! -s $f || ! -s $e ]]; then
		echo "== generating $f ($1, seed $SEED)" >&2
		"$BENCH_DIR/ntlmgen" -seed "$SEED" -size "$1" -o "$f" -expect "$e" >&2 || die "ntlmgen failed"
	fi
	echo "$f"
}

FILE=$(capture "$SIZE")
EXPECT=${FILE%.pcapng}.expected.json
PACKETS=$(jq .source.packets "$EXPECT")
FBYTES=$(jq .bytes "$EXPECT")
if [[ $TSHARK_SAMPLE == full ]]; then
	TFILE=$FILE
else
	TFILE=$(capture "$TSHARK_SAMPLE")
fi
TEXPECT=${TFILE%.pcapng}.expected.json
TPACKETS=$(jq .source.packets "$TEXPECT")
TBYTES=$(jq .bytes "$TEXPECT")

# measure NAME CMD...: runs CMD under GNU time; sets SECS and RSS_MB.
measure() {
	local name=$1
	shift
	local tv="$BENCH_DIR/compare-$name.time"
	cat "${MEASURED_FILE}" >/dev/null # same page-cache state for every tool
	sync                              # no earlier run's report still being written back to disk
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$tv" "$@" || die "$name failed: $*"
	t1=$(date +%s.%N)
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
	RSS_MB=$(awk -F: '/Maximum resident set size/{printf "%.0f", $2/1024}' "$tv")
	rm -f "$tv"
}

REPORT="$BENCH_DIR/compare-ntlmscope-report.json"
TSHARK_OUT="$BENCH_DIR/compare-tshark.tsv"

echo "== raw read loop"
MEASURED_FILE=$FILE
measure rawread "$BENCH_DIR/rawread" "$FILE" >"$BENCH_DIR/compare-rawread.json"
RAW_SECS=$SECS RAW_RSS=$RSS_MB
[[ $(jq .packets "$BENCH_DIR/compare-rawread.json") == "$PACKETS" ]] || die "rawread read $(jq .packets "$BENCH_DIR/compare-rawread.json") packets, want $PACKETS"

echo "== ntlmscope analyze --format json $NTLMSCOPE_FLAGS"
# shellcheck disable=SC2086 # NTLMSCOPE_FLAGS is a list of flags
measure ntlmscope "$BENCH_DIR/ntlmscope" analyze --format json $NTLMSCOPE_FLAGS -o "$REPORT" "$FILE"
NS_SECS=$SECS NS_RSS=$RSS_MB

echo "== tshark -Y ntlmssp on $(basename "$TFILE")"
MEASURED_FILE=$TFILE
measure tshark tshark -n -r "$TFILE" -Y ntlmssp -T fields -e frame.number -e ntlmssp.messagetype -e ntlmssp.auth.username >"$TSHARK_OUT" 2>/dev/null
TS_SECS=$SECS TS_RSS=$RSS_MB
# tshark sees every NTLMSSP message: Type 1s (one per handshake), Type 2s
# (challenges) and Type 3s (succeeded + failed handshakes).
TS_WANT=$(jq '.summary | .handshakes + .auth_challenges + .handshakes_succeeded + .handshakes_failed' "$TEXPECT")
TS_GOT=$(wc -l <"$TSHARK_OUT")

echo
echo "== results"
echo "machine: $(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2); print $2; exit}'), $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(go version | cut -d' ' -f3), $(tshark --version 2>/dev/null | head -1)"
echo "capture: $FILE: $FBYTES bytes, $PACKETS packets, $(jq .source.tcp_connections "$EXPECT") TCP connections, $(jq .summary.connections "$EXPECT") with HTTP, $(jq .summary.handshakes "$EXPECT") NTLM handshakes"
awk -v fb="$FBYTES" -v p="$PACKETS" -v tb="$TBYTES" -v tp="$TPACKETS" \
	-v rs="$RAW_SECS" -v rr="$RAW_RSS" -v ns="$NS_SECS" -v nr="$NS_RSS" -v ts="$TS_SECS" -v tr="$TS_RSS" \
	-v sample="$TSHARK_SAMPLE" 'BEGIN {
	rawpps = p/rs; nspps = p/ns; tspps = tp/ts
	printf "%-10s %10s %10s %12s %12s\n", "tool", "seconds", "MB/s", "packets/s", "peak RSS MB"
	printf "%-10s %10.2f %10.1f %12.0f %12d\n", "raw", rs, fb/1e6/rs, rawpps, rr
	printf "%-10s %10.2f %10.1f %12.0f %12d\n", "ntlmscope", ns, fb/1e6/ns, nspps, nr
	if (sample == "full") {
		printf "%-10s %10.2f %10.1f %12.0f %12d\n", "tshark", ts, tb/1e6/ts, tspps, tr
	} else {
		printf "%-10s %10.2f %10.1f %12.0f %12d   (extrapolated: timed on a %s capture of %d packets in %.2fs, same seed and mix; RSS is the sample'"'"'s)\n", \
			"tshark", p/tspps, tb/1e6/ts, tspps, tr, sample, tp, ts
	}
	printf "ratio ntlmscope/raw packets/s:    %.3f   (target >= 0.5: %s)\n", nspps/rawpps, (nspps/rawpps >= 0.5 ? "met" : "NOT met")
	printf "ratio tshark/ntlmscope packets/s: %.4f  (ntlmscope %.1fx tshark; target >= 50x: %s)\n", tspps/nspps, nspps/tspps, (nspps/tspps >= 50 ? "met" : "NOT met")
	printf "peak RSS of ntlmscope: %d MB (target < 256 MB: %s)\n", nr, (nr < 256 ? "met" : "NOT met")
}'
if [[ $TS_GOT == "$TS_WANT" ]]; then
	echo "tshark: $TS_GOT NTLMSSP messages, as constructed"
else
	echo "tshark: $TS_GOT NTLMSSP messages, constructed $TS_WANT (tshark's count, not ntlmscope's; see $TSHARK_OUT)"
	KEEP_OUTPUT=1
fi

echo -n "ntlmscope summary vs construction: "
status=0
"$BENCH_DIR/ntlmgen" -check "$REPORT" -expect "$EXPECT" || status=1

if [[ -n $SCALING ]]; then
	echo
	echo "== scaling: ntlmscope analyze --format json --workers N (same file)"
	MEASURED_FILE=$FILE
	printf "%-8s %10s %10s %12s %12s  %s\n" "workers" "seconds" "speedup" "packets/s" "peak RSS MB" "report"
	base=""
	for w in $SCALING; do
		out="$BENCH_DIR/compare-scaling-$w.json"
		measure "scaling-$w" "$BENCH_DIR/ntlmscope" analyze --format json --workers "$w" -o "$out" "$FILE"
		[[ -z $base ]] && base=$SECS first=$out
		same="same as --workers $(basename "$first" .json | sed 's/.*-//')"
		if ! cmp -s "$first" "$out"; then
			same="DIFFERS from --workers $(basename "$first" .json | sed 's/.*-//')"
			status=1
		fi
		awk -v w="$w" -v s="$SECS" -v b="$base" -v p="$PACKETS" -v r="$RSS_MB" -v same="$same" \
			'BEGIN { printf "%-8s %10.2f %10.2f %12.0f %12d  %s\n", w, s, b/s, p/s, r, same }'
	done
	rm -f "$BENCH_DIR"/compare-scaling-*.json
fi
if [[ -n $FORMATS ]]; then
	echo
	echo "== formats: ntlmscope analyze --format F (same file)"
	MEASURED_FILE=$FILE
	printf "%-10s %10s %12s %14s\n" "format" "seconds" "peak RSS MB" "report bytes"
	for f in $FORMATS; do
		out="$BENCH_DIR/compare-format.$f"
		measure "format-$f" "$BENCH_DIR/ntlmscope" analyze --format "$f" -o "$out" "$FILE"
		printf "%-10s %10.2f %12d %14d\n" "$f" "$SECS" "$RSS_MB" "$(stat -c %s "$out")"
		rm -f "$out"
	done
fi
if [[ -n $SIZES ]]; then
	echo
	echo "== sizes: ntlmscope analyze --format json $NTLMSCOPE_FLAGS on captures of the same seed and mix"
	printf "%-8s %12s %10s %10s %12s %12s  %s\n" "size" "packets" "seconds" "s per GB" "packets/s" "peak RSS MB" "counts"
	size_row() { # SIZE FILE SECONDS RSS COUNTS
		local e="${2%.pcapng}.expected.json"
		awk -v n="$1" -v b="$(jq .bytes "$e")" -v p="$(jq .source.packets "$e")" -v s="$3" -v r="$4" -v c="$5" \
			'BEGIN { printf "%-8s %12d %10.2f %10.2f %12.0f %12d  %s\n", n, p, s, s/(b/1e9), p/s, r, c }'
	}
	size_row "$SIZE" "$FILE" "$NS_SECS" "$NS_RSS" "checked above"
	for z in $SIZES; do
		zf=$(capture "$z")
		out="$BENCH_DIR/compare-size-$z.json"
		MEASURED_FILE=$zf
		# shellcheck disable=SC2086 # NTLMSCOPE_FLAGS is a list of flags
		measure "size-$z" "$BENCH_DIR/ntlmscope" analyze --format json $NTLMSCOPE_FLAGS -o "$out" "$zf"
		counts=match
		if ! "$BENCH_DIR/ntlmgen" -check "$out" -expect "${zf%.pcapng}.expected.json" >/dev/null 2>&1; then
			counts="DIFFER (ntlmgen -check $out -expect ${zf%.pcapng}.expected.json)"
			status=1
		fi
		size_row "$z" "$zf" "$SECS" "$RSS_MB" "$counts"
		[[ $counts == match ]] && rm -f "$out"
	done
fi
if [[ $KEEP_OUTPUT != 1 && $status == 0 ]]; then
	rm -f "$REPORT" "$TSHARK_OUT" "$BENCH_DIR/compare-rawread.json"
else
	echo "(kept $REPORT and $TSHARK_OUT)"
fi
exit $status

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tidegate-trace, as people use it to hold our bucket against another
# implementation: exact decisions on stdout, nothing else there, and clear
# errors with line numbers for bad input. Usage: test_trace.sh TRACE_BINARY
set -u
T=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
n=0

check() { # name, condition result (0 = ok)
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		fails=$((fails + 1))
	fi
}

# rate 10/s, burst 20: 20 of 25 at once, then 10 of 15 one second later
{
	i=0
	while [ $i -lt 25 ]; do echo "1000 1"; i=$((i + 1)); done
	i=0
	while [ $i -lt 15 ]; do echo "1000001000 1"; i=$((i + 1)); done
} >"$tmp/t1"
"$T" --rate 10 --burst 20 <"$tmp/t1" >"$tmp/o1" 2>"$tmp/e1"
check "exit 0 on a good trace" $?
check "one decision per line" $([ "$(wc -l <"$tmp/o1")" -eq 40 ]; echo $?)
check "only 0 and 1 on stdout" $(grep -qv '^[01]$' "$tmp/o1"; [ $? -eq 1 ]; echo $?)
check "20 of the first 25" $([ "$(head -25 "$tmp/o1" | grep -c 1)" -eq 20 ]; echo $?)
check "the first 20 are the admitted ones" \
	$([ "$(head -20 "$tmp/o1" | grep -c 1)" -eq 20 ]; echo $?)
check "10 of the next 15" $([ "$(tail -15 "$tmp/o1" | grep -c 1)" -eq 10 ]; echo $?)
check "nothing on stderr" $([ ! -s "$tmp/e1" ]; echo $?)

# fractional rate: 0.5/s, burst 1: one every 2 s
printf '0 1\n1000000000 1\n1999999999 1\n2000000000 1\n' >"$tmp/t2"
"$T" --rate 0.5 --burst 1 <"$tmp/t2" >"$tmp/o2"
check "fractional rate" $([ "$(tr -d '\n' <"$tmp/o2")" = "1001" ]; echo $?)

# byte mode: 1000 B/s, burst 1500
printf '0 1500\n0 1\n1000000000 1000\n1000000000 1\n' >"$tmp/t3"
"$T" --rate 1000 --burst 1500 --bytes <"$tmp/t3" >"$tmp/o3"
check "byte mode" $([ "$(tr -d '\n' <"$tmp/o3")" = "1010" ]; echo $?)
# packet mode reads the cost column as a number of messages: the same
# arithmetic, so the same decisions
"$T" --rate 1000 --burst 1500 <"$tmp/t3" >"$tmp/o3p"
check "packet mode: cost is a message count" \
	$([ "$(tr -d '\n' <"$tmp/o3p")" = "1010" ]; echo $?)

# malformed lines: the line number on stderr, non-zero exit
printf '0 1\n5 1\nten 1\n20 1\n' >"$tmp/t4"
"$T" --rate 10 --burst 5 <"$tmp/t4" >"$tmp/o4" 2>"$tmp/e4"
rc=$?
check "malformed line: non-zero exit" $([ $rc -ne 0 ]; echo $?)
check "malformed line: line 3 named" $(grep -q "line 3" "$tmp/e4"; echo $?)
check "decisions before the bad line are printed" \
	$([ "$(wc -l <"$tmp/o4")" -eq 2 ]; echo $?)
for bad in "5" "5 1 x" "-5 1" "5 -1" "5 1.5" "99999999999999999999 1" "" "5,1"; do
	printf '0 1\n%s\n' "$bad" >"$tmp/t5"
	"$T" --rate 10 --burst 5 <"$tmp/t5" >/dev/null 2>"$tmp/e5"
	rc=$?
	check "rejects '$bad' at line 2" \
		$([ $rc -ne 0 ] && grep -q "line 2" "$tmp/e5"; echo $?)
done
printf '10 1\n5 1\n' >"$tmp/t6"
"$T" --rate 10 --burst 5 <"$tmp/t6" >/dev/null 2>"$tmp/e6"
check "timestamps going back are an error" \
	$([ $? -ne 0 ] && grep -q "line 2.*backwards" "$tmp/e6"; echo $?)

# flags
"$T" --burst 5 </dev/null >/dev/null 2>&1
check "missing --rate: exit 2" $([ $? -eq 2 ]; echo $?)
"$T" --rate 5 </dev/null >/dev/null 2>&1
check "missing --burst: exit 2" $([ $? -eq 2 ]; echo $?)
for bad in "--rate 0 --burst 1" "--rate -1 --burst 1" "--rate x --burst 1" \
	"--rate 1 --burst 0" "--rate 1 --burst 1.5" "--rate 1 --burst 1 extra"; do
	# shellcheck disable=SC2086
	"$T" $bad </dev/null >/dev/null 2>&1
	check "bad flags '$bad': exit 2" $([ $? -eq 2 ]; echo $?)
done
"$T" --help >"$tmp/h" 2>&1
check "--help exits 0 and explains the input" \
	$([ $? -eq 0 ] && grep -q "t_ns" "$tmp/h"; echo $?)
: | "$T" --rate 1 --burst 1 >"$tmp/o7"
check "empty input: no output, exit 0" $([ $? -eq 0 ] && [ ! -s "$tmp/o7" ]; echo $?)

echo "1..$n"
[ $fails -eq 0 ]

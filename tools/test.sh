#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The test command: installs what is missing, builds tidegate twice (the
# normal build and one under AddressSanitizer + UBSan), runs every test
# suite (the benchmarks excepted), and ends with one line over all of them:
# "N passed, N failed". Exit status 0 only when nothing failed.
set -u
cd "$(dirname "$0")/.."

tools/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

status=0
build_failed=0
logs=""

build() { # dir, extra meson options...
	dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
	fi
	meson compile -C "$dir"
}

run() { # dir, meson test options...
	dir=$1
	shift
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --print-errorlogs "$@" || status=1
	[ -f "$dir/meson-logs/testlog.json" ] &&
		logs="$logs $dir/meson-logs/testlog.json"
}

if build build; then
	run build
else
	echo "build failed" >&2
	build_failed=$((build_failed + 1))
fi

if build build-asan -Db_sanitize=address,undefined -Db_lundef=false; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run build-asan --suite unit --suite tools --suite dataplane \
			--suite kafka
else
	echo "sanitizer build failed" >&2
	build_failed=$((build_failed + 1))
fi

# a build that failed counts as one failed test
# shellcheck disable=SC2086
python3 tools/summary.py --failed "$build_failed" $logs || status=1
exit $status

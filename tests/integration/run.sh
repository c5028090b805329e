#!/bin/bash
# run.sh - integration tests: real processes through dump, kill, restore.
#
#   bash tests/integration/run.sh [--no-ckpt] [TEST...]
#
# Runs every test (or the named ones) and prints "PASS name (N s)" or
# "FAIL name: reason" (with the tail of that test's logs) per test, then
# exactly "N passed, N failed" as the last line (CI parses it).  Exit
# status 0 only if nothing failed.  Must run as root, from anywhere.
#
# The tests are in one file per area next to this one, t-AREA.sh: each
# defines a function t_NAME per test and appends NAME to ALL_TESTS, and
# to CKPT_ONLY if the test makes no sense without ckpt.  run.sh sources
# every t-*.sh: a new area is a new file.  lib.sh holds what tests of
# several areas use: the workload cycle, waits, process trees, ckpt serve.
#
# Each test runs in a subshell whose EXIT trap SIGKILLs whatever it
# started; its directory D is removed on success and kept (and printed)
# on failure.
#
# --no-ckpt runs the workload tests without dump and restore, to check the
# workloads and this script themselves; tests that need ckpt are skipped.
#
# Environment: B (build directory, default build).

set -u
shopt -s nullglob

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# every test, and (each between spaces) those that make no sense without
# ckpt; the t-*.sh files fill both
ALL_TESTS=()
CKPT_ONLY=" "
for area in "$TOP"/tests/integration/t-*.sh; do
	source "$area"
done

# ---- driver --------------------------------------------------------------

show_logs() {
	local f
	for f in out.log ckpt.log restore.log errors.log tty1.log tty2.log \
		 runner.log; do
		[[ -s $1/$f ]] || continue
		echo "    ==> $f <=="
		tail -n 5 "$1/$f" | sed 's/^/    /'
	done
	echo "    kept $1"
}

run_one() {
	local name=$1 dir reason rc start=$SECONDS
	if ! declare -F "t_$name" >/dev/null; then
		echo "FAIL $name: no such test"
		return 1
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-test-$name.XXXXXX")
	(
		D=$dir
		trap cleanup EXIT
		trap 'fail "interrupted"' INT TERM
		"t_$name"
	) 2>>"$dir/runner.log"	# bash's "Killed" job notices, script errors
	rc=$?
	# a test that can't run here (skip in lib.sh) says why
	if ((rc == 0)) && [[ -f $dir/skip ]]; then
		echo "SKIP $name ($(cat "$dir/skip"))"
		rm -rf "$dir"
		return 0
	fi
	if ((rc == 0)); then
		echo "PASS $name ($((SECONDS - start)) s)"
		rm -rf "$dir"
		return 0
	fi
	reason=$(cat "$dir/reason" 2>/dev/null)
	echo "FAIL $name: ${reason:-test script error}"
	show_logs "$dir"
	return 1
}

main() {
	local tests=() t passed=0 failed=0
	if [[ ${1-} == --no-ckpt ]]; then
		NO_CKPT=1
		shift
	fi
	if (($(id -u) != 0)); then
		echo "run.sh must run as root"
		echo "0 passed, 1 failed"
		exit 1
	fi
	tests=("$@")
	((${#tests[@]})) || tests=("${ALL_TESTS[@]}")
	cd "$TOP" || exit 1
	trap 'INTERRUPTED=1' INT
	INTERRUPTED=0
	for t in "${tests[@]}"; do
		if ((NO_CKPT)) && [[ $CKPT_ONLY == *" $t "* ]]; then
			echo "SKIP $t (needs ckpt)"
			continue
		fi
		if run_one "$t"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
		((INTERRUPTED)) && break
	done
	echo "$passed passed, $failed failed"
	((failed == 0))
}

# one line: bash reads scripts as it goes; editing this file while it
# runs must not make it run anything after main
main "$@"; exit

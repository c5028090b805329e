# lib.sh - what the fault campaigns share (kill-ckpt.sh, kill-restore.sh):
# paths, the command line, and small helpers. Sourced, after DEFAULT (the
# targets without arguments) and POINTS are set.
#
#   SCRIPT [--runs N] [--points | --own-points] [TARGET...]

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
CKPT=$B/bin/ckpt
RESTORE=$B/bin/restore
WLB=$B/tests/workloads

RUNS=100
USE_POINTS=0
OWN_POINTS=0	# only the target's own points (POINTS_TARGET)
TARGETS=()
while (($#)); do
	case $1 in
	--runs) RUNS=$2; shift ;;
	--points) USE_POINTS=1 ;;
	--own-points) USE_POINTS=1; OWN_POINTS=1 ;;
	*) TARGETS+=("$1") ;;
	esac
	shift
done
((${#TARGETS[@]})) || TARGETS=("${DEFAULT[@]}")

PASSED=0
FAILED=0
WHY=
D=

# in a subshell: close what we inherited beyond 0-2, then exec "$@"
clean_exec() {
	local fd
	for fd in /proc/self/fd/*; do
		fd=${fd##*/}
		((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
	done
	exec "$@"
}

wait_for() {	# wait_for TENTHS COMMAND...: poll until it succeeds
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# pids of the tree under $1, the root first
tree_pids() {
	local todo=("$1") p s rest out=()
	while ((${#todo[@]})); do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		out+=("$p")
		for s in /proc/[0-9]*/stat; do
			{ read -r rest <"$s"; } 2>/dev/null || continue
			rest=${rest##*) }
			set -- $rest
			[[ $2 == "$p" ]] && { s=${s#/proc/}; todo+=("${s%/stat}"); }
		done
	done
	echo "${out[@]}"
}

state_of() {	# state letter of $1, or - when gone
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || { echo -; return; }
	st=${st##*) }
	echo "${st%% *}"
}

# sleep for $1 microseconds
usleep() {
	sleep "$(printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)))"
}

# a random moment in 0 .. 1.1 times $1 (microseconds)
random_moment() {
	echo $(((RANDOM * 32768 + RANDOM) % ($1 * 11 / 10 + 1)))
}

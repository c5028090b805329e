# bench/migmem-lib.sh - what the benchmarks that run migmem
# (tests/workloads/migmem.c) share; sourced, after a die() of their own.

# closed CMD...: CMD without the descriptors above 2 we inherited (ckpt
# refuses a pipe shared with a process outside the tree)
closed() {
	local f n
	for f in /proc/$BASHPID/fd/*; do
		n=${f##*/}
		((n > 2)) && eval "exec $n>&-" 2>/dev/null
	done
	exec "$@"
}

# wait_for FILE PATTERN SECS
wait_for() {
	local end=$((SECONDS + $3))
	until grep -q "$2" "$1" 2>/dev/null; do
		((SECONDS < end)) || die "no '$2' in $1 after $3 s"
		sleep 0.1
	done
}

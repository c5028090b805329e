#!/bin/bash
# real-seeds.sh - seeds for fuzz_image from real images: each workload of
# the integration tests that makes a kind of record of its own (TCP, UDP
# and netlink sockets, ghost files and directories, memfds, pty pairs,
# locks, timers, seccomp filters, process state, System V segments ...)
# is dumped once with `ckpt attach --tree --kill` and its image kept.
#
#   bash tests/fuzz/real-seeds.sh BUILD OUTDIR
#
# Needs root (ckpt attach) and a built tree (ckpt, the workloads); prints
# one line per workload and skips, saying so, what it can't dump here.
# The images are copied as they are: they hold real memory pages, so
# fuzz_image mutates real records between them.

set -u
B=$1
OUT=$2
case $B in /*) ;; *) B=$PWD/$B ;; esac
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEFAULT=()
POINTS=()
source "$TOP/tests/fault/lib.sh"
# an input that large slows every run down: its CRCs are computed twice
MAX_SEED=$((1200 * 1024))
WORKLOADS=(inet udp tcpclose netlink ghost memfd ptypair tty locks ptimers
	   timers seccomp shm share sockets pipes kfds stopped jobstop zombie
	   signals prctl caps madvise sparse tree)

have_ready() { [[ -s $D/ready ]]; }

# one workload dumped into OUT/real-NAME.ckpt; 0 if it was
one() {
	local w=$1 pid p
	[[ -x $WLB/$w ]] || { echo "skip $w: not built"; return 1; }
	D=$(mktemp -d /tmp/ckpt-seed.XXXXXX)
	(cd "$D" && clean_exec "$WLB/reaper" "$WLB/$w") \
		>"$D/out.log" 2>&1 </dev/null &
	if wait_for 300 have_ready; then
		pid=$(<"$D/ready")
		sleep 0.5
		if ! "$CKPT" attach --tree --kill -o "$D/img" "$pid" \
			2>"$D/dump.log"; then
			echo "skip $w: $(tail -n 1 "$D/dump.log")"
			# refused: the tree runs on (killed, it is gone)
			for p in $(tree_pids "$pid"); do
				kill -9 "$p" 2>/dev/null
			done
		elif (($(stat -c %s "$D/img") > MAX_SEED)); then
			echo "skip $w: image larger than $MAX_SEED bytes"
		else
			cp "$D/img" "$OUT/real-$w.ckpt" && echo "seed $w"
		fi
	else
		echo "skip $w: not ready"
	fi
	touch "$D/stop"
	kill -9 "$!" 2>/dev/null
	wait
	[[ -s $D/shm.key ]] && ipcrm -M "$(<"$D/shm.key")" 2>/dev/null
	rm -rf "$D"
}

[[ $(id -u) == 0 && -x $CKPT ]] || {
	echo "real-seeds: needs root and $CKPT: no real seeds"
	exit 0
}
mkdir -p "$OUT"
for w in "${WORKLOADS[@]}"; do
	one "$w"
done
exit 0

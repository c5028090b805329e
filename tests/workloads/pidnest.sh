# pidnest.sh - a tree in PID namespaces below its root's, as a container
# running `unshare -fp` has: bash pidnest.sh COUNTER DEPTH (cwd D). The
# shell at level 0 (the root) runs `unshare -fp` of itself at level 1,
# and so on down to level DEPTH, whose shell runs the counter in D/c
# (D/count, D/stop and D/restored linked to it). Each shell below level
# 0 is PID 1 of its namespace and leaves an orphan there, a sleep named
# pidnest-orphan-LEVEL whose parent exits at once, which the shell, the
# namespace's init, reaps once it dies. Level 0 writes D/ready (its PID
# on this host: bash reads /proc/self in the host's /proc) once the
# counter is ready; each loops until D/stop and exits with its child's
# status.
d=$PWD
lv=${PIDNEST_LEVEL:-0}
if ((lv < $2)); then
	PIDNEST_LEVEL=$((lv + 1)) unshare -fp "$BASH" "${BASH_SOURCE[0]}" \
		"$1" "$2" &
	k=$!
else
	mkdir -p c && ln -sf ../stop c/stop && ln -sf ../restored c/restored &&
		ln -sf c/count count || exit 1
	(cd c && CKPT_TEST_DIR=$d/c exec "$1") &
	k=$!
fi
if ((lv > 0)); then
	(exec -a "pidnest-orphan-$lv" sleep 1000 </dev/null >/dev/null 2>&1 &)
fi
if ((lv == 0)); then
	while [[ ! -e c/ready ]]; do sleep 0.05; done
	read -r me _ </proc/self/stat
	echo "$me" >ready.tmp && mv ready.tmp ready
fi
while [[ ! -e stop ]]; do sleep 0.1; done
wait $k

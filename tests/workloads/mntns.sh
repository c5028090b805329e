# mntns.sh - a tree with mount namespaces below its root's. The root
# (this shell, in the mount namespace it was started in) starts A in one
# of its own (unshare -m): a shared tmpfs on D/m holding n (a number A's
# loop counts up), a read-only bind of D/src on D/m/b, proc on D/m/p,
# another shared tmpfs on D/s2. A's children are the counter $1 (in A's
# namespace, in D/c with D/count, D/stop and D/restored linked to it,
# sharing A's fd 7 on D/m/log, which A counts into) and C, in a
# namespace of its own made from A's (unshare -m --propagation slave,
# as systemd's PrivateTmp= does: its D/m a slave of A's, its D/s2 made
# private): it unmounts D/m/b and D/m/p, mounts a tmpfs on D/m/x holding
# n, which its loop counts up, and log, which it holds open as fd 6 (its
# own: not its children's) and counts into too, and remounts D/m
# read-only. The root writes D/ready (its PID) once the
# counter is ready, waits for D/stop and exits with A's status, A's the
# counter's (once C ended). MODE, for the refusals: peer (C's copy of
# A's tmpfs its peer, not a slave), devpts (A mounts a devpts instance
# on D/m/p instead of proc), join (a child of the root enters A's
# namespace with nsenter), fd (A holds fd 5 open, shared with C in
# another namespace, on D/m/n, a file of its tmpfs). Run as:
# bash mntns.sh COUNTER [MODE] (cwd D).
d=$PWD
export d M=$d/m COUNTER=$1 MODE=${2:-}
mkdir -p m s2 src c && echo bound >src/f && ln -sf ../stop c/stop &&
	ln -sf ../restored c/restored && ln -sf c/count count || exit 1

# C: in a copy of A's namespace
inner='set -e
umount "$M/b" "$M/p"
mount --make-private "$d/s2"
mount -t tmpfs -o size=1m,nodev ckpt-mntns-x "$M/x"
echo 0 >"$M/x/n"
exec 6>>"$M/x/log"
mount -o remount,bind,ro "$M"
echo ready >"$d/c-ready"
while [ ! -e "$d/stop" ]; do
	read -r n <"$M/x/n"
	echo $((n + 1)) >"$M/x/n"
	echo $((n + 1)) >&6
	sleep 0.1 6>&-
done'

# A
outer='set -e
mount -t tmpfs -o size=4m,mode=750 ckpt-mntns "$M"
mkdir "$M/b" "$M/x" "$M/p"
echo 0 >"$M/n"
mount --bind "$d/src" "$M/b"
mount -o remount,bind,ro,nosuid "$M/b"
if [ "$MODE" = devpts ]; then
	mount -t devpts -o newinstance ckpt-mntns-pts "$M/p"
else
	mount -t proc -o nosuid,nodev proc "$M/p"
fi
[ "$MODE" = fd ] && exec 5<"$M/n"
exec 7>>"$M/log"
# shared: the copy C gets is a slave of it, or with MODE peer a peer
mount --make-shared "$M"
mount -t tmpfs -o size=1m ckpt-mntns-s2 "$d/s2"
mount --make-shared "$d/s2"
prop=slave
[ "$MODE" = peer ] && prop=unchanged
(cd "$d/c" && CKPT_TEST_DIR=$d/c exec "$COUNTER") &
k=$!
unshare -m --propagation $prop bash -c "$inner" 7>&- &
while [ ! -e "$d/stop" ]; do
	read -r n <"$M/n"
	echo $((n + 1)) >"$M/n"
	echo $((n + 1)) >&7
	sleep 0.1 7>&-
done
wait $k
st=$?
wait
exit $st'
export inner
unshare -m --propagation private bash -c "$outer" &
a=$!
while [[ ! -e c/ready || ! -e c-ready ]]; do sleep 0.05; done
if [[ $MODE == join ]]; then
	nsenter -t $a -m bash -c 'while [ ! -e "$d/stop" ]; do sleep 0.1; done' &
fi
echo $$ >ready.tmp && mv ready.tmp ready
while [[ ! -e stop ]]; do sleep 0.1; done
wait $a

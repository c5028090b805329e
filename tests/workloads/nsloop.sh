# nsloop.sh - the shell of a small container: sets the hostname to $2,
# runs the counter $1 in D/c (D/count, D/stop and D/restored linked to
# it), writes D/ready (its own PID) once the counter is ready, loops
# until D/stop and exits with the counter's status. Run as:
# bash nsloop.sh COUNTER HOSTNAME (cwd D), in namespaces of its own.
# NSLOOP_PID: its PID on this host, when its /proc does not show it.
d=$PWD
hostname "$2" || exit 1
mkdir -p c && ln -sf ../stop c/stop && ln -sf ../restored c/restored &&
	ln -sf c/count count || exit 1
(cd c && CKPT_TEST_DIR=$d/c exec "$1") &
k=$!
while [[ ! -e c/ready ]]; do sleep 0.05; done
# its PID on this host (in a PID namespace of its own, $$ would be 1):
# bash opens /proc/self itself, in the host's /proc; NSLOOP_PID if
# /proc is the namespace's
read -r me _ </proc/self/stat
me=${NSLOOP_PID:-$me}
echo "$me" >ready.tmp && mv ready.tmp ready
while [[ ! -e stop ]]; do sleep 0.1; done
wait $k

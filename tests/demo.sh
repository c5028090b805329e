#!/usr/bin/env bash
# The demo: run a program, checkpoint it, kill it, restore it, and watch it
# carry on where it was. Run as root from the top of the tree: make demo
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
ckpt=$top/build/bin/ckpt
restore=$top/build/bin/restore
dir=$(mktemp -d /tmp/ckpt-demo.XXXXXX)
pid=

cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }

# a Python loop that prints a counter three times a second; fds above 2
# are closed so that it holds only what ckpt restores (files, terminals)
(
	for fd in $(ls /proc/$BASHPID/fd); do
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done 2>/dev/null
	cd "$dir" && exec python3 -u -c '
import time
i = 0
while True:
    print("tick", i)
    i += 1
    time.sleep(0.3)' </dev/null >"$dir/out" 2>&1
) &
pid=$!
say "started python3 as pid $pid; it writes a counter to $dir/out"
sleep 2
tail -n 3 "$dir/out"

say "ckpt attach --kill -o $dir/job.ckpt $pid"
# bash would report the killed job on stderr: hide that notice, then reap
# the job (its PID must be free for the restore)
exec 3>&2 2>/dev/null
"$ckpt" attach --kill -o "$dir/job.ckpt" "$pid" 2>&3 || exit 1
wait "$pid"
exec 2>&3 3>&-
ls -l "$dir/job.ckpt"
last=$(tail -n 1 "$dir/out")
say "pid $pid is gone ($(kill -0 "$pid" 2>/dev/null && echo alive || echo dead)); last line: $last"
sleep 1
say "restore --detach $dir/job.ckpt"
pid=$("$restore" --detach "$dir/job.ckpt") || exit 1
echo "restored as pid $pid"
sleep 2
say "it carries on from '$last':"
grep -A 5 -x "$last" "$dir/out" | head -n 6
"$ckpt" inspect "$dir/job.ckpt" | head -n 1
kill "$pid"
say "done"

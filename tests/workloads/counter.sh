# counter.sh - the counter workload in bash, using only builtins.
#
# One process: no external commands and no $(...) subshells anywhere, so
# that the dump never sees a child.  Appends "N\n" to D/count through fd 3
# (O_APPEND), spinning in a builtin loop between lines; writes D/ready
# (its PID) after five lines - directly, as renaming it would need mv; the
# runner only accepts a ready file ending in a newline.  On D/stop checks
# an array built at start and exits 0.  Run as: bash counter.sh (cwd D).
d=$PWD
exec 3>>"$d/count" || exit 1

fail() { echo "FAIL: $*" >&2; exit 1; }

data=()
sum=0
for ((i = 0; i < 10000; i++)); do
	data[i]=$((i * 7 + 3))
	((sum += data[i]))
done

n=0
while :; do
	echo "$n" >&3 || fail "write count"
	((n++))
	((n == 5)) && echo "$$" >"$d/ready"
	((n > 5)) && [[ -e $d/stop ]] && break
	for ((j = 0; j < 3000; j++)); do :; done
done

s=0
for ((i = 0; i < 10000; i++)); do
	((data[i] == i * 7 + 3)) || fail "data[$i] is ${data[i]}"
	((s += data[i]))
done
((s == sum && ${#data[@]} == 10000)) || fail "array changed"
lines=0
while read -r _; do ((lines++)); done <"$d/count"
((lines == n)) || fail "count file has $lines lines, the counter is at $n"
exit 0

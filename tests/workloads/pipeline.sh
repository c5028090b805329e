# pipeline.sh - bash running a pipeline into a file:
#
#     seq 1 1000000000 | while read -r n; do ...; done >> out
#
# seq fills the pipe far faster than the loop reads it (bash reads a pipe
# byte by byte), so bytes are always in flight at dump time. The loop
# appends every number it reads to D/out; after restore D/out must hold
# 1, 2, 3, ... with nothing lost or repeated. The loop stops at D/stop;
# seq then dies of SIGPIPE and the script exits 0. Writes D/ready (its
# PID) once the loop has written 200 numbers. Run as: bash pipeline.sh
# (cwd D).
d=$PWD
seq 1 1000000000 | while read -r n; do
	echo "$n"
	((n == 200)) && echo "$$" >"$d/ready"
	[[ -e $d/stop ]] && break
done >>"$d/out"

#!/bin/bash
# Benchmark of dump and restore, as ratios to baselines measured in the
# same run (DESIGN.md, "Performance targets"): the machines are shared and
# noisy, so each round measures a baseline and ckpt back to back, the order
# of what is compared alternates or rotates between rounds, and the figures
# are medians over the rounds. Two identical targets are filled in each
# round: A writes its own memory (the dump baseline), B is dumped, so that
# either can go first.
#
#   dump ratio    = write(2) of the memory to a file + fsync
#                   / ckpt attach --kill of a process holding it
#                   (also as CPU time, user + system, of the writer and of
#                   ckpt: less disturbed by the load than the wall time)
#   restore ratio = fill fresh memory from the image file
#                   / restore --detach of the image, (a) plain mmap + read,
#                   (b) 2 MiB-aligned MADV_HUGEPAGE + MADV_POPULATE_WRITE
#                   + read in 64 MiB chunks
#
# Every restore is verified (checksum of the memory) before its time counts.
# On this VM the first write(2) to a file from freshly filled anonymous
# memory costs up to ten times the CPU of the next ones from the same
# memory (256 MiB: 0.6 s, then 0.05 s); the same first write from a small
# buffer is cheap, and neither a pass reading the memory in user space
# nor a first write of it to a memfd spares it (cause not found). The
# baseline's target pays it every round; ckpt, reading with
# process_vm_readv into a small buffer, does not: read the dump ratio
# with that in mind.
# Environment: BENCH_MIB (1024), BENCH_ROUNDS (3), BENCH_CKPT (the ckpt to
# measure, build/bin/ckpt: e.g. the build of another branch).
set -u

cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_MIB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
W=$PWD/build/bench
CKPT=${BENCH_CKPT:-$PWD/build/bin/ckpt}
RESTORE=$PWD/build/bin/restore
IMG=$W/img.ckpt
TPID_A=
TPID_B=
RPID=

mkdir -p "$W" || exit 1
cc -O2 -Wall -Wextra -o "$W/target" bench/target.c || exit 1
cc -O2 -Wall -Wextra -o "$W/tool" bench/tool.c || exit 1

# the image and the write baseline: 2 x MIB, plus room
avail=$(df --output=avail -BM "$W" | tail -1 | tr -dc 0-9)
if [ "$avail" -lt $((MIB * 2 + 512)) ]; then
	echo "bench: $avail MiB free in $W, need $((MIB * 2 + 512))" >&2
	exit 1
fi

die() {
	echo "bench: $*" >&2
	exit 1
}

cleanup() {
	[ -n "$TPID_A" ] && kill -9 "$TPID_A" 2>/dev/null
	[ -n "$TPID_B" ] && kill -9 "$TPID_B" 2>/dev/null
	[ -n "$RPID" ] && kill -9 "$RPID" 2>/dev/null
	rm -f "$IMG" "$W"/base.img "$W"/*.tmp "$W"/.*.tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_file PATH SECONDS
wait_file() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait until PID is gone (the restored process is not our child)
wait_gone() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -d /proc/$1 ] || return 0
		[ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" = Z ] &&
			return 0
		sleep 0.05
	done
	return 1
}

start_target() {	# NAME -> TPID, control files in $W/NAME/
	mkdir -p "$W/$1"
	rm -f "$W/$1"/ready "$W/$1"/sum "$W/$1"/wrote
	# only 0-2 open, and not on pipes: this environment passes more
	(
		for fd in $(ls /proc/$BASHPID/fd); do
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		exec "$W/target" "$MIB" "$W/$1" "$W/base.img" </dev/null \
			>/dev/null 2>"$W/$1/target.err"
	) &
	TPID=$!
	disown "$TPID"
}

start_targets() {	# -> TPID_A TPID_B TOUCH0_NS
	start_target a; TPID_A=$TPID
	start_target b; TPID_B=$TPID
	wait_file "$W/a/ready" 300 && wait_file "$W/b/ready" 300 ||
		die "the targets did not get ready"
	read -r _ TOUCH0_NS <"$W/b/ready"
}

measure_write() {	# -> WRITE_NS FSYNC_NS WRITE_CPU_NS
	rm -f "$W/a/wrote"
	kill -USR2 "$TPID_A"
	wait_file "$W/a/wrote" 120 || die "the write baseline did not finish"
	read -r WRITE_NS FSYNC_NS WRITE_CPU_NS <"$W/a/wrote"
}

measure_dump() {	# -> DUMP_NS DUMP_USR DUMP_SYS
	local out
	out=$("$W/tool" time /dev/null "$CKPT" attach --kill -o "$IMG" \
		"$TPID_B" 2>"$W/ckpt.err") || {
		cat "$W/ckpt.err" >&2
		die "ckpt attach failed"
	}
	read -r DUMP_NS DUMP_USR DUMP_SYS <<<"$out"
	wait_gone "$TPID_B"
	TPID_B=
}

# s NSEC: seconds with 3 decimals
s() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e9 }'; }

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
	END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

measure_fill() {	# plain|huge -> FILL_NS
	local out
	out=$("$W/tool" fill "$IMG" "$MIB" "$1") || die "fill $1 failed"
	read -r FILL_NS _ _ FILL_TOUCH_NS <<<"$out"
}

measure_restore() {	# -> RESTORE_NS RESTORE_USR RESTORE_SYS TOUCH_NS
	local out sum want
	out=$("$W/tool" time "$W/restore.out" "$RESTORE" --detach "$IMG" \
		2>"$W/restore.err") || {
		cat "$W/restore.err" >&2
		die "restore failed"
	}
	read -r RESTORE_NS RESTORE_USR RESTORE_SYS <<<"$out"
	RPID=$(tr -dc 0-9 <"$W/restore.out")
	[ -n "$RPID" ] || die "restore printed no pid"
	rm -f "$W/b/sum"
	kill -USR1 "$RPID" || die "the restored process $RPID is gone"
	wait_file "$W/b/sum" 60 || die "the restored process did not answer"
	read -r sum TOUCH_NS <"$W/b/sum"
	read -r want _ <"$W/b/ready"
	[ "$sum" = "$want" ] ||
		die "restored memory differs: checksum $sum, want $want"
	kill -9 "$RPID"
	wait_gone "$RPID" || die "the restored process $RPID does not die"
	RPID=
}

declare -a TOUCH0 TOUCHA TOUCHB FSYNC WRITE WRITE_CPU DUMP DUMP_CPU DUMP_USR DUMP_SYS FA FB REST REST_USR REST_SYS TOUCH

printf 'ckpt bench: %d MiB of random anonymous memory, %d rounds, %s\n' \
	"$MIB" "$ROUNDS" "$(nproc) cpus"
printf '%-6s %8s %8s %8s %8s %8s %8s %9s\n' round write dump \
	"fill(a)" "fill(b)" restore touch order
for ((r = 0; r < ROUNDS; r++)); do
	rm -f "$IMG" "$W/base.img"
	# ext4 here mounts with discard: let the journal commit the removals
	# now, or the next fsync (baseline or ckpt's) pays for them
	sync
	start_targets
	TOUCH0[r]=$TOUCH0_NS

	# dump: alternate which goes first; neither file is removed before
	# both are written, so neither reuses the other's page cache
	if ((r % 2 == 0)); then
		measure_write; measure_dump; dorder=WD
	else
		measure_dump; measure_write; dorder=DW
	fi
	WRITE[r]=$WRITE_NS; FSYNC[r]=$FSYNC_NS; WRITE_CPU[r]=$WRITE_CPU_NS
	DUMP[r]=$DUMP_NS; DUMP_USR[r]=$DUMP_USR; DUMP_SYS[r]=$DUMP_SYS
	DUMP_CPU[r]=$(((DUMP_USR + DUMP_SYS) * 1000))
	rm -f "$W/base.img"
	kill -9 "$TPID_A"; wait_gone "$TPID_A"; TPID_A=

	# restore: rotate the order so that no method always comes first
	case $((r % 3)) in
	0) order="a b R" ;;
	1) order="R a b" ;;
	*) order="b R a" ;;
	esac
	for m in $order; do
		case $m in
		a) measure_fill plain; FA[r]=$FILL_NS; TOUCHA[r]=$FILL_TOUCH_NS ;;
		b) measure_fill huge; FB[r]=$FILL_NS; TOUCHB[r]=$FILL_TOUCH_NS ;;
		R) measure_restore
		   REST[r]=$RESTORE_NS; TOUCH[r]=$TOUCH_NS
		   REST_USR[r]=$RESTORE_USR; REST_SYS[r]=$RESTORE_SYS ;;
		esac
	done
	printf '%-6s %8s %8s %8s %8s %8s %8s %9s\n' $((r + 1)) \
		"$(s "${WRITE[r]}")" "$(s "${DUMP[r]}")" "$(s "${FA[r]}")" \
		"$(s "${FB[r]}")" "$(s "${REST[r]}")" "$(s "${TOUCH[r]}")" \
		"$dorder,${order// /}"
done

sec() { s "$(median "$@")"; }
usec() { awk -v n="$(median "$@")" 'BEGIN { printf "%.3f", n / 1e6 }'; }
mw=$(median "${WRITE[@]}"); md=$(median "${DUMP[@]}")
ma=$(median "${FA[@]}"); mb=$(median "${FB[@]}"); mr=$(median "${REST[@]}")
printf '%-6s %8s %8s %8s %8s %8s %8s\n' median "$(s "$mw")" "$(s "$md")" \
	"$(s "$ma")" "$(s "$mb")" "$(s "$mr")" "$(sec "${TOUCH[@]}")"
cat <<END
(seconds. write: write(2) + fsync baseline; fill(a): mmap + read(2);
 fill(b): huge-page populate + read(2); touch: first pass over the restored
 memory; order: dump side (W write, D dump), restore side (a, b, R restore))
fsync share of the write baseline: $(sec "${FSYNC[@]}") s
first pass over the memory (owed at first access): before the dump $(sec "${TOUCH0[@]}") s,
  after fill(a) $(sec "${TOUCHA[@]}") s, after fill(b) $(sec "${TOUCHB[@]}") s, after restore $(sec "${TOUCH[@]}") s
cpu of ckpt: user $(usec "${DUMP_USR[@]}") s, sys $(usec "${DUMP_SYS[@]}") s; of restore: user $(usec "${REST_USR[@]}") s, sys $(usec "${REST_SYS[@]}") s
END

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() {
	awk -v x="$1" -v t="$2" 'BEGIN { print (x > t) ? "ok" : "BELOW TARGET" }'
}
d=$(ratio "$mw" "$md"); ra=$(ratio "$ma" "$mr"); rb=$(ratio "$mb" "$mr")
echo "dump ratio (write / dump): $d (target > 0.5: $(verdict "$d" 0.5))"
dc=$(ratio "$(median "${WRITE_CPU[@]}")" "$(median "${DUMP_CPU[@]}")")
echo "dump ratio in CPU time (write / dump): $dc (write $(sec "${WRITE_CPU[@]}") s," \
	"dump $(sec "${DUMP_CPU[@]}") s; target > 0.67: $(verdict "$dc" 0.667))"
echo "restore ratio (a) (mmap + read / restore): $ra" \
	"(target > 0.7: $(verdict "$ra" 0.7))"
echo "restore ratio (b) (huge-page fill / restore): $rb" \
	"(target > 0.33, within 3x: $(verdict "$rb" 0.333))"
echo "downtime (frozen = the whole dump for now): $(s "$md") s"

#!/bin/bash
# Benchmark of file snapshots (ckpt attach --snapshot-open): the time and
# the space that a snapshot of BENCH_MIB MiB of backing files (8 files a
# process holds open) takes, on filesystems with reflinks (btrfs and xfs,
# each in a loop-mounted image made here) and without (ext4 in a loop
# image: copy_file_range; tmpfs: a plain copy), against
# `cp --reflink=auto` of the same files on the same filesystem.
#
# Time: the whole `ckpt attach` (without --kill: the process runs on) and
# the part of it while the process is frozen (attach --json's
# frozen_seconds), which holds the copies and their BLAKE2b hashes; the
# same attach without a snapshot is given for reference. Space: what the
# filesystem's used blocks grew by (df after sync), not what du counts.
# Needs root (mount, losetup), mkfs.btrfs and mkfs.xfs (btrfs-progs,
# xfsprogs); a filesystem whose tools are missing is skipped.
#
# Environment: BENCH_MIB (1024), B (the build directory, build).
set -u

cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_MIB:-1024}
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
W=$B/bench/snapshot
CKPT=$B/bin/ckpt
FILES=8
pid=
mnts=()
loops=()

cleanup() {
	local m l
	[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
	for m in "${mnts[@]}"; do umount "$m" 2>/dev/null; done
	for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT

# mkfs_mount FS DIR: DIR holds a fresh FS (a loop image, or tmpfs)
mkfs_mount() {
	local fs=$1 dir=$2 img=$W/$1.img dev size=$((MIB * 3 + 512))
	mkdir -p "$dir"
	if [[ $fs == tmpfs ]]; then
		mount -t tmpfs -o size=$((size))m tmpfs "$dir" || return 1
		mnts+=("$dir")
		return 0
	fi
	command -v "mkfs.$fs" >/dev/null || return 1
	truncate -s "${size}M" "$img" || return 1
	dev=$(losetup -f --show "$img") || return 1
	loops+=("$dev")
	case $fs in
	xfs) mkfs.xfs -q -m reflink=1 "$dev" ;;
	btrfs) mkfs.btrfs -q "$dev" ;;
	*) "mkfs.$fs" -q "$dev" ;;
	esac >/dev/null 2>&1 || return 1
	mount "$dev" "$dir" || return 1
	mnts+=("$dir")
}

used_kib() {
	sync
	df -k --output=used "$1" | tail -n 1
}

now() {
	date +%s.%N
}

# the files, and a process that holds them open (fds 3 ..)
start_holder() {
	local dir=$1 i per=$((MIB / FILES))
	mkdir -p "$dir/data"
	for ((i = 0; i < FILES; i++)); do
		head -c "${per}M" "$W/seed" >"$dir/data/f$i" || return 1
	done
	sync
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done 2>/dev/null
		for ((i = 0; i < FILES; i++)); do
			eval "exec $((i + 3))<\"$dir/data/f$i\""
		done
		exec sleep 100000
	) </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep 0.5
}

# attach DIR NAME [OPTION...]: "seconds frozen_seconds"
attach() {
	local dir=$1 name=$2 t0 t1 frozen
	shift 2
	t0=$(now)
	frozen=$("$CKPT" attach --json "$@" -o "$dir/$name" "$pid" |
		 sed -n 's/.*"frozen_seconds": *\([0-9.]*\).*/\1/p') ||
		return 1
	t1=$(now)
	echo "$(echo "$t1 - $t0" | bc) ${frozen:-?}"
}

row() {
	printf '%-7s %-28s %9s %9s %10s\n' "$@"
}

one_fs() {
	local fs=$1 dir=$W/mnt-$1 u0 u1 t0 t1 r
	if ! mkfs_mount "$fs" "$dir"; then
		row "$fs" "(skipped: can't make it)" - - -
		return
	fi
	start_holder "$dir" || { row "$fs" "(no space)" - - -; return; }
	r=$(attach "$dir" plain.ckpt)
	row "$fs" "attach, no snapshot" ${r% *} ${r#* } -
	u0=$(used_kib "$dir")
	r=$(attach "$dir" snap.ckpt --snapshot-open)
	u1=$(used_kib "$dir")
	row "$fs" "attach --snapshot-open" ${r% *} ${r#* } \
	    "$(((u1 - u0) / 1024)) MiB"
	u0=$(used_kib "$dir")
	t0=$(now)
	cp --reflink=auto -r "$dir/data" "$dir/cp-copy"
	t1=$(now)
	u1=$(used_kib "$dir")
	row "$fs" "cp --reflink=auto" "$(echo "$t1 - $t0" | bc)" - \
	    "$(((u1 - u0) / 1024)) MiB"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}

[[ $(id -u) == 0 ]] || { echo "bench/snapshot.sh: needs root" >&2; exit 1; }
[[ -x $CKPT ]] || { echo "bench/snapshot.sh: build first" >&2; exit 1; }
mkdir -p "$W" || exit 1
head -c "$((MIB / FILES))M" /dev/urandom >"$W/seed" || exit 1
echo "snapshot of $MIB MiB in $FILES files held open (seconds; space used)"
row fs what seconds frozen space
for fs in btrfs xfs ext4 tmpfs; do
	one_fs "$fs"
done

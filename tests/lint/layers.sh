#!/usr/bin/env bash
# layers.sh: keep ckpt's layers pointing one way (DESIGN.md, STYLE.md):
#
#   util <- image, arch, inject, elf, plugins <- ckpt, restore
#
# with serve/ (the `ckpt serve` daemon) and coord/ (`ckpt coord`, the
# member side of `ckpt run --coord`) between plugins/ and ckpt/, and cc/
# (ckpt-cc, a program of its own) above arch/. A file
# may include the headers of its own top-level directory and of those its
# row below names; never another directory's private header (*-priv.h),
# never "../". ISA conditionals live in arch/ only; the injector's handle
# is opaque outside inject/. Every offence is
# printed as FILE:LINE: what is wrong, and the exit status is 1.
# Run by `make lint`.
set -u
cd "$(dirname "$0")/../.." || exit 1

declare -A may=(
	[util]=""
	[image]="util"
	[arch]="image util"
	[inject]="arch util"
	[elf]="arch image util"
	[plugins]="image util"
	[serve]="plugins image util"
	[coord]="plugins image util"
	[ckpt]="coord serve plugins elf inject arch image util"
	[restore]="plugins elf inject arch image util"
	[cc]="arch"	# ckpt-cc and its runtime: the translated image format
	[tests]="*"	# white-box: private headers too
	[bench]="*"
)

# Includes the table forbids, kept until the work named beside them lands.
except=()

isa='\b__(x86_64|amd64|i386|aarch64|arm|arm64|riscv|powerpc64|s390x)(__)?\b'

fail=0
bad() {
	echo "$1: $2" >&2
	fail=1
}

# may_include FILE HEADER: does the table let FILE include HEADER?
may_include() {
	local from=${1%%/*} to=${2%%/*} e

	[[ $2 != */* || $to == "$from" || ${may[$from]-} == "*" ]] && return 0
	[[ $2 == *-priv.h ]] && return 1
	[[ " ${may[$from]-} " == *" $to "* ]] && return 0
	for e in ${except[@]+"${except[@]}"}; do
		[[ $e == "$1 $2" ]] && return 0
	done
	return 1
}

mapfile -t files < <(find . \( -path ./build -o -path './.*' \) -prune -o \
			  -name '*.[ch]' -printf '%P\n' | sort)

inc='^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)"'
while IFS=: read -r file line text; do
	[[ $text =~ $inc ]] || continue
	hdr=${BASH_REMATCH[1]} from=${file%%/*}
	if [[ $hdr == ../* ]]; then
		bad "$file:$line" "include as \"dir/header.h\", not \"$hdr\""
	elif may_include "$file" "$hdr"; then
		continue
	elif [[ -z ${may[$from]+set} ]]; then
		bad "$file:$line" "$from/ has no row in $0"
	elif [[ $hdr == *-priv.h ]]; then
		bad "$file:$line" "$hdr is private to ${hdr%%/*}/"
	else
		bad "$file:$line" "$from/ may not include $hdr"
	fi
done < <(grep -Hn '#[[:space:]]*include' "${files[@]}")

while IFS=: read -r file line _; do
	bad "$file:$line" "ISA conditional outside arch/ (call arch_*())"
done < <(grep -HnE "$isa" "${files[@]}" | grep -v '^arch/')

# Stages are library code: plugins/ installs no signal handlers (the
# serve daemon, which does, lives in serve/).
while IFS=: read -r file line _; do
	bad "$file:$line" "plugins/ installs no signal handlers"
done < <(grep -HnE '\<(sigaction|signal)[[:space:]]*\(' "${files[@]}" |
	 grep '^plugins/')

# Opaque handles: the injector's structs are defined in its private
# header only, so that nothing outside inject/ reads their fields.
while IFS=: read -r file line _; do
	bad "$file:$line" "struct inject_* is defined in inject-priv.h only"
done < <(grep -HnE '^struct inject_(proc|thread)[[:space:]]*\{' \
	 "${files[@]}" | grep -v '^inject/inject-priv\.h:')

# The integration areas are sourced into one shell (run.sh): a helper
# defined in two of them (or in one and lib.sh) is silently the last
# one's in both. Each is sourced alone to list what it defines.
fns_of() {
	bash -c 'source tests/integration/lib.sh >/dev/null 2>&1
		 before=$(declare -F | sort)
		 source "$1" >/dev/null 2>&1
		 comm -13 <(echo "$before") <(declare -F | sort)' _ "$1" |
		awk '{ print $3 }'
}
while read -r name; do
	bad "tests/integration" "function $name is defined in two areas"
done < <(for area in tests/integration/t-*.sh; do fns_of "$area"; done |
	 sort | uniq -d)

((fail)) && echo "lint: layers broken (rules in $0)" >&2
exit $fail

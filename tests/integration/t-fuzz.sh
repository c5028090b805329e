# t-fuzz.sh - every libFuzzer target (tests/fuzz/, `make fuzz` runs each
# for FUZZ_SECONDS) for a short while: at most FUZZ_RUNS inputs or 5
# seconds each, from its seeds, so that CI catches a reader that a few
# thousand mutations of real input break. Passes without running when
# clang with libFuzzer is not installed (it is in the Makefile's
# DEB_PKGS).  Sourced by run.sh.

ALL_TESTS+=(fuzz)

# Can clang build a libFuzzer program here?
have_libfuzzer() {
	command -v clang >/dev/null || return 1
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)
		{ (void)d; (void)n; return 0; }\n' |
		clang -fsanitize=fuzzer -x c -o "$D/probe" - 2>/dev/null
}

t_fuzz() {
	local t runs=${FUZZ_RUNS:-3000}
	if ! have_libfuzzer; then
		echo "no clang with libFuzzer: fuzz not run" >"$D/out.log"
		return 0
	fi
	# both cores: the build is most of this test (23 s of its 34 here)
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j"$(nproc)" -C "$TOP" \
		B="$B" fuzz-build >"$D/build.log" 2>&1 ||
		fail "can't build the fuzzers: $(tail -n 1 "$D/build.log")"
	for t in $(make -s -C "$TOP" B="$B" fuzz-targets); do
		mkdir -p "$D/corpus-$t"
		"$B/fuzz/fuzz_$t" -runs="$runs" -max_total_time=5 \
			"$D/corpus-$t" "$B/fuzz/seeds/$t" >"$D/$t.log" 2>&1 ||
			fail "fuzz_$t: $(grep -m 1 -E 'ERROR|runtime error' \
					 "$D/$t.log")"
		grep -q '^Done' "$D/$t.log" ||
			fail "fuzz_$t did not finish its runs"
	done
}

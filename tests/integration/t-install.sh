# t-install.sh - what `make install` puts around the programs: the
# pkg-config files (a plugin and a dlsym_default program built against
# the installed headers only), bash completion (every option of every
# command's usage offered), the systemd unit of ckpt serve (it parses,
# and its command line serves).  Sourced by run.sh.

ALL_TESTS+=(install-pc completion serve-unit libckpt deb)
CKPT_ONLY+="install-pc completion serve-unit libckpt deb "

# install_to: make install of this build into D/root, with the PREFIX it
# was built for (another would rebuild it); ROOT, and PFX (the prefix).
install_to() {
	ROOT=$D/root
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" install \
		B="$B" DESTDIR="$ROOT" >"$D/install.log" 2>&1 ||
		fail "make install failed: $(lastline "$D/install.log")"
	PFX=$(sed 's|/lib/ckpt/plugins$||' "$B/plugin-dir")
	[[ -x $ROOT$PFX/bin/ckpt ]] || fail "no $PFX/bin/ckpt in D/root"
}

# pc PKG ARGS...: pkg-config on the installed .pc files only.
pc() {
	PKG_CONFIG_LIBDIR=$ROOT$PFX/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$ROOT \
		pkg-config "$@"
}

t_install-pc() {
	local cf libs dir
	need "$CKPT" "$RESTORE"
	install_to
	[[ $(pc --modversion ckpt-plugin) == "$("$CKPT" --version | cut -d' ' -f2)" ]] ||
		fail "ckpt-plugin.pc has version $(pc --modversion ckpt-plugin)"
	dir=$(PKG_CONFIG_LIBDIR=$ROOT$PFX/lib/pkgconfig \
		pkg-config --variable=plugindir ckpt-plugin)
	[[ $dir == "$PFX/lib/ckpt/plugins" && -d $ROOT$dir ]] ||
		fail "plugindir $dir is not the installed plugin directory"
	# the example plugin as a third party builds it: <ckpt/plugin.h>
	sed 's|#include "plugins/plugin.h"|#include <ckpt/plugin.h>|' \
		"$TOP/plugins/examples/chunks.c" >"$D/chunks.c"
	cf=$(pc --cflags ckpt-plugin) || fail "pkg-config --cflags ckpt-plugin"
	# shellcheck disable=SC2086
	cc -std=gnu11 -Wall -Werror -shared -fPIC $cf -o "$D/chunks.so" \
		"$D/chunks.c" 2>"$D/cc.log" ||
		fail "plugin does not build from the installed header: $(lastline "$D/cc.log")"
	# the example kind of coordinator: <ckpt/ckpt-coord.h>, ckpt-coord.pc
	cf=$(pc --cflags ckpt-coord) || fail "pkg-config --cflags ckpt-coord"
	# shellcheck disable=SC2086
	cc -std=gnu11 -Wall -Werror -shared -fPIC $cf -o "$D/every.so" \
		"$TOP/plugins/examples/coord-every.c" 2>"$D/cc.log" ||
		fail "coord-every does not build from the installed header: $(lastline "$D/cc.log")"
	cat >"$D/prog.c" <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <dlsym_default.h>

int main(void)
{
	size_t (*len)(const char *) = dlsym_default(RTLD_DEFAULT, "strlen");

	if (!len) {
		fprintf(stderr, "%s\n", dlsym_default_error());
		return 1;
	}
	printf("%zu\n", len("twelve chars"));
	return 0;
}
EOF
	cf=$(pc --cflags dlsym_default) && libs=$(pc --libs dlsym_default) ||
		fail "pkg-config dlsym_default"
	# shellcheck disable=SC2086
	cc -Wall -Werror -o "$D/prog" "$D/prog.c" $cf $libs 2>"$D/cc.log" ||
		fail "dlsym_default program does not build: $(lastline "$D/cc.log")"
	[[ $(LD_LIBRARY_PATH=$ROOT$PFX/lib "$D/prog") == 12 ]] ||
		fail "dlsym_default program built by pkg-config flags misbehaves"
}

# complete WORD...: what the installed completion offers for the command
# line WORD... (the last word the one being completed), one per line.
complete_words() {
	PATH=$ROOT$PFX/bin:$PATH bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		f=_ckpt; [[ $1 == restore ]] && f=_restore
		$f; printf "%s\n" "${COMPREPLY[@]}"' _ \
		"$ROOT$PFX/share/bash-completion/completions/$1" "$@"
}

t_completion() {
	local cmd opt got cmds=0
	need "$CKPT" "$RESTORE" "$WLB/counter"
	install_to
	[[ -L $ROOT$PFX/share/bash-completion/completions/restore ]] ||
		fail "no completion for restore"
	# every command of ckpt --help, and every option of its usage
	for cmd in $("$CKPT" --help | awk '$1 == "ckpt" { print $2 }'); do
		complete_words ckpt "${cmd:0:3}" | grep -qx "$cmd" ||
			fail "ckpt ${cmd:0:3}<TAB> does not offer $cmd"
		got=$(complete_words ckpt "$cmd" -)
		for opt in $("$CKPT" "$cmd" --help 2>&1 | grep '^usage:' |
			     grep -oE -- '--?[A-Za-z][A-Za-z0-9-]*'); do
			grep -qx -- "$opt" <<<"$got" ||
				fail "ckpt $cmd -<TAB> does not offer $opt"
		done
		cmds=$((cmds + 1))
	done
	((cmds >= 8)) || fail "ckpt --help lists $cmds commands"
	got=$(complete_words restore --de)
	[[ $got == --detach ]] || fail "restore --de<TAB> gives $got"
	# and as a user meets it: bash -i on a terminal, keys typed with TAB
	PATH=$ROOT$PFX/bin:$PATH python3 - \
		"$ROOT$PFX/share/bash-completion/completions/ckpt" \
		>"$D/bash-i.log" 2>&1 <<'PY' || fail "bash -i: $(tail -c 300 "$D/bash-i.log")"
import os, pty, select, sys, time

pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
seen = b""

def until(want):
    global seen
    end = time.time() + 60
    while want not in seen:
        if time.time() > end:
            sys.exit("no %r in %r" % (want, seen[-300:]))
        if select.select([fd], [], [], 1)[0]:
            seen += os.read(fd, 4096)

os.write(fd, b"source '%s'; PS1='ready> '\n" % sys.argv[1].encode())
until(b"ready> ")
seen = b""
os.write(fd, b"ckpt att\t")
until(b"ckpt attach ")
os.write(fd, b"--tre\t")
until(b"--tree ")
os.write(fd, b"\x15restore --de\t")
until(b"restore --detach ")
os.write(fd, b"\x15exit\n")
os.waitpid(pid, 0)
PY
	# a PID for attach, files for restore
	start_wl "$WLB/counter"
	complete_words ckpt attach --kill "$PID" | grep -qx "$PID" ||
		fail "ckpt attach <TAB> does not offer PID $PID"
	touch "$D/image.ckpt"
	(cd "$D" && complete_words restore image.) | grep -qx image.ckpt ||
		fail "restore <TAB> does not offer image.ckpt"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	check_count
}

# The unit parses (systemd-analyze names no unknown or bad setting), and
# its ExecStart, with the unit's own Environment= and the directories
# systemd would give, stores an image sent to it and stops on SIGTERM.
t_serve-unit() {
	local unit line env args try
	need "$CKPT" "$WLB/counter"
	install_to
	unit=$ROOT$PFX/lib/systemd/system/ckpt-serve.service
	[[ -f $unit ]] || fail "no ckpt-serve.service installed"
	command -v systemd-analyze >/dev/null ||
		fail "systemd-analyze is missing (make deps)"
	systemd-analyze security --offline=yes "$unit" >"$D/analyze.log" 2>&1
	grep -Ei "unknown|invalid|failed to parse" "$D/analyze.log" &&
		fail "systemd-analyze: $(grep -Ei 'unknown|invalid|failed' "$D/analyze.log" | head -1)"
	grep -q "Overall exposure level" "$D/analyze.log" ||
		fail "systemd-analyze did not read the unit: $(lastline "$D/analyze.log")"
	mkdir -p "$D/state" "$D/cred"
	expect_exit 0 "$CKPT" keygen "$D/cred/auth"
	for try in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 20000))
		env=(STATE_DIRECTORY="$D/state" CREDENTIALS_DIRECTORY="$D/cred")
		while read -r line; do
			env+=("${line#Environment=}")
		done < <(grep '^Environment=' "$unit")
		env+=(CKPT_SERVE_LISTEN="127.0.0.1:$PORT")
		line=$(sed -n 's/^ExecStart=//p' "$unit")
		# systemd's ${VAR} expansion, done here by env's shell
		args=$(env -i "${env[@]}" bash -c "printf '%s\n' $line") ||
			fail "can't expand ExecStart: $line"
		[[ $(head -1 <<<"$args") == "$PFX/bin/ckpt" ]] ||
			fail "ExecStart runs $(head -1 <<<"$args")"
		mapfile -t args < <(tail -n +2 <<<"$args")
		(spawn "$CKPT" "${args[@]}") </dev/null >>"$D/serve.log" 2>&1 &
		SJOB=$!
		track_job "$SJOB"
		local end=$((SECONDS + 10))
		until grep -q "serving .* on 127.0.0.1:$PORT" "$D/serve.log"; do
			job_done "$SJOB" && break
			((SECONDS < end)) || fail "the unit's ckpt serve not up after 10 s"
			nap
		done
		job_done "$SJOB" || break
		wait_job "$SJOB" 5
		((WST == 69)) || fail "the unit's ckpt serve exited $WST: $(lastline "$D/serve.log")"
	done
	job_done "$SJOB" && fail "no free port for the unit's ckpt serve"
	start_wl "$WLB/counter"
	wait_count_above 2 60 "$JOB"
	expect_exit 0 "$CKPT" attach -o "tcp://127.0.0.1:$PORT/job" \
		--auth "$D/cred/auth" "$PID"
	[[ -f $D/state/job ]] || fail "the unit's ckpt serve stored nothing in STATE_DIRECTORY"
	stop_server
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	check_count
}

# make deb: the packages build from a copy of the tree; lintian finds no
# error; unpacked into D/root, the installed ckpt passes ckpt check and
# dumps a workload that the installed restore brings back.
t_deb() {
	local f
	need "$WLB/counter"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" deb \
		B="$D/b" >"$D/deb.log" 2>&1 ||
		fail "make deb failed: $(tail -3 "$D/deb.log")"
	grep '^E: ' "$D/deb.log" && fail "lintian: $(grep -m1 '^E: ' "$D/deb.log")"
	for f in ckpt ckpt-dev libckpt0 libdlsym-default0; do
		[[ -f $(echo "$D"/b/deb/${f}_*.deb) ]] || fail "no $f package"
		dpkg -x "$D"/b/deb/${f}_*.deb "$D/root" ||
			fail "can't unpack the $f package"
	done
	[[ -f $D/root/usr/lib/systemd/system/ckpt-serve.service &&
	   -L $D/root/usr/share/bash-completion/completions/restore &&
	   -f $D/root/usr/include/ckpt/plugin.h ]] ||
		fail "the packages miss files of make install"
	expect_exit 0 "$D/root/usr/bin/ckpt" check
	expect_exit 0 "$D/root/usr/bin/ckpt" --version
	[[ $(cat "$D/cmd.out") == "$("$CKPT" --version)" ]] ||
		fail "the package's ckpt is $(cat "$D/cmd.out")"
	CKPT=$D/root/usr/bin/ckpt RESTORE=$D/root/usr/bin/restore
	RESTORE_CMD=("$RESTORE")
	wl_test "$WLB/counter"
}

# libckpt's example program, built against the installed header and
# library through pkg-config: it checkpoints a counter (killed), reads the
# image and restores it, and the counter carries on; then the errors a
# caller gets: a process that is not there, a damaged image.
t_libckpt() {
	local cf libs
	need "$CKPT" "$WLB/counter"
	install_to
	cf=$(pc --cflags libckpt) && libs=$(pc --libs libckpt) ||
		fail "pkg-config libckpt"
	# shellcheck disable=SC2086
	cc -Wall -Werror -o "$D/example" \
		"$TOP/ckpt/examples/libckpt-example.c" $cf $libs 2>"$D/cc.log" ||
		fail "the libckpt example does not build: $(lastline "$D/cc.log")"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	LD_LIBRARY_PATH=$ROOT$PFX/lib CKPT_RESTORE=$ROOT$PFX/bin/restore \
		"$D/example" "$PID" "$D/img" >"$D/example.out" 2>"$D/example.err" ||
		fail "the libckpt example failed: $(cat "$D/example.err")"
	# the killed counter was reaped before its PID could come back
	DUMP_COUNT=$(count_lines)
	grep -qx "libckpt $("$CKPT" --version | cut -d' ' -f2)" "$D/example.out" &&
	grep -q "^attached: 1 processes, 1 threads, [1-9]" "$D/example.out" &&
	grep -q "^image: pid $PID comm counter threads 1 memory [1-9]" "$D/example.out" &&
	grep -qx "restored: $PID" "$D/example.out" ||
		fail "the example said: $(cat "$D/example.out")"
	RJOB=$PID
	wait_count_above $((DUMP_COUNT + 3)) 60 "$PID"
	touch "$D/restored" "$D/stop"
	wait_gone "$PID" 60 || fail "restored PID $PID still running after D/stop"
	check_count
	# errors: no such process; then a damaged image
	expect_exit 69 env LD_LIBRARY_PATH="$ROOT$PFX/lib" "$D/example" \
		999999999 "$D/img2"
	grep -q "^attach: .*999999999" "$D/cmd.err" ||
		fail "no message naming the PID: $(cat "$D/cmd.err")"
	[[ ! -e $D/img2 ]] || fail "a failed attach left an image"
}

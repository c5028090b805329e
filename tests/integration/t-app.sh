# t-app.sh - application plugins (ckpt-app-plugin(7)) and restore's
# validation of the regular files the tree had open: the example plugin
# appnote puts a record while the tree is frozen and reads it back at
# restore, a plugin refuses a dump by name, and a file changed since the
# dump makes restore refuse, naming it (exit 76) unless --no-validate.
# Sourced by run.sh.

ALL_TESTS+=(app-plugin app-veto app-validate app-validate-hash)
CKPT_ONLY+="app-plugin app-veto app-validate app-validate-hash "

APPNOTE=$B/plugins/appnote.so

# A counter that also holds D/in.dat open for reading on fd 4.
app_start() {
	head -c 200000 /dev/urandom >"$D/in.dat"
	start_wl "$BASH" -c 'exec 4<"$1" && exec "$BASH" "$2"' app \
		"$D/in.dat" "$WLS/counter.sh"
	wait_count_above 8 60 "$JOB"
}

# The events of a dump and of a restore come in order, and the record
# put at FROZEN comes back to the plugin at BEFORE_CREATE.
t_app-plugin() {
	need "$APPNOTE"
	app_start
	DUMP_OPTS=(--plugin "$APPNOTE=$D/plugin.log")
	dump_kill
	grep -q '^put note [0-9]*: .*counter.sh$' "$D/plugin.log" ||
		fail "no note put: $(cat "$D/plugin.log")"
	start_restore --plugin "$APPNOTE=$D/plugin.log"
	wait_restored
	finish
	[[ $(cut -d' ' -f1 "$D/plugin.log" | tr '\n' ' ') == \
	   "before-freeze frozen put committed before-create got before-run running " ]] ||
		fail "events out of order: $(cat "$D/plugin.log")"
	grep -q "^got $(sed -n 's/^put //p' "$D/plugin.log")\$" "$D/plugin.log" ||
		fail "the note did not come back: $(cat "$D/plugin.log")"
}

# A plugin that refuses at FROZEN: exit 70, one line naming it, no image,
# the target thawed and running on.
t_app-veto() {
	need "$APPNOTE"
	app_start
	expect_exit 70 "$CKPT" attach --plugin "$APPNOTE=$D/plugin.log:veto=frozen" \
		-o "$D/img" "$PID"
	one_line_err "attach --plugin"
	grep -q "^ckpt: plugin appnote refused the checkpoint at frozen: asked to refuse at frozen\$" \
		"$D/cmd.err" || fail "no error naming the plugin: $(cat "$D/cmd.err")"
	refused_runs_on
}

# D/in.dat truncated after the dump: refused (76) naming it, before any
# process is made; with --no-validate the tree runs on.
t_app-validate() {
	app_start
	dump_kill
	truncate -s 1000 "$D/in.dat"
	expect_exit 76 "$RESTORE" "$D/img"
	one_line_err "restore of a changed file"
	grep -q "file $D/in.dat is not the one checkpointed: 1000 bytes, was 200000" \
		"$D/cmd.err" || fail "no error naming the file: $(cat "$D/cmd.err")"
	gone "$PID" || fail "a refused restore made PID $PID"
	start_restore --no-validate
	wait_restored
	finish
}

# --validate=hash: a copy with the same bytes (another inode and mtime)
# is accepted, one byte changed is not.
t_app-validate-hash() {
	app_start
	DUMP_OPTS=(--validate=hash)
	dump_kill
	cp "$D/in.dat" "$D/in.new" && mv "$D/in.new" "$D/in.dat"
	flip_byte "$D/in.dat" 100
	expect_exit 76 "$RESTORE" "$D/img"
	grep -q "file $D/in.dat is not the one checkpointed: its content hash differs" \
		"$D/cmd.err" || fail "no error naming the file: $(cat "$D/cmd.err")"
	flip_byte "$D/in.dat" 100
	touch -d '2001-01-01' "$D/in.dat"
	start_restore
	wait_restored
	finish
}

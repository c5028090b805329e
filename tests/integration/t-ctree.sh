# t-ctree.sh - the tree kind of ckpt coord: a coordinator per site and a
# root above them, elected in a ZooKeeper of the test's own. Hosts are
# network namespaces (ctree-A/B/C and a hub, made by t-coord.sh's
# coord_net_up with COORD_PFX=ctree): site x is hosts A and B (its
# coordinator on A, a standby on B, and site y's coordinator standing by
# for it on C with --foster), site y is host C; the root, its standby
# and ZooKeeper are in the hub. The job is t-coord.sh's token ring, with
# members in both sites. Sourced by run.sh.

ALL_TESTS+=(ctree-ring)
CKPT_ONLY+="ctree-ring "

# ctree_coord NAME H OPTION...: a tree coordinator on host H (or the
# hub), port CTREE_PORT[NAME], log D/coordNAME.log, job COZK_JOB[NAME]
# (so that coordzk_says NAME works)
declare -A CTREE_PORT=([root]=7410 [x1]=7411 [x2]=7412 [y1]=7413
		      [root2]=7414)
ctree_coord() {
	local name=$1 h=$2 ns ip
	shift 2
	if [[ $h == hub ]]; then
		ns=$COORD_HUB ip=$COORD_NET.254
	else
		ns=$(coord_ns "$h") ip=$(coord_ip "$h")
	fi
	(spawn ip netns exec "$ns" "$CKPT" coord --kind tree --zk "$COZK" \
		--listen "$ip:${CTREE_PORT[$name]}" --auth "$D/key" \
		--timeout 120 "$@") </dev/null >>"$D/coord$name.log" 2>&1 &
	COZK_JOB[$name]=$!
	track_job "$!"
}

# ctree_site_has SITE PATTERN COUNT: ckpt job status ring asked of the
# coordinator of SITE has COUNT lines matching PATTERN within 60 s
ctree_site_has() {
	local end=$((SECONDS + 60)) n
	while :; do
		n=$(ip netns exec "$COORD_HUB" "$CKPT" job --coord \
			"zk://$COZK/ckpt/sites/$1" --auth "$D/key" status ring \
			2>/dev/null | grep -c -- "$2")
		((n == $3)) && return 0
		((SECONDS < end)) || fail "site $1 has $n lines of '$2', want $3"
		sleep 0.2
	done
}

# ctree_crash: the job's processes and members killed (the hosts, and
# the coordinators on them, stay)
ctree_crash() {
	local i
	local end=$((SECONDS + 60))
	for i in "${!COORD_PIDS[@]}"; do
		kill -KILL "${COORD_PIDS[i]}"
	done
	# each reaped by its member (ckpt run) before that dies too: a
	# zombie left to PID 1, which reaps nothing here, keeps its PID
	for i in "${!COORD_PIDS[@]}"; do
		until pstate "${COORD_PIDS[i]}"; [[ $ST == - ]]; do
			((SECONDS < end)) || fail "ring process" \
				"${COORD_PIDS[i]} not reaped after 60 s"
			nap
		done
	done
	for i in "${!COORD_MJOB[@]}"; do
		kill -KILL "${COORD_MJOB[$i]}" 2>/dev/null
		wait_job "${COORD_MJOB[$i]}" 60 || fail "member $i still there"
	done
}

t_ctree-ring() {
	local i seq
	COORD_PFX=ctree
	coord_net_up
	coordzk_up
	"$CKPT" keygen "$D/key" || fail "keygen failed"
	ctree_coord root hub --root
	coordzk_says root "listening on"
	ctree_coord root2 hub --root
	coordzk_says root2 "standing by"
	ctree_coord x1 A --site x
	coordzk_says x1 "listening on"
	ctree_coord x2 B --site x
	coordzk_says x2 "standing by"
	# site y's coordinator fosters site x (a child standing by for it)
	ctree_coord y1 C --site y --foster "x@$(coord_ip C):7415"
	coordzk_says y1 "listening on"
	coordzk_says y1 "(site x): standing by"
	# members join their site's coordinator; ckpt job asks the root
	COORD_AT=([A]=zk://$COZK/ckpt/sites/x [B]=zk://$COZK/ckpt/sites/x
		  [C]=zk://$COZK/ckpt/sites/y)
	COORD_ADDR=zk://$COZK/ckpt/root
	coord_ring 4 A B A C
	ctree_site_has x ': running, connected' 3
	ctree_site_has y ': running, connected' 1
	coord_status_has ': running, connected' 2
	coord_ckpt_next 1
	coordzk_says x1 "checkpoint 1 of job ring committed: 3 members"
	# site x's coordinator dies while the job runs: its members fail
	# over to the standby on B, which joins the root for the job
	kill -KILL "${COZK_JOB[x1]}"
	wait_job "${COZK_JOB[x1]}" 30 || fail "coordinator x1 not killed"
	coordzk_says x2 "listening on"
	ctree_site_has x ': running, connected' 3
	coord_status_has ': running, connected' 2
	coordzk_members_alive
	coord_ckpt_next 2
	coordzk_says x2 "checkpoint 2 of job ring committed: 3 members"
	# site x's standby dies too: its members fail over to site y's
	# coordinator (its foster of x, on C)
	kill -KILL "${COZK_JOB[x2]}"
	wait_job "${COZK_JOB[x2]}" 30 || fail "coordinator x2 not killed"
	coordzk_says y1 "(site x): listening on $(coord_ip C):7415"
	ctree_site_has x ': running, connected' 3
	coord_status_has ': running, connected' 2
	coordzk_members_alive
	coord_ckpt_next 3
	seq=$COORD_SEQ
	coordzk_says y1 "(site x): checkpoint 3 of job ring committed: 3 mem"
	coord_progress_on
	# the job crashes; restore agents join their sites, the root
	# restarts it through them from checkpoint 3
	ctree_crash
	for ((i = 0; i < 4; i++)); do
		coord_member "${COORD_HOSTS[i]}" "ring$i" --restore
	done
	ctree_site_has x ': idle, connected' 3
	coord_status_has ': idle, connected' 2
	coord_restart 0
	grep -q "restarted from checkpoint $seq" "$D/cmd.out" ||
		fail "restart said: $(<"$D/cmd.out")"
	ctree_site_has x ': running, connected' 3
	ctree_site_has y ': running, connected' 1
	coord_progress_on
	# the root dies: its standby leads, the sites join it for the job
	kill -KILL "${COZK_JOB[root]}"
	wait_job "${COZK_JOB[root]}" 30 || fail "the root not killed"
	coordzk_says root2 "listening on"
	coord_status_has ': running, connected' 2
	# all or none: ring3 (site y) holds a checkpoint up, site x's
	# members dump and wait frozen; ring3's member is lost: site y
	# fails, the root aborts, site x's members thaw, nothing committed
	coord_ckpt_stopped ring3
	ctree_site_has x 'dumped (frozen)' 3
	coord_ckpt_lost ring3 "aborted: member y: site y: .*member ring3"
	coord_thawed
	coord_job status ring | grep -q "last checkpoint $seq" ||
		fail "after the abort: $(coord_job status ring 2>&1)"
	coord_ring_end
	# the root's timing of its checkpoints (the slowest "member" is the
	# slowest site, all its members dumped)
	cat "$D/coordroot.log" "$D/coordroot2.log" | grep "of job ring took" |
		sed 's/.*ckpt coord: /tree, 2 sites, 4 members: /' >>"$D/figures"
	[[ -z ${CKPT_FIGURES:-} ]] || cat "$D/figures" >>"$CKPT_FIGURES"
}

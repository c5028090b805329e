#!/bin/bash
# Figures of coordinated checkpoints (ckpt coord), taken by the
# integration tests that do the real thing on network-namespace hosts:
# coord-ring (a checkpoint of 4 members against its slowest member's
# dump, as the coordinator times them), coord-standby (the takeover of
# a SIGKILLed leader: the kill to the standby listening), coord-sharded
# (the rebalance of a dead coordinator's job: the kill to its 3 members
# joined elsewhere), ctree-ring (checkpoints through a tree's root: 2
# sites, 4 members, against the slowest site's part), coord-ensemble (a
# takeover with a ZooKeeper server of three killed too). Root, a built
# tree (make check-integration's workloads); BENCH_ROUNDS (1) runs of
# each.
set -u

cd "$(dirname "$0")/.." || exit 1
ROUNDS=${BENCH_ROUNDS:-1}
out=$(mktemp /tmp/ckpt-bench-coord.XXXXXX) || exit 1
trap 'rm -f "$out"' EXIT

for ((r = 0; r < ROUNDS; r++)); do
	CKPT_FIGURES=$out bash tests/integration/run.sh coord-ring \
		coord-standby coord-sharded ctree-ring coord-ensemble >&2 ||
		exit 1
done
cat "$out"

#!/usr/bin/env bash
# Where the distributed blur's time goes: the CPU seconds of each process of one run (the
# coordinator, one worker of `cores` threads, the assembler, redis-server) beside the
# in-process pipelined blur's, on this machine, on a redis-server of its own.
#
#   examples/blur-cluster/cpu.sh [images]      (default 16 images of 2048x1536, tiles of 256)
#
# The CPU the run spends beyond the in-process blur's is the cost of going through Redis; the
# rest of its extra wall time (times the cores) is cores left idle. The worker's threads show
# what the round trip costs a worker beside its blur.
set -euo pipefail
cd "$(dirname "$0")/../.."
images=${1:-16}
cores=$(nproc)
# shellcheck source=own-redis.sh
source examples/blur-cluster/own-redis.sh

# `name: wall, user and system seconds` of a command, its output dropped.
timed() { /usr/bin/time -f "$1: wall %e s, user %U s, system %S s" "${@:2}" >/dev/null; }
redis_cpu() {
  redis-cli -p "$port" info cpu | sed -n 's/^used_cpu_\(sys\|user\):\([0-9.]*\).*/\2/p' |
    paste -sd+ | bc
}

timed "in-process pipelined blur" target/release/examples/blur --approach pipelined \
  --images "$images" --tile 256 --sigma 4 --workers "$cores" --output "$work/local"
before=$(redis_cpu)
start=$(date +%s.%N)
timed "worker ($cores threads)" $bin worker --redis "$url" --name w1 --threads "$cores" \
  --exit-when-drained-ms 500 &
worker=$!
timed assembler $bin assembler --redis "$url" --output "$work/out" &
assembler=$!
timed coordinator $bin coordinator --redis "$url" --images "$images" --width 2048 \
  --height 1536 --tile 256 --sigma 4
wait "$assembler"
end=$(date +%s.%N)
# The worker's threads while it waits to see the group drained: its blur (the parallel stage's
# threads; the batching stage's thread runs the last blur worker) against its Redis reader
# and writer.
echo "worker's threads, CPU ms (by name):"
time_pid=$(pgrep -P "$worker" || true)              # the subshell's child: /usr/bin/time
worker_pid=${time_pid:+$(pgrep -P "$time_pid" || true)}  # and its child, the worker
if [ -z "$worker_pid" ]; then
  echo "  (the worker had ended already)"
else
  for task in /proc/"$worker_pid"/task/*; do
    # utime and stime are fields 14 and 15 of stat; the name may hold spaces: count from ')'.
    echo "$(cat "$task/comm")|$(sed 's/.*) //' "$task/stat" | awk '{print $12 + $13}')"
  done | awk -F'|' -v hz="$(getconf CLK_TCK)" '{ms[$1] += $2 * 1000 / hz}
    END {for (name in ms) printf "  %-16s %5d\n", name, ms[name]}' | sort
fi
wait "$worker"
echo "redis-server: $(echo "$(redis_cpu) - $before" | bc) s of CPU, peak memory $(redis-cli -p "$port" \
  info memory | sed -n 's/^used_memory_peak_human:\(.*\)\r*$/\1/p' | tr -d '\r')"
echo "distributed: wall $(echo "$end - $start" | bc) s to the assembler's exit, $((images * 48)) tiles"

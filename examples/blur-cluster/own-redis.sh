# Sourced by measure.sh and cpu.sh (from the workspace's root): builds the distributed blur and
# the in-process one, and starts a redis-server of the run's own on a free port, in a temporary
# directory that `$work` names, stopped and removed when the script exits. Sets `work`, `port`,
# `url` (the server's) and `bin` (the distributed blur's binary).
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
url="redis://127.0.0.1:$port/"
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cargo build --release -q -p weir-blur-cluster
cargo build --release -q -p weir-pipeline --example blur
bin=target/release/weir-blur-cluster
redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no \
  --daemonize yes --logfile "$work/redis.log"
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

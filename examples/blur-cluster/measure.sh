#!/usr/bin/env bash
# Tiles per second of the distributed blur (1 and 2 worker processes) against the in-process
# pipelined blur, on this machine, on a redis-server of its own. Prints a markdown table.
#
#   examples/blur-cluster/measure.sh [images] [reps]      (default 16 images of 2048x1536, 3 reps)
#
# Every run blurs the same generated images (tiles of 256, sigma 4) and saves them as PNG;
# each figure is the median of the reps; the outputs are checked byte-equal to the
# sequential blur's.
set -euo pipefail
cd "$(dirname "$0")/../.."
images=${1:-16}
reps=${2:-3}
cores=$(nproc)
# shellcheck source=own-redis.sh
source examples/blur-cluster/own-redis.sh

set_args=(--images "$images" --width 2048 --height 1536)
$bin sequential "${set_args[@]}" --sigma 4 --output "$work/expected" >/dev/null
tiles=$((images * 48))

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The in-process pipelined blur of the weir-pipeline example, saving PNGs as the assembler does.
in_process() {
  local start; start=$(now)
  target/release/examples/blur --approach pipelined --images "$images" --tile 256 --sigma 4 \
    --workers "$cores" --output "$work/local" >/dev/null
  echo "$(now) - $start" | bc
}

# One distributed run: coordinator, `$1` workers of `$2` threads each, the assembler.
distributed() {
  local workers=$1 threads=$2 start pids=()
  redis-cli -p "$port" flushall >/dev/null
  rm -rf "$work/out"
  start=$(now)
  # Everyone at once, as the in-process pipeline overlaps its stages: the workers wait for
  # the first tiles, the assembler for the first results.
  for w in $(seq "$workers"); do
    $bin worker --redis "$url" --name "w$w" --threads "$threads" --exit-when-drained-ms 2000 \
      >"$work/worker$w.log" &
    pids+=($!)
  done
  $bin assembler --redis "$url" --output "$work/out" >"$work/assembler.log" &
  local assembler=$!
  $bin coordinator --redis "$url" "${set_args[@]}" --tile 256 --sigma 4 >/dev/null
  wait "$assembler"
  local end; end=$(now)
  wait "${pids[@]}"
  for f in "$work/expected"/*.png; do cmp -s "$f" "$work/out/$(basename "$f")" || {
    echo "$(basename "$f") differs from the sequential blur" >&2; exit 1; }; done
  echo "$end - $start" | bc
}

declare -A seconds
for _ in $(seq "$reps"); do
  seconds[local]+="$(in_process) "
  seconds[one]+="$(distributed 1 "$cores") "
  seconds[two]+="$(distributed 2 $(( (cores + 1) / 2 ))) "
done
row() {
  local t; t=$(tr ' ' '\n' <<<"${seconds[$2]}" | grep . | median)
  local base; base=$(tr ' ' '\n' <<<"${seconds[local]}" | grep . | median)
  printf '| %s | %.2f s | %.0f | %.2fx | %.2f ms |\n' "$1" "$t" "$(echo "$tiles / $t" | bc -l)" \
    "$(echo "$t / $base" | bc -l)" "$(echo "($t - $base) * 1000 * $cores / $tiles" | bc -l)"
}
echo "$images images of 2048x1536, $tiles tiles of 256x256, sigma 4, $cores cores; median of $reps"
echo
echo "| Run | Time | Tiles/s | vs in-process | Overhead per tile (core-ms) |"
echo "|---|---|---|---|---|"
row "in-process pipelined blur (weir-pipeline example)" local
row "Redis, 1 worker process x $cores threads" one
row "Redis, 2 worker processes x $(( (cores + 1) / 2 )) threads" two

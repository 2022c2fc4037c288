#!/usr/bin/env bash
# The cost of merging: the scenario at a scale (default 10) split in 8
# shards (the six months before March, then March cut in two halves at a
# line boundary, i.e. at some instant of a day), each shard analyzed on
# its own, then merged. Reports the size of the partial tables against the
# raw input, the wall time and peak memory of the shard runs, the merge and
# one run over everything, and checks that the merge equals that run.
#
# usage: [ENTLOG=binary] benches/merge_cost.sh [SCALE] [WORK_DIR]
# (scale 10: about 28 GB of JSON, generated zstd-compressed: ~4 GB on disk)
set -euo pipefail
scale=${1:-10}
work=${2:-/tmp/entlog-merge-bench}
entlog=${ENTLOG:-"$(cd "$(dirname "$0")/.." && pwd)/target/release/entlog"}
[ -x "$entlog" ] || { echo "build first: cargo build --release" >&2; exit 2; }
mkdir -p "$work"
cd "$work"

if [ ! -d dump/events ]; then
    "$entlog" generate --out dump --scale "$scale" --compress zst
fi

# Eight shards: one per month before March, March in two halves.
if [ ! -d shards/7 ]; then
    rm -rf shards && mkdir -p shards
    i=0
    for f in dump/events/*.zst; do
        case "$f" in
            *2020-03*)
                zstd -dcq "$f" > march.json
                split -n l/2 -d march.json march-
                rm march.json
                for half in march-00 march-01; do
                    mkdir -p "shards/$i"
                    zstd -q --rm "$half" -o "shards/$i/$half.json.zst"
                    i=$((i + 1))
                done
                ;;
            *)
                mkdir -p "shards/$i"
                ln -sf "$(realpath "$f")" "shards/$i/"
                i=$((i + 1))
                ;;
        esac
    done
fi

measure() { # label, command...: wall seconds and peak RSS
    local label=$1; shift
    /usr/bin/time -f "$label %e s, peak %M KiB" "$@" 2>&1 >/dev/null | grep -v '^entlog: ' | tail -1
}

rm -rf runs whole merged
for s in shards/*; do
    measure "shard $(basename "$s"):" "$entlog" analyze "$s" --out "runs/$(basename "$s")" \
        --referential dump -q
done
measure "merge of 8 runs:" "$entlog" merge runs/* --out merged -q
measure "one run over all:" "$entlog" analyze dump/events --out whole --referential dump -q

echo
echo "raw input: $(du -sbL dump/events | cut -f1) bytes on disk (zstd)," \
    "$(python3 -c "import json,sys; print(json.load(open('whole/run.json'))['bytes'])") bytes of JSON"
for t in user_activity user_visits user_modules audience.parquet; do
    echo "$t: $(du -sb "whole/$t" | cut -f1) bytes in the single run," \
        "$(du -scb runs/*/"$t" | tail -1 | cut -f1) bytes over the 8 runs"
done
for t in audience.parquet hourly.parquet modules.parquet visits.parquet fr-en-dnma-par-uai-profils.csv; do
    cmp -s "whole/$t" "merged/$t" && echo "merged $t: identical" || echo "merged $t: DIFFERS"
done
for t in user_activity user_visits user_modules; do
    diff -rq "whole/$t" "merged/$t" >/dev/null && echo "merged $t: identical" \
        || echo "merged $t: DIFFERS"
done

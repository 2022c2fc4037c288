#!/usr/bin/env bash
# Builds the fuzz targets and runs each one from its committed corpus for
# SECONDS (default 30), or for RUNS executions with `--runs RUNS`. Exits
# non-zero on the first crash, hang (60 s: see fuzz/README.md) or
# allocation past 2 GiB; the
# input that did it is in fuzz/artifacts/TARGET/. New inputs the fuzzer
# finds go to a scratch directory: the committed corpus is only read (copy
# the interesting ones in by hand, with `cargo fuzz cmin`).
#
#   bash fuzz/run.sh            # CI: 30 s per target
#   bash fuzz/run.sh --runs 10000000 json_scanner
set -euo pipefail
cd "$(dirname "$0")"

limit=(-max_total_time="${1:-30}")
if [ "${1:-}" = "--runs" ]; then
    limit=(-runs="$2")
    shift 2
elif [ $# -gt 0 ]; then
    shift
fi
# Stable Rust: no sanitizer (it needs nightly), but libFuzzer's coverage,
# debug assertions and overflow checks, as cargo fuzz builds by default.
flags=(-s none --codegen-units 16)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
cargo fuzz build "${flags[@]}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target" "corpus/$target"
    cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
        "${limit[@]}" -rss_limit_mb=2048 -timeout=60 -print_final_stats=1 \
        >"$scratch/$target.log" 2>&1 || { tail -40 "$scratch/$target.log"; exit 1; }
    runs=$(grep -o 'number_of_executed_units: [0-9]*' "$scratch/$target.log" | grep -o '[0-9]*$')
    echo "fuzz $target: $runs executions, no crash"
done

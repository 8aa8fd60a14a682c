#!/usr/bin/env bash
# Three hospitals ask one secret-shared query of three compute-party processes on loopback.
#   scripts/mpc-demo.sh [ROWS] [OUT_DIR]        (PROFILE=dev for a debug build; default release)
# Each party runs `mpc-party run`; each hospital runs `mpc-query` with its own rows; only
# hospital-a (the recipient) sees the answer.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-30000}
OUT=${2:-target/mpc-demo}
PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then
    DIR=target/release
    cargo build --release --locked --quiet --bin dataspace --bin mpc-party --bin mpc-query
else
    # The test build's feature set (building a subset of the workspace would rebuild tfhe).
    DIR=target/debug
    cargo build --workspace --all-targets --locked --quiet
fi

rm -rf "$OUT" && mkdir -p "$OUT"
"$DIR/dataspace" gen --table encounters --rows "$ROWS" --holders 3 --out "$OUT/data" >/dev/null
"$DIR/mpc-party" keygen --dir "$OUT/mpc" --clients hospital-a,hospital-b,hospital-c \
    --base-port "${BASE_PORT:-7900}" --timeout 60

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
for i in 0 1 2; do
    "$DIR/mpc-party" run --config "$OUT/mpc/party-$i.json" --sessions 1 2>"$OUT/party-$i.log" &
    pids+=($!)
done

SQL="SELECT medication, COUNT(*) AS n, AVG(cost), MAX(cost), MIN(age) FROM encounters
     WHERE age BETWEEN 40 AND 65 AND consent = true
     GROUP BY medication HAVING COUNT(*) > 5 ORDER BY n DESC LIMIT 5"
q=()
for h in a b c; do
    n=$(( $(printf '%d' "'$h") - 97 ))
    "$DIR/mpc-query" --config "$OUT/mpc/hospital-$h.json" \
        --schema "$OUT/data/encounters.schema.toml" --data "$OUT/data/encounters-holder$n.csv" \
        --holders hospital-a,hospital-b,hospital-c --recipients hospital-a \
        --mode malicious --sql "$SQL" >"$OUT/hospital-$h.out" &
    q+=($!)
done
status=0
for p in "${q[@]}" "${pids[@]}"; do wait "$p" || status=1; done
trap - EXIT

echo "hospital-a receives:"
cat "$OUT/hospital-a.out"
echo
cat "$OUT/hospital-b.out" "$OUT/hospital-c.out"
cat "$OUT"/party-*.log
exit $status

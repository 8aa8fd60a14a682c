#!/usr/bin/env bash
# Runs the fuzz targets of crates/fuzz under AFL++ (cargo-afl, stable toolchain).
#
#   scripts/fuzz.sh [--execs N] [--jobs J] [TARGET...]   every target (or those named) for N
#                                                         executions each (default 10000000),
#                                                         J targets at a time (default: cores)
#   scripts/fuzz.sh --seconds S [TARGET...]              the same, for S seconds each instead
#   scripts/fuzz.sh --no-tfhe ...                        without the tfhe document targets
#                                                         (instrumented, tfhe-fft alone takes
#                                                         LLVM over half an hour)
#   scripts/fuzz.sh --list                                the targets
#   scripts/fuzz.sh --replay TARGET FILE...               runs one target on saved inputs
#
# cargo-afl is installed into target/fuzz-tools on first use; the instrumented driver is built
# in target/afl (release profile). Each target starts from its committed corpus
# (fuzz/corpus/TARGET) and writes AFL++'s output to target/fuzz/TARGET. The script ends with a
# table of executions, speed, paths, crashes and hangs per target (also in
# target/fuzz/summary.tsv) and fails if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

AFL_VERSION=0.18.2
EXECS=10000000
JOBS=$(nproc)
MODE=fuzz
SECONDS_EACH=""
FEATURES=(--features afl)
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --execs) EXECS="$2"; shift 2 ;;
        --jobs) JOBS="$2"; shift 2 ;;
        --seconds) SECONDS_EACH="$2"; shift 2 ;;
        --no-tfhe) FEATURES=(--no-default-features --features afl); shift ;;
        --list) MODE=list; shift ;;
        --replay) MODE=replay; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done

ROOT=$PWD
TOOLS=$ROOT/target/fuzz-tools
export PATH="$TOOLS/bin:$PATH"
if ! cargo afl --version 2>/dev/null | grep -q "$AFL_VERSION"; then
    echo "== installing cargo-afl $AFL_VERSION into $TOOLS"
    cargo install --locked --root "$TOOLS" "cargo-afl@$AFL_VERSION"
fi
# AFL++ itself (afl-fuzz and its runtime), built once by cargo-afl (which refuses, saying so,
# when it is built already).
if ! out=$(cargo afl config --build 2>&1); then
    if ! grep -q "already built" <<<"$out"; then
        echo "$out" >&2
        exit 1
    fi
fi

echo "== building the instrumented driver (target/afl)"
CARGO_TARGET_DIR=$ROOT/target/afl cargo afl build --release --locked \
    -p trustspace-fuzz "${FEATURES[@]}" --bin trustspace-afl
DRIVER=$ROOT/target/afl/release/trustspace-afl

all_targets() {
    TRUSTSPACE_FUZZ_TARGET= "$DRIVER" 2>&1 </dev/null | awk 'NR > 1 { print $1 }'
}

case "$MODE" in
    list)
        TRUSTSPACE_FUZZ_TARGET= "$DRIVER" </dev/null 2>&1 | tail -n +2 || true
        exit 0 ;;
    replay)
        t="${TARGETS[0]:?--replay needs a target and files}"
        status=0
        for f in "${TARGETS[@]:1}"; do
            if TRUSTSPACE_FUZZ_TARGET="$t" "$DRIVER" <"$f"; then
                echo "$f: ok"
            else
                echo "$f: FAILED"; status=1
            fi
        done
        exit $status ;;
esac

if [ ${#TARGETS[@]} -eq 0 ]; then
    mapfile -t TARGETS < <(all_targets)
fi

fuzz_one() {
    local t="$1"
    mkdir -p "$ROOT/target/fuzz"
    rm -rf "$ROOT/target/fuzz/$t"
    # AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES: a sandbox's core_pattern may pipe to a handler
    # (only crash reporting latency changes). -E: stop after N executions.
    AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
        AFL_NO_AFFINITY=1 TRUSTSPACE_FUZZ_TARGET="$t" \
        cargo afl fuzz -i "$ROOT/fuzz/corpus/$t" -o "$ROOT/target/fuzz/$t" "${LIMIT[@]}" -t 2000 \
        -- "$DRIVER" >"$ROOT/target/fuzz/$t.log" 2>&1 || echo "$t: afl-fuzz exited with $?" >&2
}

if [ -n "$SECONDS_EACH" ]; then LIMIT=(-V "$SECONDS_EACH"); else LIMIT=(-E "$EXECS"); fi
echo "== fuzzing ${#TARGETS[@]} targets, ${LIMIT[*]} each, $JOBS at a time (logs: target/fuzz/TARGET.log)"
running=0
for t in "${TARGETS[@]}"; do
    [ -d "fuzz/corpus/$t" ] || { echo "no corpus for target $t (fuzz/corpus/$t)" >&2; exit 2; }
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

stat() { awk -F' *: *' -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null; }
SUMMARY=$ROOT/target/fuzz/summary.tsv
printf 'target\texecs\texecs_per_sec\tcorpus\tcrashes\thangs\trun_time_s\n' >"$SUMMARY"
failed=0
for t in "${TARGETS[@]}"; do
    s="$ROOT/target/fuzz/$t/default/fuzzer_stats"
    if [ ! -f "$s" ]; then
        printf '%s\tNO STATS (see target/fuzz/%s.log)\n' "$t" "$t" >>"$SUMMARY"; failed=1; continue
    fi
    crashes=$(stat "$s" saved_crashes)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$(stat "$s" execs_done)" "$(stat "$s" execs_per_sec)" \
        "$(stat "$s" corpus_count)" "$crashes" "$(stat "$s" saved_hangs)" "$(stat "$s" run_time)" >>"$SUMMARY"
    [ "${crashes:-0}" = 0 ] || failed=1
done
column -t -s $'\t' "$SUMMARY"
if [ "$failed" != 0 ]; then
    echo "crashes (or a target without stats): inputs in target/fuzz/TARGET/default/crashes/" >&2
    exit 1
fi

#!/usr/bin/env bash
# Runs the fuzz targets, one after another.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); TARGETs default to all of them. Each
# target starts from its live corpus (fuzz/corpus/TARGET, git-ignored) and
# the checked-in seeds (fuzz/seeds/TARGET); new inputs go to the corpus.
# A crash, timeout or out-of-memory input is written to
# fuzz/artifacts/TARGET/; the script then goes on with the next target and
# exits non-zero at the end. Minimise an artifact with
#   cargo +nightly fuzz tmin TARGET fuzz/artifacts/TARGET/crash-…
# and add it to crates/uml-syntax/tests/regression_fuzz.rs (front end) or
# tests/execute_schema.rs (`execute`: the embedded rules on arbitrary lines).
#
# Environment: FUZZ_MAX_LEN (default 8192 bytes: the largest real rule
# file fits; `execute` still makes 256 KiB lines from short inputs, see
# tests/support/record_schema.rs), FUZZ_TIMEOUT (default 10 seconds for one
# input) and FUZZ_SANITIZER. By default `lex` runs under AddressSanitizer,
# since it feeds raw input to logos' unchecked slicing, and the other targets
# run without one: they add only safe code on top of the lexer and run four to
# five times faster uninstrumented. A target's dictionary is
# fuzz/TARGET.dict when there is one, fuzz/uml.dict otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(lex parse fmt_roundtrip execute)
fi
max_len=${FUZZ_MAX_LEN:-8192}
timeout=${FUZZ_TIMEOUT:-10}

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
summary=()
failed=0
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    status=ok
    sanitizer=${FUZZ_SANITIZER:-$([ "$target" = lex ] && echo address || echo none)}
    dict=fuzz/uml.dict
    if [ -f "fuzz/$target.dict" ]; then
        dict=fuzz/$target.dict
    fi
    if ! cargo +nightly fuzz run --sanitizer "$sanitizer" "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -max_len="$max_len" -timeout="$timeout" \
        -dict="$dict" -print_final_stats=1 2>&1 | tee "$log"; then
        status=FAILED
        failed=1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
    corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
    summary+=("$target ($sanitizer): $status, ${execs:-?} execs in ${seconds}s, corpus $corpus inputs")
done

echo
for line in "${summary[@]}"; do
    echo "fuzz: $line"
done
if [ "$failed" -ne 0 ]; then
    echo "fuzz: artifacts are in fuzz/artifacts/" >&2
fi
exit "$failed"

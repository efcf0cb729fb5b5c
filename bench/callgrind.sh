#!/usr/bin/env bash
# Instructions per operation, counted by valgrind's callgrind, for stoptoken
# (`compare --callgrind OP N`) and libstdc++ (`stop_token_bench --callgrind OP N`).
#
# Each operation runs twice, N1 and N2 times; (Ir(N2) - Ir(N1)) / (N2 - N1) is
# its cost without the program's start-up. Deterministic, unlike the timings.
#
# Usage: bench/callgrind.sh   (honours CARGO_TARGET_DIR)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

if ! command -v valgrind >/dev/null 2>&1; then
    echo "callgrind.sh: valgrind is not installed; skipping the instruction counts" \
        "(install it, e.g. \`apt-get install valgrind\`, to get them)."
    exit 0
fi

target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --release --quiet -p stoptoken-bench --bin compare)
rust_bin="$target/release/compare"

cpp_bin=""
if command -v g++ >/dev/null 2>&1; then
    cpp_bin="$target/release/stop_token_bench_cpp"
    g++ -O2 -std=c++20 -pthread "$here/cpp/stop_token_bench.cpp" -o "$cpp_bin"
else
    echo "callgrind.sh: g++ not found; the libstdc++ column is n/a." >&2
fi

n1=1000
n2=11000

# Total instructions of one run of "$@".
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 \
        | awk '/Collected :/ { print $NF }'
}

# Instructions per op of operation $2 of program $1 (empty if not run).
per_op() {
    local bin="$1" op="$2" a b
    [ -n "$bin" ] || return 0
    a="$(instructions "$bin" --callgrind "$op" "$n1")"
    b="$(instructions "$bin" --callgrind "$op" "$n2")"
    awk -v a="$a" -v b="$b" -v n=$((n2 - n1)) 'BEGIN { printf "%.1f", (b - a) / n }'
}

row() {
    local name="$1" rust="$2" cpp="$3"
    awk -v name="$name" -v r="$rust" -v c="$cpp" 'BEGIN {
        rs = (r == "") ? "n/a" : r; cs = (c == "") ? "n/a" : c
        ratio = (r == "" || c == "" || c + 0 == 0) ? "n/a" : sprintf("%.2fx", r / c)
        printf "| %s | %s | %s | %s |\n", name, rs, cs, ratio
    }'
}

echo "Instructions per operation (callgrind; Ir over $((n2 - n1)) extra iterations)"
echo
echo "| operation | stoptoken | libstdc++ | stoptoken/libstdc++ |"
echo "|---|---:|---:|---:|"
declare -A rust cpp
# "rust_op:cpp_op": C++ has one, always in-place, stop_callback form.
for pair in poll:poll token_clone_drop:token_clone_drop source_new_drop:source_new_drop \
    cb_register_drop:cb_register_drop cb_register_drop_pinned:cb_register_drop \
    cb_register_drop_pinned_borrowed:cb_register_drop request_stop_0:request_stop_0 \
    child_token:child_token; do
    r_op="${pair%%:*}"
    c_op="${pair##*:}"
    rust[$r_op]="$(per_op "$rust_bin" "$r_op")"
    [ -n "${cpp[$c_op]+set}" ] || cpp[$c_op]="$(per_op "$cpp_bin" "$c_op")"
    label="$r_op"
    [ "$r_op" = request_stop_0 ] && label="request_stop_0 (whole: new + request + drop)"
    [ "$r_op" = child_token ] && label="child_token (C++: emulated)"
    row "$label" "${rust[$r_op]}" "${cpp[$c_op]}"
done
net() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
row "request_stop_0 (net of source_new_drop)" \
    "$(net "${rust[request_stop_0]}" "${rust[source_new_drop]}" || true)" \
    "$(net "${cpp[request_stop_0]}" "${cpp[source_new_drop]}" || true)"

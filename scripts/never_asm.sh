#!/usr/bin/env bash
# Checks that generic code over StoppableToken, monomorphised for
# NeverStopToken, compiles to a constant false: the body of
# `generic_poll_never` in examples/never_asm.rs must be `xor eax, eax; ret`
# (x86-64), while `generic_poll_shared` loads the stop state.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -m)" != "x86_64" ]; then echo "skipped: the check reads x86-64 assembly"; exit 0; fi
dir=target/never-asm
rm -f "$dir"/release/examples/never_asm-*.s
CARGO_TARGET_DIR=$dir cargo rustc --quiet --release --example never_asm -- \
  --emit asm -C debuginfo=0 -C "llvm-args=-x86-asm-syntax=intel"
asm=$(ls -t "$dir"/release/examples/never_asm-*.s | head -n 1)
python3 - "$asm" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
def body(name):
    start = lines.index(name + ":")
    out = []
    for line in lines[start + 1:]:
        text = line.strip()
        if text.startswith(".cfi_endproc") or text.startswith(".Lfunc_end"):
            break
        if not text or text.startswith(".") or text.endswith(":"):
            continue
        out.append(re.sub(r"\s+", " ", text))
    return out
never, shared = body("generic_poll_never"), body("generic_poll_shared")
print("generic_poll_never: ", "; ".join(never))
print("generic_poll_shared:", "; ".join(shared))
if never != ["xor eax, eax", "ret"]:
    sys.exit("FAIL: generic_poll_never is not a constant false")
if not any("ptr [" in ins for ins in shared):
    sys.exit("FAIL: generic_poll_shared does not load the state (check the extraction)")
print("OK: NeverStopToken compiles to a constant false; StopToken loads its state word.")
PY

//! Shows that generic code over `StoppableToken` compiles to a constant `false`
//! for `NeverStopToken`: `scripts/never_asm.sh` builds this example with
//! `--emit asm` and checks that `generic_poll_never` is `xor eax, eax; ret`
//! (no load at all), while `generic_poll_shared` loads the state word.
//!
//! Run: `cargo run --release --example never_asm` (prints both results).

use std::hint::black_box;
use stoptoken::{NeverStopToken, StopSource, StopToken, StoppableToken};

/// Written once against the trait.
#[inline]
fn should_stop<T: StoppableToken>(token: &T) -> bool {
    token.stop_possible() && token.stop_requested()
}

/// `should_stop` for the never-stopping token: expected `xor eax, eax; ret`.
#[inline(never)]
#[no_mangle]
pub fn generic_poll_never(token: &NeverStopToken) -> bool {
    should_stop(token)
}

/// `should_stop` for the shared token: one load of the state word.
#[inline(never)]
#[no_mangle]
pub fn generic_poll_shared(token: &StopToken) -> bool {
    should_stop(token)
}

fn main() {
    let source = StopSource::new();
    println!(
        "never: {}, shared: {}",
        generic_poll_never(black_box(&NeverStopToken)),
        generic_poll_shared(black_box(&source.token()))
    );
}

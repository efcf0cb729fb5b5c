//! Stop-to-return latency of a blocked `read` and `accept` through
//! `stoptoken::io::Stoppable` (against the park/unpark floor), and loopback
//! throughput through it against a plain blocking `TcpStream`.
//!
//! ```text
//! cargo run --release -p stoptoken-bench --bin blocking_io
//! ```

use stoptoken_bench::blocking_io::{accept_latency, park_latency, read_latency, throughput};
use stoptoken_bench::machine;

/// Stops measured per latency row.
const TRIALS: usize = 200;
/// MiB per throughput run, and pairs of runs (one plain, one `Stoppable`).
const MIB: usize = 128;
const PAIRS: usize = 15;

fn main() {
    println!(
        "Machine: {} ({} cores); {}",
        machine::cpu_model(),
        machine::cores(),
        machine::rustc_version()
    );
    println!();
    println!(
        "| stop-to-return latency, {TRIALS} trials | median (us) | p99 (us) | median / floor |"
    );
    println!("|---|---:|---:|---:|");
    let floor = park_latency(TRIALS);
    let rows = [
        ("park + StopCallback unpark (the floor)", floor),
        ("`Stoppable<TcpStream>::read`", read_latency(TRIALS)),
        ("`Stoppable<TcpListener>::accept`", accept_latency(TRIALS)),
    ];
    for (name, latency) in rows {
        println!(
            "| {name} | {:.1} | {:.1} | {:.2}x |",
            latency.median_us,
            latency.p99_us,
            latency.median_us / floor.median_us
        );
    }
    println!();
    let measured = throughput(MIB, PAIRS);
    println!(
        "| loopback TCP, 64 KiB reads, {PAIRS} pairs of {MIB} MiB runs | MiB/s (median) | time vs plain (median of pairs) |"
    );
    println!("|---|---:|---:|");
    println!(
        "| plain blocking `TcpStream` | {:.0} | 1.00x |",
        measured.plain
    );
    println!(
        "| `Stoppable<TcpStream>` | {:.0} | {:.2}x (target <= 1.10x) |",
        measured.stoppable, measured.ratio
    );
}

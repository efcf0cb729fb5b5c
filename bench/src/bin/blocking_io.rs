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
/// MiB per throughput run, and runs of each kind.
const MIB: usize = 512;
const RUNS: usize = 5;

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
    let (plain, wrapped) = throughput(MIB, RUNS);
    println!("| loopback TCP, 64 KiB reads, median of {RUNS} runs of {MIB} MiB | MiB/s | time vs plain |");
    println!("|---|---:|---:|");
    println!("| plain blocking `TcpStream` | {plain:.0} | 1.00x |");
    println!(
        "| `Stoppable<TcpStream>` | {wrapped:.0} | {:.2}x (target <= 1.10x) |",
        plain / wrapped
    );
}

//! Benchmarks of `stoptoken` against libstdc++'s `<stop_token>` (through the C++
//! program in `cpp/`) and tokio-util's `CancellationToken`.
//!
//! Every measured operation is a [`Bench`]: a function that performs the operation
//! `n` times and returns the time spent on exactly the measured part. The same
//! functions serve the `compare` binary (median over batches), the criterion
//! benches (`iter_custom`), and the callgrind driver (`compare --callgrind`).
//! See `README.md` for what each operation measures in each implementation.

pub mod blocking_io;
pub mod composed;
pub mod contended;
pub mod cpp;
pub mod group;
pub mod harness;
pub mod latency;
pub mod machine;
pub mod stoptoken_ops;
pub mod table;
pub mod threads;
pub mod tokio_ops;

pub use harness::Bench;

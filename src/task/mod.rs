//! Async cancellation: tokens that flow through `.await` (the Capy model in Rust).

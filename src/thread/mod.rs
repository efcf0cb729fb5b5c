//! Stop-aware threads and blocking waits that wake on a stop.

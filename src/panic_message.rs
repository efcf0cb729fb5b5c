//! The text of a panic payload, for the reports of panics that a `drop` cannot
//! raise (`JThread`, stop groups).

use core::any::Any;

/// The message of a panic payload: its `&str` or `String`, or a placeholder.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>")
}

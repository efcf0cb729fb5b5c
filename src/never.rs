//! A token that can never be stopped (C++26 `std::never_stop_token`).

use crate::state::Exclusive;
use crate::Stopped;

/// A token that is never stopped (C++26 `std::never_stop_token`).
///
/// Zero-sized; both queries are `const fn`s returning `false`, so generic code
/// over [`StoppableToken`](crate::StoppableToken) compiles its checks away, and
/// registering a callback costs nothing (the callback is kept, never run, and
/// dropped with the registration).
///
/// # Examples
///
/// ```
/// use stoptoken::NeverStopToken;
///
/// const NEVER: NeverStopToken = NeverStopToken::new();
/// const _: () = assert!(!NEVER.stop_requested() && !NEVER.stop_possible());
/// assert_eq!(std::mem::size_of::<NeverStopToken>(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NeverStopToken;

impl NeverStopToken {
    /// The token (there is only one value).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(stoptoken::NeverStopToken::new(), stoptoken::NeverStopToken);
    /// ```
    #[inline]
    pub const fn new() -> Self {
        NeverStopToken
    }

    /// Always `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!stoptoken::NeverStopToken.stop_requested());
    /// ```
    #[inline(always)]
    #[must_use]
    pub const fn stop_requested(&self) -> bool {
        false
    }

    /// Always `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!stoptoken::NeverStopToken.stop_possible());
    /// ```
    #[inline(always)]
    #[must_use]
    pub const fn stop_possible(&self) -> bool {
        false
    }

    /// Always `Ok(())`: no stop can come. A `const fn`.
    ///
    /// # Examples
    ///
    /// ```
    /// const CHECKED: Result<(), stoptoken::Stopped> = stoptoken::NeverStopToken.check();
    /// assert_eq!(CHECKED, Ok(()));
    /// ```
    #[inline(always)]
    pub const fn check(&self) -> Result<(), Stopped> {
        Ok(())
    }
}

/// The registration of a callback on a [`NeverStopToken`]: it never runs; it is
/// dropped with this value. Made by
/// [`StoppableToken::on_stop`](crate::StoppableToken::on_stop).
///
/// # Examples
///
/// ```
/// use stoptoken::{NeverStopToken, StoppableToken};
///
/// let _callback = NeverStopToken.on_stop(|| unreachable!());
/// ```
#[must_use = "a callback registered on a NeverStopToken never runs"]
pub struct NeverStopCallback<F> {
    _callback: Exclusive<F>,
}

impl<F> NeverStopCallback<F> {
    #[inline(always)]
    pub(crate) fn new(callback: F) -> Self {
        NeverStopCallback {
            _callback: Exclusive::new(callback),
        }
    }
}

impl<F> core::fmt::Debug for NeverStopCallback<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NeverStopCallback")
    }
}

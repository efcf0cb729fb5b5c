//! `when_any`: run fallible children concurrently; the first success wins and
//! stops the others.
//!
//! Built like [`when_all`](fn@super::when_all): one future polling only the
//! children [woken](super::woken) since its last poll, each with its own
//! waker, in input order, the children in one stop [group](super::group)
//! under the current token. The first child to return `Ok` (first in time) is
//! the winner: the group is stopped, every other child is polled once more to
//! see the stop and still awaited to completion, and then the winner's value
//! is returned; values of children that succeed after the winner are
//! dropped. If every child fails, the *last* error in time is returned (as
//! `futures::future::select_ok` does): the errors before it are dropped as
//! they come.

use core::future::{poll_fn, Future};
use core::pin::{pin, Pin};
use core::task::Context;

use super::group::{Group, Slot};
use super::woken::Woken;

/// Tuples of 2 to 8 futures that [`when_any`] can run: every element is a
/// `Future<Output = Result<T, E>>`, with one `T` and one `E` for all.
///
/// The trait is sealed: it is implemented for those tuples only.
///
/// # Examples
///
/// A function generic over the tuple names the trait in its bound:
///
/// ```
/// use std::future::Future;
/// use stoptoken::task::{when_any, WhenAny};
///
/// fn first_of<L: WhenAny>(children: L) -> impl Future<Output = L::Output> {
///     when_any(children)
/// }
///
/// let first = first_of((async { Err::<u8, _>("down") }, async { Ok::<u8, &str>(2) }));
/// assert_eq!(futures::executor::block_on(first), Ok(2));
/// ```
pub trait WhenAny: crate::sealed::Sealed {
    /// `Result<T, E>`.
    type Output;

    /// The same as [`when_any(self)`](when_any); deprecated, there is one way to
    /// call it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// use stoptoken::task::WhenAny;
    ///
    /// let pair = (async { Ok::<u8, &str>(1) }, async { Err::<u8, _>("no") });
    /// assert_eq!(futures::executor::block_on(pair.when_any()), Ok(1));
    /// ```
    #[deprecated(
        since = "0.2.0",
        note = "use the function `stoptoken::task::when_any(futures)`"
    )]
    fn when_any(self) -> impl Future<Output = Self::Output>;
}

/// Runs the futures of a tuple concurrently; the first to succeed wins, the
/// others are asked to stop and awaited, then the winner's value is returned.
///
/// Each child runs with a child token of the [current
/// token](super::current_token) as its current token (one stop group for all
/// the children). The first `Ok` in time wins and stops the group; the other
/// children are still awaited to completion (so nothing they own outlives the
/// call), and their outcomes are dropped. If all fail, the last error in time
/// is returned. A stop of the current token reaches every child; a child's stop
/// never reaches the caller's token.
///
/// When `when_any` ends (it completes, or it is dropped unfinished), the
/// children's token is stopped, so that what is linked below it and outlives
/// the call (a task spawned by a child with `task::spawn`, a token the winner
/// returned) is asked to stop (see [structured
/// lifetimes](super#structured-lifetimes)). Children dropped unfinished are
/// dropped before that stop; their `Drop` sees the current token of the code
/// that drops `when_any`.
///
/// The current token is read at the first poll; the children do not start
/// before. As in [`when_all`](fn@super::when_all), each child has its own
/// waker: a poll of `when_any` polls the children woken since its last poll
/// (all of them at the first), each once, in tuple order, and no other; after
/// the winner's stop, every unfinished child is polled once more. See
/// [`when_any_iter`] for any number of children.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{current_token, when_any};
///
/// let fastest = futures::executor::block_on(when_any((
///     async {
///         current_token().stopped().await; // the slow replica: stopped by the winner
///         Err("stopped")
///     },
///     async { Ok("fast replica") },
/// )));
/// assert_eq!(fastest, Ok("fast replica"));
/// ```
pub fn when_any<L: WhenAny>(futures: L) -> impl Future<Output = L::Output> {
    #[allow(deprecated)] // the method is the implementation, the function the API
    futures.when_any()
}

/// Runs all the futures of an iterator concurrently; the first to succeed
/// wins, the others are asked to stop and awaited, then the winner's value is
/// returned; if all fail, the last error in time.
///
/// The same rules as [`when_any`], the group stopped when the call ends too.
/// A poll polls only the children woken since the last one, in input order,
/// so `n` children cost `O(n)` polls in all. The iterator is consumed at once,
/// each child boxed.
///
/// # Panics
///
/// Panics at once if the iterator is empty: with no child there is neither a
/// value nor an error to return.
///
/// # Examples
///
/// ```
/// use stoptoken::task::when_any_iter;
///
/// let mirrors = ["a", "b", "c"].map(|name| async move {
///     if name == "b" { Ok(name) } else { Err(format!("{name} is down")) }
/// });
/// assert_eq!(futures::executor::block_on(when_any_iter(mirrors)), Ok("b"));
/// ```
pub fn when_any_iter<I, T, E>(futures: I) -> impl Future<Output = Result<T, E>>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let children: Vec<Pin<Box<I::Item>>> = futures.into_iter().map(Box::pin).collect();
    assert!(
        !children.is_empty(),
        "when_any_iter: no future to run, so no value and no error to return"
    );
    async move {
        let mut group = Group::new(children.len());
        let mut woken = Woken::new(children.len());
        // Declared after the group, so dropped before it (see `Group`'s drop).
        let mut children = children;
        let mut slots: Vec<Slot<()>> = children.iter().map(|_| Slot::Running).collect();
        let mut outcome = Outcome::new();
        poll_fn(|cx| {
            group.poll_woken(&mut woken, cx, |group, index, cx| {
                let child = children[index].as_mut();
                outcome.record(group, &mut slots[index], child, cx);
            })
        })
        .await;
        outcome.into_result()
    }
}

/// The winner so far, and the last error.
struct Outcome<T, E> {
    winner: Option<T>,
    error: Option<E>,
}

impl<T, E> Outcome<T, E> {
    fn new() -> Self {
        Outcome {
            winner: None,
            error: None,
        }
    }

    /// Polls one child; a first success wins and stops the group.
    fn record<F>(
        &mut self,
        group: &mut Group,
        slot: &mut Slot<()>,
        future: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) where
        F: Future<Output = Result<T, E>>,
    {
        match group.poll_child(slot, future, cx) {
            Some(Ok(value)) if self.winner.is_none() => {
                self.winner = Some(value);
                group.stop();
            }
            Some(Err(error)) => self.error = Some(error),
            // A success after the winner is dropped.
            Some(Ok(_)) | None => {}
        }
    }

    /// Once every child (at least one) has finished.
    fn into_result(self) -> Result<T, E> {
        match (self.winner, self.error) {
            (Some(value), _) => Ok(value),
            (None, Some(error)) => Err(error),
            (None, None) => unreachable!("when_any: a finished child leaves a value or an error"),
        }
    }
}

macro_rules! when_any_tuple {
    ($count:literal: $($i:literal $F:ident $f:ident $s:ident),+) => {
        impl<T, E, $($F),+> WhenAny for ($($F,)+)
        where
            $($F: Future<Output = Result<T, E>>),+
        {
            type Output = Result<T, E>;

            fn when_any(self) -> impl Future<Output = Self::Output> {
                let ($($f,)+) = self;
                async move {
                    let mut group = Group::new($count);
                    let mut woken = Woken::new($count);
                    let mut outcome = Outcome::new();
                    $(
                        let mut $f = pin!($f);
                        let mut $s = Slot::Running;
                    )+
                    poll_fn(|cx| {
                        group.poll_woken(&mut woken, cx, |group, index, cx| match index {
                            $($i => outcome.record(group, &mut $s, $f.as_mut(), cx),)+
                            _ => unreachable!("when_any: a child index past the tuple"),
                        })
                    })
                    .await;
                    outcome.into_result()
                }
            }
        }
    };
}

when_any_tuple!(2: 0 F1 f1 s1, 1 F2 f2 s2);
when_any_tuple!(3: 0 F1 f1 s1, 1 F2 f2 s2, 2 F3 f3 s3);
when_any_tuple!(4: 0 F1 f1 s1, 1 F2 f2 s2, 2 F3 f3 s3, 3 F4 f4 s4);
when_any_tuple!(5: 0 F1 f1 s1, 1 F2 f2 s2, 2 F3 f3 s3, 3 F4 f4 s4, 4 F5 f5 s5);
when_any_tuple!(6: 0 F1 f1 s1, 1 F2 f2 s2, 2 F3 f3 s3, 3 F4 f4 s4, 4 F5 f5 s5, 5 F6 f6 s6);
when_any_tuple!(
    7: 0 F1 f1 s1, 1 F2 f2 s2, 2 F3 f3 s3, 3 F4 f4 s4, 4 F5 f5 s5, 5 F6 f6 s6, 6 F7 f7 s7
);
when_any_tuple!(
    8: 0 F1 f1 s1, 1 F2 f2 s2, 2 F3 f3 s3, 3 F4 f4 s4, 4 F5 f5 s5, 5 F6 f6 s6, 6 F7 f7 s7,
    7 F8 f8 s8
);

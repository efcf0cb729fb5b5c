//! `when_all`: run fallible children concurrently, all to completion; the
//! first failure stops the others.
//!
//! The combinator is one future (no spawning) that polls each child with a
//! waker of its own: a poll of the combinator polls the children
//! [woken](super::woken) since its last poll, each once, in input order, and
//! no other (the first poll polls them all), so `n` children cost `O(n)` polls
//! in all, however many wakes it takes. Children run in a stop
//! [group](super::group): a child's current token is a child of the
//! combinator's current token. When a child returns `Err`, that error is kept
//! if it is the first one (first in time), the group is stopped, every
//! unfinished child is polled once more so that it sees the stop, and the
//! combinator goes on polling until every child has finished; later errors
//! are dropped. A tuple's children are pinned in place; the iterator form
//! boxes each child. Either form allocates, at its first poll, the group's
//! source, the shared queue of woken children and one waker per child;
//! polling allocates nothing.

use core::future::{poll_fn, Future};
use core::pin::{pin, Pin};
use core::task::Context;

use super::group::{Group, Slot};
use super::woken::Woken;

/// Tuples of 2 to 8 futures that [`when_all`] can run: every element is a
/// `Future<Output = Result<Ti, E>>`, with one error type `E` for all.
///
/// The trait is sealed: it is implemented for those tuples only.
///
/// # Examples
///
/// A function generic over the tuple names the trait in its bound:
///
/// ```
/// use std::future::Future;
/// use stoptoken::task::{when_all, WhenAll};
///
/// fn run_all<L: WhenAll>(children: L) -> impl Future<Output = L::Output> {
///     when_all(children)
/// }
///
/// let both = run_all((async { Ok::<_, ()>(1) }, async { Ok::<_, ()>("one") }));
/// assert_eq!(futures::executor::block_on(both), Ok((1, "one")));
/// ```
pub trait WhenAll: crate::sealed::Sealed {
    /// `Result<(T1, ..., Tn), E>`.
    type Output;

    /// The same as [`when_all(self)`](when_all); deprecated, there is one way to
    /// call it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// use stoptoken::task::WhenAll;
    ///
    /// let pair = (async { Ok::<u8, &str>(1) }, async { Err::<u8, _>("no") });
    /// assert_eq!(futures::executor::block_on(pair.when_all()), Err("no"));
    /// ```
    #[deprecated(
        since = "0.2.0",
        note = "use the function `stoptoken::task::when_all(futures)`"
    )]
    fn when_all(self) -> impl Future<Output = Self::Output>;
}

/// Runs the futures of a tuple concurrently until all have finished; returns
/// all their values, in the order of the tuple, or the first error.
///
/// Each child runs with a child token of the [current
/// token](super::current_token) as *its* current token (one stop group for all
/// the children):
///
/// - when a child returns `Err`, the others are asked to stop; all of them are
///   still awaited to completion, and then the first error (first in time) is
///   returned; later errors are dropped;
/// - a stop of the current token reaches every child; what they return then is
///   theirs to decide (usually an error built from [`Stopped`](crate::Stopped));
/// - a child's failure never stops the caller's token;
/// - when `when_all` ends (it completes, or it is dropped unfinished), the
///   children's token is stopped: what is linked below it and outlives the
///   call (a task spawned by a child with `task::spawn`, a token a child
///   kept) is asked to stop (see [structured
///   lifetimes](super#structured-lifetimes)). Children dropped unfinished are
///   dropped before that stop; their `Drop` sees the current token of the
///   code that drops `when_all`.
///
/// The current token is read at the first poll; the children do not start
/// before. Each child is polled with a waker of its own: a poll of `when_all`
/// polls the children woken since its last poll (all of them at the first
/// poll), each once, in tuple order, and no other; after the stop that a
/// failure makes, every unfinished child is polled once more. See
/// [`when_all_iter`] for any number of children of one type.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{current_token, when_all};
///
/// #[derive(Debug, PartialEq)]
/// enum Error { Failed, Stopped }
///
/// let outcome = futures::executor::block_on(when_all((
///     async { Err::<(), _>(Error::Failed) },
///     async {
///         current_token().stopped().await; // asked to stop by the failure
///         Err::<(), _>(Error::Stopped)
///     },
/// )));
/// assert_eq!(outcome, Err(Error::Failed)); // the first error in time
/// ```
pub fn when_all<L: WhenAll>(futures: L) -> impl Future<Output = L::Output> {
    #[allow(deprecated)] // the method is the implementation, the function the API
    futures.when_all()
}

/// Runs all the futures of an iterator concurrently until all have finished;
/// returns their values in the order of the iterator, or the first error.
///
/// The same rules as [`when_all`]: one child stop group under the current
/// token, the first error (in time) stops the others and is returned once every
/// child has finished, the group is stopped when the call ends. Each child has
/// its own waker and a poll polls only the children woken since the last one,
/// in input order, so `n` children cost `O(n)` polls in all (a wake does not
/// poll the other `n - 1`). The iterator is consumed at once, each child
/// boxed; an empty iterator gives `Ok(vec![])`.
///
/// # Examples
///
/// ```
/// use stoptoken::task::when_all_iter;
///
/// let squares = when_all_iter((1..=4).map(|n| async move { Ok::<_, ()>(n * n) }));
/// assert_eq!(futures::executor::block_on(squares), Ok(vec![1, 4, 9, 16]));
/// ```
pub fn when_all_iter<I, T, E>(futures: I) -> impl Future<Output = Result<Vec<T>, E>>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let children: Vec<Pin<Box<I::Item>>> = futures.into_iter().map(Box::pin).collect();
    async move {
        let mut group = Group::new(children.len());
        let mut woken = Woken::new(children.len());
        // Declared after the group, so dropped before it (see `Group`'s drop).
        let mut children = children;
        let mut slots: Vec<Slot<T>> = children.iter().map(|_| Slot::Running).collect();
        let mut error = None;
        poll_fn(|cx| {
            group.poll_woken(&mut woken, cx, |group, index, cx| {
                let child = children[index].as_mut();
                record(group, &mut error, &mut slots[index], child, cx);
            })
        })
        .await;
        match error {
            Some(error) => Err(error),
            None => Ok(slots.iter_mut().map(value).collect()),
        }
    }
}

/// Polls one child; keeps its value, or its error if it is the first one.
fn record<T, E, F>(
    group: &mut Group,
    error: &mut Option<E>,
    slot: &mut Slot<T>,
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) where
    F: Future<Output = Result<T, E>>,
{
    match group.poll_child(slot, future, cx) {
        Some(Ok(value)) => *slot = Slot::Value(value),
        Some(Err(failure)) if error.is_none() => {
            *error = Some(failure);
            group.stop();
        }
        // A later error is dropped.
        Some(Err(_)) | None => {}
    }
}

/// The value of a child, once all finished and none failed.
fn value<T>(slot: &mut Slot<T>) -> T {
    match slot.take() {
        Some(value) => value,
        None => unreachable!("when_all: with no error recorded, every child finished with Ok"),
    }
}

macro_rules! when_all_tuple {
    ($count:literal: $($i:literal $F:ident $T:ident $f:ident $s:ident),+) => {
        impl<E, $($F, $T),+> WhenAll for ($($F,)+)
        where
            $($F: Future<Output = Result<$T, E>>),+
        {
            type Output = Result<($($T,)+), E>;

            fn when_all(self) -> impl Future<Output = Self::Output> {
                let ($($f,)+) = self;
                async move {
                    let mut group = Group::new($count);
                    let mut woken = Woken::new($count);
                    let mut error = None;
                    $(
                        let mut $f = pin!($f);
                        let mut $s = Slot::Running;
                    )+
                    poll_fn(|cx| {
                        group.poll_woken(&mut woken, cx, |group, index, cx| match index {
                            $($i => record(group, &mut error, &mut $s, $f.as_mut(), cx),)+
                            _ => unreachable!("when_all: a child index past the tuple"),
                        })
                    })
                    .await;
                    match error {
                        Some(error) => Err(error),
                        None => Ok(($(value(&mut $s),)+)),
                    }
                }
            }
        }
    };
}

when_all_tuple!(2: 0 F1 T1 f1 s1, 1 F2 T2 f2 s2);
when_all_tuple!(3: 0 F1 T1 f1 s1, 1 F2 T2 f2 s2, 2 F3 T3 f3 s3);
when_all_tuple!(4: 0 F1 T1 f1 s1, 1 F2 T2 f2 s2, 2 F3 T3 f3 s3, 3 F4 T4 f4 s4);
when_all_tuple!(
    5: 0 F1 T1 f1 s1, 1 F2 T2 f2 s2, 2 F3 T3 f3 s3, 3 F4 T4 f4 s4, 4 F5 T5 f5 s5
);
when_all_tuple!(
    6: 0 F1 T1 f1 s1, 1 F2 T2 f2 s2, 2 F3 T3 f3 s3, 3 F4 T4 f4 s4, 4 F5 T5 f5 s5, 5 F6 T6 f6 s6
);
when_all_tuple!(
    7: 0 F1 T1 f1 s1, 1 F2 T2 f2 s2, 2 F3 T3 f3 s3, 3 F4 T4 f4 s4, 4 F5 T5 f5 s5, 5 F6 T6 f6 s6,
    6 F7 T7 f7 s7
);
when_all_tuple!(
    8: 0 F1 T1 f1 s1, 1 F2 T2 f2 s2, 2 F3 T3 f3 s3, 3 F4 T4 f4 s4, 4 F5 T5 f5 s5, 5 F6 T6 f6 s6,
    6 F7 T7 f7 s7, 7 F8 T8 f8 s8
);

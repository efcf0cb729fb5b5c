//! The stop group shared by the children of one `when_all` / `when_any`.
//!
//! A group is one [`StopSource`] made with [`StopSource::child_of`] the current
//! token at the combinator's first poll. Every child is polled with the group's
//! token installed as its current token, so:
//!
//! - a stop of the parent reaches every child (through the child link);
//! - the combinator stops all the children at once by stopping the group
//!   (after a failure in `when_all`, after the winner in `when_any`);
//! - the group's stop never reaches the parent.
//!
//! One group source for all children costs one allocation and one link in the
//! parent, however many children there are; the child that caused the stop has
//! finished already, so it does not matter that it shares the source.
//!
//! When the combinator ends (it completes, or it is dropped unfinished) the
//! group is dropped, and its `Drop` first requests a stop on the group's
//! source, then lets the source, and with it the link to the parent, go. So
//! nothing linked below the group outlives it unstopped: a task spawned from a
//! child (its token a child of the group's token), a source made with
//! `StopSource::child_of(&current_token())`, a token a child kept. Without the
//! stop, such a token would lose its link to the parent with the group and
//! could never be stopped again. For the children themselves the stop is
//! harmless: a completed combinator's children have all finished, and an
//! unfinished combinator's children have been dropped before the group (each
//! combinator declares them after it).
//!
//! Each child is in a [`Slot`]: running, finished with its value kept for the
//! output, or finished with nothing left to give. Which children a poll of the
//! combinator polls is the [`Woken`] set's to say: [`Group::poll_woken`]
//! polls those, with the group's token current, and when the group stopped
//! its children in that poll, queues every child for one more poll, so that a
//! child that does not wait on its token still sees the stop.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::current::{current_token, scoped};
use super::woken::Woken;
use crate::guard::request_stop_in_drop;
use crate::{StopSource, StopToken};

/// The stop group of one combinator; dropping it stops `source` (see the
/// module docs).
pub(crate) struct Group {
    source: StopSource,
    /// Invariant: `Some` except while a child is being polled (it is then the
    /// thread's current token).
    token: Option<StopToken>,
    /// Children not yet finished.
    running: usize,
    /// Set when this group stopped its children during the current poll.
    stopped_now: bool,
}

impl Group {
    /// A group of `children` children, linked to the current token.
    pub(crate) fn new(children: usize) -> Self {
        let source = StopSource::child_of(&current_token());
        let token = Some(source.token());
        Group {
            source,
            token,
            running: children,
            stopped_now: false,
        }
    }

    /// Polls one running child with the group's token as its current token.
    /// On completion the slot is marked finished and the output returned.
    pub(crate) fn poll_child<F: Future, T>(
        &mut self,
        slot: &mut Slot<T>,
        future: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Option<F::Output> {
        if !matches!(slot, Slot::Running) {
            return None;
        }
        match scoped(&mut self.token, || future.poll(cx)) {
            Poll::Ready(output) => {
                *slot = Slot::Finished;
                self.running -= 1;
                Some(output)
            }
            Poll::Pending => None,
        }
    }

    /// Asks every child to stop (they see it through their current token).
    pub(crate) fn stop(&mut self) {
        if self.source.request_stop() {
            self.stopped_now = true;
        }
    }

    /// One poll of the combinator: polls each child [woken](super::woken)
    /// since the last one, in input order, through `poll_one` (given the
    /// group, the child's index and a context with the child's own waker);
    /// `Ready` once every child has finished.
    pub(crate) fn poll_woken(
        &mut self,
        woken: &mut Woken,
        cx: &mut Context<'_>,
        mut poll_one: impl FnMut(&mut Group, usize, &mut Context<'_>),
    ) -> Poll<()> {
        for (index, waker) in woken.take(cx.waker()) {
            poll_one(self, index, &mut Context::from_waker(waker));
        }
        if self.running == 0 {
            return Poll::Ready(());
        }
        // A child that was not polled after the stop has not seen it: the
        // ones polled before it in this batch, the ones not woken at all.
        // Polling every child once more guarantees each sees the stop,
        // whatever it waits on; the group stops only once, so that is one
        // more poll per child in all.
        if core::mem::take(&mut self.stopped_now) {
            woken.wake_all();
        }
        Poll::Pending
    }
}

impl Drop for Group {
    /// Stops whatever is still linked below the group (see the module docs).
    fn drop(&mut self) {
        request_stop_in_drop(&self.source, "a when_all / when_any stop group");
    }
}

/// The state of one child of a combinator.
pub(crate) enum Slot<T> {
    Running,
    /// Finished with a value that the combinator will return.
    Value(T),
    /// Finished; nothing (more) to take.
    Finished,
}

impl<T> Slot<T> {
    pub(crate) fn take(&mut self) -> Option<T> {
        match core::mem::replace(self, Slot::Finished) {
            Slot::Value(value) => Some(value),
            _ => None,
        }
    }
}

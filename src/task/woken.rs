//! Which children of one `when_all` / `when_any` to poll next: each child is
//! polled with a waker of its own, so a wake polls the child it belongs to and
//! no other, and `n` children cost `O(n)` polls however they finish.
//!
//! The protocol. The combinator and its children's wakers share one [`Queue`]
//! behind a mutex: the indices of the children woken since the combinator took
//! the last batch, and the waker of the combinator itself (the parent).
//!
//! 1. At the start every child is queued, in input order: the first poll of the
//!    combinator is the first poll of every child.
//! 2. A child's waker, on any thread and at any time, queues its index unless
//!    it is queued already, so the queue holds each child at most once and
//!    never grows past its initial capacity. If the queue was empty, it wakes
//!    the parent, after unlocking; a queue that was not empty has had its
//!    parent woken since the last batch was taken, so one wake of the parent
//!    serves the whole batch.
//! 3. Each poll of the combinator, in one critical section, registers the
//!    parent's waker and takes the queue (a swap with the empty buffer of the
//!    last batch: no allocation), then polls the children of the batch, in
//!    input order, outside the lock. No wake is lost: a wake before the take
//!    is in the batch; a wake after it, also while the child itself is being
//!    polled, queues the child for the next poll and wakes the parent that
//!    the take registered.
//! 4. A wake of a child that has finished is taken like any other; the
//!    combinator skips that child.
//! 5. The wakers share the queue, not the combinator: one woken after the
//!    combinator was dropped finds the queue alive and the parent's waker gone
//!    (the combinator's drop removes it), so it queues its index and wakes
//!    nobody.
//!
//! A poisoned lock is taken as it is: every critical section leaves the queue
//! consistent at each step (an index is marked queued and pushed together,
//! and the push never allocates), so a panic inside one (only a parent
//! waker's `clone` could panic) loses nothing.

use core::mem;
use core::task::Waker;
use std::sync::PoisonError;
// `std::task::Wake` is implemented on `std`'s `Arc`.
use std::sync::Arc;
use std::task::Wake;

use crate::sync::{Mutex, MutexGuard};

/// The children to poll at the next poll of one combinator, with the wakers
/// that queue them.
///
/// Invariant: `batch` is empty between two polls of the combinator, and its
/// capacity, like the queue's, is the number of children.
pub(crate) struct Woken {
    queue: Arc<Mutex<Queue>>,
    /// The waker of child `i` at index `i`.
    wakers: Box<[Waker]>,
    /// The children taken from the queue for the poll that runs now.
    batch: Vec<usize>,
}

/// What a combinator shares with its children's wakers (see the module docs).
///
/// Invariant: `queued[i]` exactly when `i` is in `indices`.
struct Queue {
    indices: Vec<usize>,
    queued: Box<[bool]>,
    /// The waker of the combinator's last poll; `None` before the first poll
    /// and after the combinator was dropped.
    parent: Option<Waker>,
}

/// The waker of one child: it queues its index (rule 2).
struct ChildWaker {
    index: usize,
    queue: Arc<Mutex<Queue>>,
}

impl Woken {
    /// The woken set of `children` children, all of them queued (rule 1).
    ///
    /// All the allocation is here: the queue with its buffers, and one waker
    /// per child.
    pub(crate) fn new(children: usize) -> Self {
        let queue = Arc::new(Mutex::new(Queue {
            indices: (0..children).collect(),
            queued: vec![true; children].into_boxed_slice(),
            parent: None,
        }));
        let wakers = (0..children)
            .map(|index| {
                Waker::from(Arc::new(ChildWaker {
                    index,
                    queue: queue.clone(),
                }))
            })
            .collect();
        Woken {
            queue,
            wakers,
            batch: Vec::with_capacity(children),
        }
    }

    /// Takes the children woken since the last call (rule 3), with `parent`
    /// registered to be woken by the next child's wake; yields each index in
    /// ascending order with the waker to poll that child with.
    ///
    /// Indices not yet yielded when the iterator is dropped are dropped with
    /// it: only a child's panic ends a batch early, and the combinator (an
    /// `async` block) is not polled again after a panic.
    pub(crate) fn take(&mut self, parent: &Waker) -> impl Iterator<Item = (usize, &Waker)> {
        debug_assert!(
            self.batch.is_empty(),
            "woken: the last batch was not drained"
        );
        let replaced = {
            let mut queue = lock(&self.queue);
            let Queue {
                indices,
                queued,
                parent: registered,
            } = &mut *queue;
            for &index in indices.iter() {
                queued[index] = false;
            }
            mem::swap(indices, &mut self.batch);
            match registered {
                Some(waker) if waker.will_wake(parent) => None,
                _ => registered.replace(parent.clone()),
            }
        };
        // Dropped after unlocking: a waker's drop is the executor's code.
        drop(replaced);
        // In wake order so far; a batch is polled in input order.
        self.batch.sort_unstable();
        let wakers = &self.wakers;
        self.batch
            .drain(..)
            .map(move |index| (index, &wakers[index]))
    }

    /// Queues every child for the next poll, and wakes the parent unless a
    /// child's wake since the last batch did.
    pub(crate) fn wake_all(&self) {
        let parent = {
            let mut queue = lock(&self.queue);
            let mut parent = None;
            for index in 0..self.wakers.len() {
                // `Some` for the first child queued, if any: once at most.
                if let Some(waker) = queue.push(index) {
                    parent = Some(waker);
                }
            }
            parent
        };
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl Drop for Woken {
    /// Lets the children's wakers outlive the combinator without waking its
    /// task (rule 5).
    fn drop(&mut self) {
        let parent = lock(&self.queue).parent.take();
        // Dropped after unlocking, as in `take`.
        drop(parent);
    }
}

impl Queue {
    /// Queues child `index` unless it is queued already; returns the parent's
    /// waker when this is the first child queued since the last batch.
    fn push(&mut self, index: usize) -> Option<Waker> {
        if mem::replace(&mut self.queued[index], true) {
            return None;
        }
        let first = self.indices.is_empty();
        debug_assert!(self.indices.len() < self.indices.capacity());
        self.indices.push(index);
        if first {
            self.parent.clone()
        } else {
            None
        }
    }
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = lock(&self.queue).push(self.index);
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

/// Locks the queue, poisoned or not (see the module docs).
fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}

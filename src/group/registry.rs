//! The registry of a group's live units: the count a drain waits on.
//!
//! # Protocol
//!
//! One mutex guards all of it ([`Units`]): the live units (a slab of entries,
//! each with its name and kind), how many of them are threads, the totals of
//! units that finished and the names of those that panicked, how many threads
//! sleep on the condvar, and the wakers of pending `drained()` futures.
//!
//! 1. A unit is inserted *before* it can start (before its thread or task is
//!    spawned), and removed when it ends, so `live` counts every unit that may
//!    still run. A spawn that fails removes its entry without counting it.
//! 2. A waiter checks its condition (no live unit; for a group's drop, no live
//!    thread but its own) under the lock and, if it must wait, registers
//!    itself under the same lock: a blocking waiter counts itself in
//!    `sleepers` and sleeps on the condvar (which releases the lock
//!    atomically); a `drained()` future stores its waker.
//! 3. An end removes the entry under the lock. If that left no live unit, it
//!    takes every stored waker; if it left no live unit or ended a thread and
//!    someone sleeps, it notifies the condvar. It wakes after unlocking.
//!
//! 2 and 3 are serialised by the lock, so an end comes either before the
//! waiter's check, which then sees it, or after its registration, which the
//! end then wakes: no end is missed (`tests/loom_group.rs`, which fails as a
//! loom deadlock when a waiter registers after releasing the lock).
//!
//! No user code runs under the lock: a waker is cloned before it and woken or
//! dropped after it, and an entry (its name, its abort hook) is dropped after
//! it. Every update is complete before any call that could panic, so a
//! poisoned lock still guards consistent data, and poisoning is ignored.

use std::borrow::Cow;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use super::ShutdownReport;
use crate::sync::{Condvar, Mutex, MutexGuard, ThreadKey};

/// The name of a unit: a `&'static str` costs no allocation.
pub(super) type Name = Cow<'static, str>;

/// What cuts a task short at a shutdown's deadline (tokio's `abort`).
pub(super) type Abort = Box<dyn FnOnce() + Send>;

/// The shared part of a group: what its units report their ends to.
pub(super) struct Registry {
    units: Mutex<Units>,
    /// Notified (after the unlock) when the last unit or a thread ends while a
    /// thread sleeps in a blocking wait.
    changed: Condvar,
}

/// Invariant: `live` is the number of `Some` slots and `threads` the number of
/// those of kind `Thread`; `free` holds the indices of the `None` slots.
struct Units {
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    live: usize,
    threads: usize,
    next_id: u64,
    /// Units that ended normally, over the group's life.
    finished: usize,
    /// Names of the units that panicked, over the group's life, in the order
    /// they ended.
    panicked: Vec<String>,
    /// Threads blocked on `changed`.
    sleepers: usize,
    /// Wakers of pending `drained()` futures, by waiter id.
    wakers: Vec<(u64, Waker)>,
    next_waiter: u64,
}

/// One live unit.
struct Entry {
    /// Unique over the group's life: tells a reused slot from the one a key
    /// was made for.
    id: u64,
    name: Name,
    kind: Kind,
}

/// What a unit is, for the waits and the report.
pub(super) enum Kind {
    /// A thread of `spawn_thread`; `key` is set by the thread when it starts.
    Thread { key: Option<ThreadKey> },
    /// A task of `spawn`; `abort` is set just after the spawn.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))] // made by `spawn` (feature `tokio`)
    Task { abort: Option<Abort> },
    /// A unit of `track`.
    Tracked,
}

/// How a unit ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Outcome {
    /// It returned, or its `Tracked` was dropped: counted in `finished`.
    Finished,
    /// It panicked: named in `panicked`.
    Panicked,
    /// It never ran (its spawn failed) or was dropped before completing (an
    /// aborted task, a task of a runtime that shut down): counted nowhere.
    Cancelled,
}

/// Where a unit's entry is: its slot, and the id that slot must still hold.
#[derive(Clone, Copy, Debug)]
pub(super) struct Key {
    index: usize,
    id: u64,
}

impl Registry {
    pub(super) fn new() -> Arc<Registry> {
        Arc::new(Registry {
            units: Mutex::new(Units {
                slots: Vec::new(),
                free: Vec::new(),
                live: 0,
                threads: 0,
                next_id: 0,
                finished: 0,
                panicked: Vec::new(),
                sleepers: 0,
                wakers: Vec::new(),
                next_waiter: 0,
            }),
            changed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Units> {
        // See the module docs: a poisoned lock guards consistent data.
        self.units.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a new unit (rule 1); it ends when the returned guard is dropped.
    pub(super) fn insert(self: &Arc<Self>, name: Name, kind: Kind) -> UnitGuard {
        let mut units = self.lock();
        let id = units.next_id;
        units.next_id += 1;
        if matches!(kind, Kind::Thread { .. }) {
            units.threads += 1;
        }
        units.live += 1;
        let entry = Some(Entry { id, name, kind });
        let index = match units.free.pop() {
            Some(index) => {
                units.slots[index] = entry;
                index
            }
            None => {
                units.slots.push(entry);
                units.slots.len() - 1
            }
        };
        drop(units);
        UnitGuard {
            registry: self.clone(),
            key: Key { index, id },
            outcome: Outcome::Cancelled,
        }
    }

    /// Records the key of the thread that runs the unit at `key`.
    fn set_thread_key(&self, key: Key, thread: ThreadKey) {
        let mut units = self.lock();
        if let Some(Kind::Thread { key: slot }) = units.kind_mut(key) {
            *slot = Some(thread);
        }
    }

    /// Stores the hook that aborts the task at `key`; if the task has ended
    /// already, the hook is dropped (after the unlock).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))] // used by `spawn` (feature `tokio`)
    pub(super) fn set_abort(&self, key: Key, abort: Abort) {
        let mut units = self.lock();
        let unused = match units.kind_mut(key) {
            Some(Kind::Task { abort: slot }) => slot.replace(abort),
            _ => Some(abort),
        };
        drop(units);
        drop(unused);
    }

    /// Removes the unit at `key` (rule 3) and wakes the waiters it concerns.
    fn end(&self, key: Key, outcome: Outcome) {
        let mut units = self.lock();
        let Some(entry) = units.remove(key) else {
            return;
        };
        let thread = matches!(entry.kind, Kind::Thread { .. });
        match outcome {
            Outcome::Finished => units.finished += 1,
            Outcome::Panicked => units.panicked.push(entry.name.to_string()),
            Outcome::Cancelled => {}
        }
        let empty = units.live == 0;
        let notify = units.sleepers > 0 && (empty || thread);
        let wakers = if empty {
            std::mem::take(&mut units.wakers)
        } else {
            Vec::new()
        };
        drop(units);
        if notify {
            self.changed.notify_all();
        }
        for (_, waker) in wakers {
            waker.wake();
        }
        drop(entry);
    }

    pub(super) fn len(&self) -> usize {
        self.lock().live
    }

    /// Blocks until no unit is live (rule 2), or until `deadline`; `true` if
    /// none is.
    pub(super) fn wait_empty(&self, deadline: Option<Instant>) -> bool {
        let mut units = self.lock();
        while units.live != 0 {
            let timeout = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return false,
                },
            };
            units.sleepers += 1;
            units = match timeout {
                None => self
                    .changed
                    .wait(units)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(timeout) => match self.changed.wait_timeout(units, timeout) {
                    Ok((units, _)) => units,
                    Err(poisoned) => poisoned.into_inner().0,
                },
            };
            units.sleepers -= 1;
        }
        true
    }

    /// Blocks until no thread unit runs, except the calling thread if it is
    /// one (it cannot wait for its own end).
    pub(super) fn wait_for_threads(&self) {
        let mut units = self.lock();
        if units.threads == 0 {
            return;
        }
        let me = ThreadKey::current();
        let own =
            usize::from(
                units.slots.iter().flatten().any(
                    |entry| matches!(entry.kind, Kind::Thread { key: Some(key) } if key == me),
                ),
            );
        while units.threads > own {
            units.sleepers += 1;
            units = self
                .changed
                .wait(units)
                .unwrap_or_else(PoisonError::into_inner);
            units.sleepers -= 1;
        }
    }

    /// `Ready` once no unit is live; otherwise stores the waker under the
    /// waiter id in `waiter` (rule 2), making one at the first call.
    pub(super) fn poll_drained(&self, waiter: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()> {
        // Cloned outside the lock: a waker's clone and drop are user code.
        let waker = cx.waker().clone();
        let mut units = self.lock();
        if units.live == 0 {
            let stored = waiter.take().and_then(|id| units.remove_waker(id));
            drop(units);
            drop((stored, waker));
            return Poll::Ready(());
        }
        let id = match *waiter {
            Some(id) => id,
            None => {
                let id = units.next_waiter;
                units.next_waiter += 1;
                *waiter = Some(id);
                id
            }
        };
        let old = match units.wakers.iter_mut().find(|(w, _)| *w == id) {
            Some((_, stored)) => Some(std::mem::replace(stored, waker)),
            None => {
                units.wakers.push((id, waker));
                None
            }
        };
        drop(units);
        drop(old);
        Poll::Pending
    }

    /// Removes the waker of a `drained()` future that is dropped unfinished.
    pub(super) fn forget_waiter(&self, id: u64) {
        let mut units = self.lock();
        let stored = units.remove_waker(id);
        drop(units);
        drop(stored);
    }

    /// The report of a shutdown that began at `started`: aborts the tasks
    /// still live (after the unlock) and names every live unit unfinished.
    pub(super) fn report(&self, started: Instant) -> ShutdownReport {
        let mut units = self.lock();
        let mut live: Vec<(u64, String)> = Vec::with_capacity(units.live);
        let mut aborts: Vec<Abort> = Vec::new();
        for entry in units.slots.iter_mut().flatten() {
            live.push((entry.id, entry.name.to_string()));
            if let Kind::Task { abort } = &mut entry.kind {
                aborts.extend(abort.take());
            }
        }
        let finished = units.finished;
        let panicked = units.panicked.clone();
        drop(units);
        live.sort_unstable_by_key(|(id, _)| *id);
        let unfinished = live.into_iter().map(|(_, name)| name).collect();
        for abort in aborts {
            abort();
        }
        ShutdownReport::new(finished, unfinished, panicked, started.elapsed())
    }
}

impl Units {
    fn kind_mut(&mut self, key: Key) -> Option<&mut Kind> {
        match self.slots.get_mut(key.index) {
            Some(Some(entry)) if entry.id == key.id => Some(&mut entry.kind),
            _ => None,
        }
    }

    fn remove(&mut self, key: Key) -> Option<Entry> {
        let slot = self.slots.get_mut(key.index)?;
        if slot.as_ref().is_none_or(|entry| entry.id != key.id) {
            return None;
        }
        let entry = slot.take()?;
        self.free.push(key.index);
        self.live -= 1;
        if matches!(entry.kind, Kind::Thread { .. }) {
            self.threads -= 1;
        }
        Some(entry)
    }

    fn remove_waker(&mut self, id: u64) -> Option<Waker> {
        let at = self.wakers.iter().position(|(w, _)| *w == id)?;
        Some(self.wakers.swap_remove(at).1)
    }
}

/// A counted unit: dropping it ends the unit with its outcome (`Cancelled`
/// unless set).
pub(super) struct UnitGuard {
    registry: Arc<Registry>,
    key: Key,
    outcome: Outcome,
}

impl UnitGuard {
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))] // used by `spawn` (feature `tokio`)
    pub(super) fn key(&self) -> Key {
        self.key
    }

    pub(super) fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome = outcome;
    }

    /// Runs a thread unit's function on its own thread: records the thread,
    /// and ends the unit when `f` returns (`Finished`) or unwinds
    /// (`Panicked`, and the panic goes on to the thread's `JoinHandle`).
    pub(super) fn run_thread<T>(mut self, f: impl FnOnce() -> T) -> T {
        self.registry.set_thread_key(self.key, ThreadKey::current());
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(value) => {
                self.outcome = Outcome::Finished;
                drop(self);
                value
            }
            Err(payload) => {
                self.outcome = Outcome::Panicked;
                drop(self);
                resume_unwind(payload)
            }
        }
    }
}

impl Drop for UnitGuard {
    fn drop(&mut self) {
        self.registry.end(self.key, self.outcome);
    }
}

//! A stop as a `crossbeam_channel` receiver, for `select!` (feature
//! `crossbeam-channel`).
//!
//! [`stopped_receiver`] returns a `Receiver<()>` whose channel's only sender
//! belongs to a stop callback: the stop drops it, so the receiver becomes
//! *disconnected*, which `select!` reports as ready (`recv` returns
//! `Err(RecvError)`). No message is ever sent.
//!
//! # Registrations
//!
//! A crossbeam `Receiver` tells no one when it is dropped, so a registration
//! cannot follow the receivers it serves. Instead, all receivers of one stop
//! state are clones of **one** channel, with **one** registration, kept in a
//! process-wide table keyed by the state:
//!
//! - calling `stopped_receiver` again for the same state (in a loop, in every
//!   worker) costs a table look-up and a receiver clone, and adds nothing to
//!   the token's callback list, however many receivers come and go;
//! - the entry goes at the stop: its callback drops the sender and removes
//!   the entry (or, if the table is busy at that moment, the next call's
//!   sweep does);
//! - an entry whose state can no longer be stopped (every source dropped
//!   without a stop, and no link or deadline left) is removed by a later
//!   call's sweep, which drops its sender: its receivers then read as
//!   disconnected, as [`StopToken::wait`](crate::StopToken::wait) ends (with
//!   `false`) when no stop can come. Keeping them pending instead would mean
//!   keeping the sender, and so the entry, for as long as some receiver might
//!   live, which nothing can tell: that is the growth this table exists to
//!   avoid. A `recv` arm that must tell a stop from this checks
//!   `token.stop_requested()`.
//! - a token that is disengaged, or can no longer be stopped, at the call gets
//!   `crossbeam_channel::never()`: nothing to register, never ready.
//!
//! So the table holds one entry, and the token's list one node, per stop
//! state that is still stoppable and was asked for a receiver; an entry keeps
//! its state alive (its registration holds a token) until the stop or the
//! sweep. Sweeps run as the table grows (when it has doubled since the last
//! one), so their cost is amortised over the calls.
//!
//! The one way to grow it: states that stay stoppable after their owner is
//! done with them. A `child_of` state made per request, given a receiver and
//! then dropped without a stop, is still stoppable through its link, so its
//! entry (and its link in the parent's list) lives until the parent stops.
//! Stop such a state when its work ends (`request_stop` on its source, a
//! `JThread`'s drop does it), and its entry goes at once.
//!
//! # `std::sync::mpsc`
//!
//! `std`'s channels have no `select`. A worker that blocks in
//! `mpsc::Receiver::recv` is best woken by a stop callback that sends it a
//! message of its own (`StopCallback::new(&token, move || { let _ =
//! tx.send(Job::Stop); })`), one per worker, or by dropping every sender;
//! `recv_timeout` in a loop that checks the token also works, at the cost of
//! the timeout's latency.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use crossbeam_channel::{bounded, never, Receiver};

use crate::{StopCallback, StopToken};

/// A receiver that becomes ready, disconnected, once a stop is requested on
/// `token`, for `crossbeam_channel::select!` (feature `crossbeam-channel`).
///
/// Nothing is ever sent: a `recv` arm on it completes with `Err(RecvError)`
/// at the stop. A stop requested before the call gives a receiver that is
/// disconnected already; a disengaged token, or one that can no longer be
/// stopped, gives `crossbeam_channel::never()`. Receivers of one stop state
/// share one registration, however many are made; if the state becomes
/// impossible to stop later (every source dropped without a stop), a later
/// call of this function may disconnect its receivers (see the [module
/// docs](self) for why).
///
/// # Examples
///
/// A worker that takes jobs until it is stopped:
///
/// ```
/// use crossbeam_channel::{select, unbounded};
/// use stoptoken::channel::stopped_receiver;
/// use stoptoken::JThread;
///
/// let (jobs, queue) = unbounded::<u32>();
/// let worker = JThread::spawn(move |token| {
///     let stopped = stopped_receiver(&token);
///     let mut done = 0;
///     loop {
///         select! {
///             recv(queue) -> job => match job {
///                 Ok(_job) => done += 1,
///                 Err(_) => break, // every sender is gone
///             },
///             recv(stopped) -> _ => break, // the stop
///         }
///     }
///     done
/// });
/// jobs.send(1).unwrap();
/// worker.request_stop();
/// let done = worker.join().unwrap();
/// assert!(done <= 1);
/// ```
pub fn stopped_receiver(token: &StopToken) -> Receiver<()> {
    let Some(shared) = token.shared() else {
        return never();
    };
    if token.stop_requested() {
        return disconnected();
    }
    if !token.stop_possible() {
        return never();
    }
    let key = StateKey(core::ptr::from_ref(shared.state()) as usize);
    if let Some(receiver) = table().lookup(key) {
        return receiver;
    }
    // Registered outside the table's lock: on a token stopped meanwhile the
    // callback runs right here, and it takes that lock (with `try_lock`).
    let (sender, receiver) = bounded(0);
    let callback: Callback = Box::new(move || {
        drop(sender);
        release(key);
    });
    let registration = StopCallback::new(token, callback);
    table().insert(key, token, registration, receiver)
}

/// A receiver whose channel has no sender: ready at once.
fn disconnected() -> Receiver<()> {
    bounded(0).1
}

/// The callback of an entry: drops the channel's sender, removes the entry.
type Callback = Box<dyn FnOnce() + Send>;

/// The address of a stop state: unique among the table's entries, since
/// each entry keeps its state alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct StateKey(usize);

/// The registration of one state, and the receiver its callers get clones of.
struct Entry {
    token: StopToken,
    /// Held for its `Drop`, which deregisters (and so drops the sender).
    _registration: StopCallback<Callback>,
    receiver: Receiver<()>,
}

impl Entry {
    /// Whether the entry has served its purpose: stopped, or no stop can come.
    fn spent(&self) -> bool {
        self.token.stop_requested() || !self.token.stop_possible()
    }
}

/// The process-wide table of registrations.
struct Table {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_state: HashMap<StateKey, Entry>,
    /// The table's size after the last sweep: the next sweep runs at twice it.
    swept_at: usize,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table {
        entries: Mutex::new(Entries::default()),
    })
}

/// Removes the entry of a state whose stop has come (from its callback).
/// Never blocks, so that a stop never waits for the table: with the table
/// busy, a later sweep removes it.
fn release(key: StateKey) {
    let removed = match table().entries.try_lock() {
        Ok(mut entries) => entries.by_state.remove(&key),
        Err(_) => None,
    };
    // The registration dropped here is the one running this callback (its
    // drop returns at once), or, when this callback is one that lost the race
    // in `insert`, the stored one of the same state: it runs on this thread
    // too, before or after us, so its drop does not wait either.
    drop(removed);
}

impl Table {
    /// Nothing inside the lock panics; a poisoned table is still a valid map.
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A clone of the receiver of `key`'s state, if it has an entry; sweeps
    /// first if the table has grown.
    fn lookup(&self, key: StateKey) -> Option<Receiver<()>> {
        let mut entries = self.lock();
        let swept = entries.sweep_if_grown();
        let found = entries
            .by_state
            .get(&key)
            .map(|entry| entry.receiver.clone());
        drop(entries);
        // Dropped after the unlock: a registration whose callback runs on
        // another thread right now makes its drop wait for that callback,
        // which must not wait for us.
        drop(swept);
        found
    }

    /// Stores the entry of `key`'s state and returns `receiver`; if another
    /// thread stored one first, returns a clone of its receiver instead, and
    /// if the stop came meanwhile, stores nothing.
    fn insert(
        &self,
        key: StateKey,
        token: &StopToken,
        registration: StopCallback<Callback>,
        receiver: Receiver<()>,
    ) -> Receiver<()> {
        let mut entries = self.lock();
        if token.stop_requested() {
            // Our callback has run or is about to: `receiver` is (or will
            // be) disconnected. The registration is dropped after the unlock.
            drop(entries);
            drop(registration);
            return receiver;
        }
        if let Some(theirs) = entries.by_state.get(&key) {
            let theirs = theirs.receiver.clone();
            drop(entries);
            drop(registration);
            return theirs;
        }
        entries.by_state.insert(
            key,
            Entry {
                token: token.clone(),
                _registration: registration,
                receiver: receiver.clone(),
            },
        );
        receiver
    }
}

impl Entries {
    /// Removes the spent entries if the table has doubled since the last
    /// sweep (and holds at least 16); returns them, to be dropped after the
    /// unlock.
    fn sweep_if_grown(&mut self) -> Vec<Entry> {
        if self.by_state.len() < self.swept_at.max(8) * 2 {
            return Vec::new();
        }
        let spent: Vec<StateKey> = self
            .by_state
            .iter()
            .filter(|(_, entry)| entry.spent())
            .map(|(key, _)| *key)
            .collect();
        let removed = spent
            .iter()
            .filter_map(|key| self.by_state.remove(key))
            .collect();
        self.swept_at = self.by_state.len();
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StopSource;

    fn key_of(token: &StopToken) -> StateKey {
        StateKey(core::ptr::from_ref(token.shared().unwrap().state()) as usize)
    }

    fn has_entry(token: &StopToken) -> bool {
        table().lock().by_state.contains_key(&key_of(token))
    }

    #[test]
    fn receivers_of_one_state_share_one_registration() {
        let source = StopSource::new();
        let token = source.token();
        let receivers: Vec<_> = (0..1000).map(|_| stopped_receiver(&token)).collect();
        assert_eq!(token.shared().unwrap().state().linked_len(), 1);
        for _ in 0..1000 {
            drop(stopped_receiver(&token)); // dropped at once: still one node
        }
        assert_eq!(token.shared().unwrap().state().linked_len(), 1);
        source.request_stop();
        assert!(receivers.iter().all(|r| r.recv().is_err()));
        assert!(!has_entry(&token), "the stop removes the entry");
        assert_eq!(token.shared().unwrap().state().linked_len(), 0);
    }

    #[test]
    fn abandoned_states_are_swept_as_the_table_grows() {
        let kept: Vec<StopSource> = (0..4).map(|_| StopSource::new()).collect();
        let abandoned = StopSource::new();
        let token = abandoned.token();
        let receiver = stopped_receiver(&token);
        drop(abandoned); // no stop can come any more
        assert!(has_entry(&token));
        // Enough new states to make the table double, whatever else the
        // other tests left in it.
        let mut sources = Vec::new();
        while has_entry(&token) {
            let source = StopSource::new();
            let _ = stopped_receiver(&source.token());
            sources.push(source);
            assert!(sources.len() < 1_000_000, "never swept");
        }
        assert!(receiver.recv().is_err(), "swept: disconnected");
        drop(kept);
    }

    #[test]
    fn a_disengaged_or_abandoned_token_gets_a_receiver_that_is_never_ready() {
        let never = stopped_receiver(&StopToken::default());
        assert!(never.try_recv().unwrap_err().is_empty());
        let abandoned = StopSource::new().token();
        let never = stopped_receiver(&abandoned);
        assert!(never.try_recv().unwrap_err().is_empty());
        assert!(!has_entry(&abandoned));
    }
}

//! The nodes a stop state links, the two intrusive lists that hold them, and
//! the waiter a deregistering thread leaves behind when it must wait for a
//! running callback.
//!
//! Everything here is only touched while the owning [`StopState`]'s lock is
//! held (a `&mut List` is the proof: the list is only reachable through
//! `StopState::with_list`), except [`Waiter::done`], which is an atomic.
//!
//! [`StopState`]: super::StopState

use core::ptr::NonNull;

use super::Deferred;
use crate::sync::{AtomicBool, Ordering, Thread, ThreadKey, UnsafeCell};

/// Where a node is in its life. Guarded by the lock of its state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Status {
    /// Not in any list: never registered, or removed before it ran.
    Idle,
    /// In a list, waiting for the stop request (or the abandonment).
    Linked,
    /// A callback taken off the list by the requester and running right now.
    /// Only [`Kind::Callback`] nodes are ever `Running`.
    Running,
    /// Handled: the state will not touch the node again.
    Done,
}

/// Which event a node is handled for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Event {
    /// The first stop request of the state.
    Stop,
    /// The state can never be stopped any more (no source, link or deadline
    /// left). Only watcher nodes are handled for it.
    Abandon,
}

/// How the requester handles a node it takes off the list.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// User code: marked `Running`, run with the lock released, then `Done`.
    /// The function takes the callback out of the registration behind the
    /// pointer and calls it; it must not touch the registration after the
    /// callback has started (the callback may free it).
    Callback(unsafe fn(NonNull<Node>)),
    /// Crate code that runs no user code: called with the lock held, right
    /// after the node is marked `Done`, and returns what to do once the lock
    /// is released (wake a task, unpark a thread, pass the event on to a
    /// linked state). Its owner's deregistration therefore never waits.
    Quick(unsafe fn(NonNull<Node>, Event) -> Deferred),
}

/// The links and status of a node; copied in and out as a whole under the lock.
#[derive(Clone, Copy)]
struct Links {
    prev: Option<NonNull<Node>>,
    next: Option<NonNull<Node>>,
    status: Status,
}

/// The part of a registration that the state's lists link through.
///
/// A `Node` is always the first field of a `#[repr(C)]` registration, so a
/// pointer to it is a pointer to the registration, and `kind` knows the
/// registration's concrete type.
///
/// Invariant (I1 of the state module): while `status` is `Linked` or
/// `Running`, the node does not move and is not freed (its registration is
/// pinned and its `Drop` deregisters it first).
pub(crate) struct Node {
    links: UnsafeCell<Links>,
    pub(crate) kind: Kind,
    /// Whether the node sits in the watchers list: handled for
    /// [`Event::Abandon`] as well as for [`Event::Stop`]. Only `Quick` nodes.
    pub(crate) watcher: bool,
}

impl Node {
    /// A node for a user callback.
    pub(crate) fn callback(run: unsafe fn(NonNull<Node>)) -> Self {
        Self::with_kind(Kind::Callback(run), false)
    }

    /// A node handled under the lock (see [`Kind::Quick`]); a `watcher` is also
    /// handled when the state is abandoned.
    pub(crate) fn quick(take: unsafe fn(NonNull<Node>, Event) -> Deferred, watcher: bool) -> Self {
        Self::with_kind(Kind::Quick(take), watcher)
    }

    fn with_kind(kind: Kind, watcher: bool) -> Self {
        Node {
            links: UnsafeCell::new(Links {
                prev: None,
                next: None,
                status: Status::Idle,
            }),
            kind,
            watcher,
        }
    }

    /// The node's status. The `&List` proves the lock of the node's state is
    /// held (or that the node was never registered, so nobody else sees it).
    #[inline]
    pub(crate) fn status(&self, _lock: &List) -> Status {
        // SAFETY: the lock (proved by `_lock`) excludes concurrent writers (I2).
        self.links.with(|links| unsafe { (*links).status })
    }

    #[inline]
    fn links(&self) -> Links {
        // SAFETY: only called by `List`'s methods, with the lock held (I2).
        self.links.with(|links| unsafe { *links })
    }

    #[inline]
    fn set_links(&self, links: Links) {
        // SAFETY: only called by `List`'s methods, with the lock held (I2).
        self.links.with_mut(|slot| unsafe { *slot = links })
    }
}

/// One intrusive doubly linked list of nodes.
#[derive(Default)]
struct Head(Option<NonNull<Node>>);

/// The lists and the bookkeeping of a stop request in progress, guarded by the
/// state's lock: a `&mut List` exists only inside `StopState::with_list`.
/// `repr(C)`: the list heads first (see [`StopState`](super::StopState)).
#[repr(C)]
pub(crate) struct List {
    /// User callbacks and task wakers: handled on the stop only.
    callbacks: Head,
    /// Blocked threads and links to other states: handled on the stop and on
    /// the abandonment.
    watchers: Head,
    /// The callback node that the requester runs right now. Set back to
    /// `None` by the owner of that node when it drops the registration on the
    /// requesting thread itself, which tells the requester the node is gone.
    pub(crate) running: Option<NonNull<Node>>,
    /// The thread that handles the state's event, once there is one.
    pub(crate) requester: Option<ThreadKey>,
    /// A thread blocked in `deregister` until `running` returns.
    pub(crate) waiter: Option<NonNull<Waiter>>,
}

impl List {
    pub(crate) const fn new() -> Self {
        List {
            callbacks: Head(None),
            watchers: Head(None),
            running: None,
            requester: None,
            waiter: None,
        }
    }

    fn head(&mut self, watcher: bool) -> &mut Head {
        if watcher {
            &mut self.watchers
        } else {
            &mut self.callbacks
        }
    }

    /// The number of linked nodes (for tests).
    #[cfg(all(test, not(stoptoken_loom)))]
    pub(crate) fn len(&self) -> usize {
        let mut len = 0;
        for head in [&self.callbacks, &self.watchers] {
            let mut cursor = head.0;
            while let Some(node) = cursor {
                len += 1;
                // SAFETY: linked nodes are valid (I1); we hold the lock.
                cursor = unsafe { node.as_ref() }.links().next;
            }
        }
        len
    }

    /// Links `node` at the front of its list and marks it `Linked`.
    ///
    /// # Safety
    /// `node` is valid, `Idle`, registered with this list's state, and stays
    /// valid and in place while linked (I1).
    pub(crate) unsafe fn push_front(&mut self, node: NonNull<Node>) {
        // SAFETY: the caller guarantees `node` is valid.
        let node_ref = unsafe { node.as_ref() };
        debug_assert_eq!(node_ref.links().status, Status::Idle);
        let head = self.head(node_ref.watcher);
        if let Some(old) = head.0 {
            // SAFETY: linked nodes are valid while linked (I1).
            let old = unsafe { old.as_ref() };
            old.set_links(Links {
                prev: Some(node),
                ..old.links()
            });
        }
        node_ref.set_links(Links {
            prev: None,
            next: head.0,
            status: Status::Linked,
        });
        head.0 = Some(node);
    }

    /// Removes a `Linked` node and gives it `status`.
    ///
    /// # Safety
    /// `node` is valid and `Linked` in this list.
    pub(crate) unsafe fn unlink(&mut self, node: NonNull<Node>, status: Status) {
        // SAFETY: the caller guarantees `node` is valid.
        let node_ref = unsafe { node.as_ref() };
        let links = node_ref.links();
        debug_assert_eq!(links.status, Status::Linked);
        match links.prev {
            // SAFETY: `prev` is linked in this list, so valid (I1).
            Some(prev) => unsafe {
                let prev = prev.as_ref();
                prev.set_links(Links {
                    next: links.next,
                    ..prev.links()
                });
            },
            None => self.head(node_ref.watcher).0 = links.next,
        }
        if let Some(next) = links.next {
            // SAFETY: `next` is linked in this list, so valid (I1).
            let next = unsafe { next.as_ref() };
            next.set_links(Links {
                prev: links.prev,
                ..next.links()
            });
        }
        node_ref.set_links(Links {
            prev: None,
            next: None,
            status,
        });
    }

    /// Takes the next node to handle for `event` off its list: watchers
    /// first, then (on a stop) callbacks. A callback node becomes `Running`,
    /// a quick one `Done`.
    pub(crate) fn pop(&mut self, event: Event) -> Option<NonNull<Node>> {
        let node = match (self.watchers.0, event) {
            (Some(node), _) => node,
            (None, Event::Stop) => self.callbacks.0?,
            (None, Event::Abandon) => return None,
        };
        // SAFETY: a list head is valid (I1).
        let status = match unsafe { node.as_ref() }.kind {
            Kind::Callback(_) => Status::Running,
            Kind::Quick(_) => Status::Done,
        };
        // SAFETY: the head is `Linked` in this list.
        unsafe { self.unlink(node, status) };
        Some(node)
    }

    /// Marks the `Running` callback `node` as `Done`.
    pub(crate) fn set_done(&mut self, node: NonNull<Node>) {
        // SAFETY: `node` is `running`, whose owner waits for `Done` before it
        // frees it (a drop on this thread would have cleared `running`).
        let node_ref = unsafe { node.as_ref() };
        debug_assert_eq!(node_ref.links().status, Status::Running);
        node_ref.set_links(Links {
            prev: None,
            next: None,
            status: Status::Done,
        });
    }
}

/// Lives on the stack of a thread that drops a registration whose callback is
/// running on another thread, until the requester says the callback returned.
pub(crate) struct Waiter {
    thread: Thread,
    done: AtomicBool,
}

impl Waiter {
    pub(crate) fn new() -> Self {
        Waiter {
            thread: crate::sync::current(),
            done: AtomicBool::new(false),
        }
    }

    /// Parks until [`Waiter::wake`] has been called on this waiter.
    pub(crate) fn wait(&self) {
        // Acquire: pairs with the Release store in `wake`, so everything the
        // callback did happens-before the deregistering `drop` returns.
        while !self.done.load(Ordering::Acquire) {
            crate::sync::park();
        }
    }

    /// Tells the waiter its callback has returned.
    ///
    /// # Safety
    /// `waiter` points to a `Waiter` that is blocked in (or about to enter)
    /// [`Waiter::wait`] and has not been woken yet. It may be freed as soon as
    /// `done` is set, so it is not touched after that.
    pub(crate) unsafe fn wake(waiter: NonNull<Waiter>) {
        // SAFETY: the waiter stays alive until `done` is set below.
        let thread = unsafe { waiter.as_ref().thread.clone() };
        // SAFETY: as above; after this store the waiter may return and free it.
        // Release: pairs with the Acquire load in `wait`.
        unsafe { waiter.as_ref().done.store(true, Ordering::Release) };
        thread.unpark();
    }
}

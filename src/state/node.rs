//! The intrusive, doubly linked list of callback nodes, and the waiter a
//! deregistering thread leaves behind when it must wait for a running callback.
//!
//! Everything here is only touched while the owning [`StopState`]'s list lock is
//! held, except [`Waiter::done`], which is an atomic.
//!
//! [`StopState`]: super::StopState

use core::ptr::NonNull;

use crate::sync::{AtomicBool, Ordering, Thread, ThreadKey, UnsafeCell};

/// Where a node is in its life. Guarded by the list lock of its state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Status {
    /// Not in any list: never registered, or removed before it ran.
    Idle,
    /// In the list, waiting for a stop request.
    Linked,
    /// Taken off the list by the requesting thread, callback running right now.
    Running,
    /// The callback has returned (or panicked); the state will not touch the node again.
    Done,
}

/// The links and status of a node; copied in and out as a whole under the lock.
#[derive(Clone, Copy)]
pub(crate) struct Links {
    pub(crate) prev: Option<NonNull<Node>>,
    pub(crate) next: Option<NonNull<Node>>,
    pub(crate) status: Status,
}

/// The part of a callback registration that the state's list links through.
///
/// A `Node` is always the first field of a `#[repr(C)]` registration, so a
/// pointer to it is a pointer to the registration, and `run` knows the
/// registration's concrete type.
///
/// Invariant: while `status` is `Linked` or `Running`, the node does not move and
/// is not freed (its registration is pinned and its `Drop` deregisters it first).
pub(crate) struct Node {
    links: UnsafeCell<Links>,
    /// Takes the callback out of the registration behind the pointer and calls it.
    /// It must not touch the registration after the callback has started: the
    /// callback may free it by dropping its own registration.
    pub(crate) run: unsafe fn(NonNull<Node>),
    /// Whether `run` is also called, under the lock, when the state's last
    /// source goes without a stop (the node stays linked). Only for nodes whose
    /// `run` just wakes a parked thread: no user code runs under the lock.
    pub(crate) wake_on_abandon: bool,
}

impl Node {
    pub(crate) fn new(run: unsafe fn(NonNull<Node>)) -> Self {
        Node {
            links: UnsafeCell::new(Links {
                prev: None,
                next: None,
                status: Status::Idle,
            }),
            run,
            wake_on_abandon: false,
        }
    }

    /// A node whose `run` only unparks a thread, and is also called when the
    /// state is abandoned (see [`Node::wake_on_abandon`]).
    pub(crate) fn parker(run: unsafe fn(NonNull<Node>)) -> Self {
        Node {
            wake_on_abandon: true,
            ..Node::new(run)
        }
    }

    /// # Safety
    /// The caller holds the list lock of the state this node is registered with,
    /// or the node was never registered and the caller has it to itself.
    #[inline]
    pub(crate) unsafe fn links(&self) -> Links {
        // SAFETY: the caller's lock (or sole access) excludes concurrent writers.
        self.links.with(|links| unsafe { *links })
    }

    /// # Safety
    /// As for [`Node::links`].
    #[inline]
    pub(crate) unsafe fn set_links(&self, links: Links) {
        // SAFETY: the caller's lock (or sole access) excludes other accesses.
        self.links.with_mut(|slot| unsafe { *slot = links })
    }

    /// # Safety
    /// As for [`Node::links`].
    #[inline]
    pub(crate) unsafe fn set_status(&self, status: Status) {
        // SAFETY: forwarded from the caller.
        let mut links = unsafe { self.links() };
        links.status = status;
        // SAFETY: forwarded from the caller.
        unsafe { self.set_links(links) }
    }
}

/// The list and the bookkeeping of a stop request in progress, guarded by the
/// state's list lock.
pub(crate) struct List {
    head: Option<NonNull<Node>>,
    /// The node whose callback the requester runs right now. Set back to `None`
    /// by the owner of that node when it drops the registration on the
    /// requesting thread itself, which tells the requester the node is gone.
    pub(crate) running: Option<NonNull<Node>>,
    /// The thread inside `request_stop`, once there is one.
    pub(crate) requester: Option<ThreadKey>,
    /// A thread blocked in `deregister` until `running` returns.
    pub(crate) waiter: Option<NonNull<Waiter>>,
}

impl List {
    pub(crate) const fn new() -> Self {
        List {
            head: None,
            running: None,
            requester: None,
            waiter: None,
        }
    }

    /// The number of linked nodes (for tests).
    #[cfg(all(test, not(stoptoken_loom)))]
    pub(crate) fn len(&self) -> usize {
        let mut len = 0;
        let mut cursor = self.head;
        while let Some(node) = cursor {
            len += 1;
            // SAFETY: linked nodes are valid; the caller holds the lock.
            cursor = unsafe { node.as_ref().links().next };
        }
        len
    }

    /// Links `node` at the front and marks it `Linked`.
    ///
    /// # Safety
    /// The list lock is held; `node` is valid, `Idle`, and stays valid while linked.
    pub(crate) unsafe fn push_front(&mut self, node: NonNull<Node>) {
        let next = self.head;
        if let Some(old) = next {
            // SAFETY: linked nodes are valid while linked; we hold the lock.
            unsafe {
                let mut links = old.as_ref().links();
                links.prev = Some(node);
                old.as_ref().set_links(links);
            }
        }
        // SAFETY: the caller guarantees `node` is valid; we hold the lock.
        unsafe {
            node.as_ref().set_links(Links {
                prev: None,
                next,
                status: Status::Linked,
            })
        };
        self.head = Some(node);
    }

    /// Removes a `Linked` node and gives it `status`.
    ///
    /// # Safety
    /// The list lock is held and `node` is `Linked` in this list.
    pub(crate) unsafe fn unlink(&mut self, node: NonNull<Node>, status: Status) {
        // SAFETY: linked nodes are valid while linked; we hold the lock.
        let links = unsafe { node.as_ref().links() };
        match links.prev {
            // SAFETY: `prev` is linked in this list, so valid.
            Some(prev) => unsafe {
                let mut prev_links = prev.as_ref().links();
                prev_links.next = links.next;
                prev.as_ref().set_links(prev_links);
            },
            None => self.head = links.next,
        }
        if let Some(next) = links.next {
            // SAFETY: `next` is linked in this list, so valid.
            unsafe {
                let mut next_links = next.as_ref().links();
                next_links.prev = links.prev;
                next.as_ref().set_links(next_links);
            }
        }
        // SAFETY: `node` is valid (see above); we hold the lock.
        unsafe {
            node.as_ref().set_links(Links {
                prev: None,
                next: None,
                status,
            })
        };
    }

    /// Calls `run` of every linked node that wakes on abandonment.
    ///
    /// # Safety
    /// The list lock is held.
    pub(crate) unsafe fn wake_abandoned(&mut self) {
        let mut cursor = self.head;
        while let Some(node) = cursor {
            // SAFETY: linked nodes are valid while linked; we hold the lock, so
            // their owners cannot unlink and free them meanwhile.
            let node_ref = unsafe { node.as_ref() };
            if node_ref.wake_on_abandon {
                // SAFETY: such a node's `run` only unparks a thread and leaves
                // the node valid and linked.
                unsafe { (node_ref.run)(node) };
            }
            // SAFETY: as above.
            cursor = unsafe { node_ref.links().next };
        }
    }

    /// Takes the first node off the list and marks it `Running`.
    ///
    /// # Safety
    /// The list lock is held.
    pub(crate) unsafe fn pop_running(&mut self) -> Option<NonNull<Node>> {
        let node = self.head?;
        // SAFETY: the head is linked in this list; the caller holds the lock.
        unsafe { self.unlink(node, Status::Running) };
        Some(node)
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

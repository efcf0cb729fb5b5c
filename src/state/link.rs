//! A link: the node a child state keeps in a parent's watchers list, which
//! passes the parent's stop (or abandonment) on to the child.
//!
//! The node lives in the child's allocation (inline for one parent, in one
//! block for many) and holds one handle of its parent, so the parent's list
//! outlives it. It holds no handle of the child: the child's teardown removes
//! it first. It is a quick node (invariant 5): handled under the parent's
//! lock, it only takes a handle of the child, if the child still has one, and
//! leaves the rest (the child's claim, or its lost stopper) to the requester
//! with the lock released.

use core::ptr::NonNull;

use super::node::{Event, Node};
use super::shared::{Shared, SharedRef};
use super::{Deferred, Registered};

#[repr(C)]
pub(super) struct LinkNode {
    // First field: a pointer to the node is a pointer to the link.
    node: Node,
    /// The state whose list the node is linked into; one handle, owned, given
    /// up by the child's teardown (after the node was deregistered).
    parent: NonNull<Shared>,
    /// The child: the state that holds this node.
    child: NonNull<Shared>,
}

// SAFETY: the pointers name `Shared` states, which are `Sync`; the parent's is
// a handle (as `SharedRef`, which is `Send + Sync`), the child's is only used
// under the parent's lock while the node is linked (see `take`).
unsafe impl Send for LinkNode {}
// SAFETY: as for `Send`.
unsafe impl Sync for LinkNode {}

impl LinkNode {
    /// A link from `parent` to the state at `child`, not yet registered.
    pub(super) fn new(parent: SharedRef, child: NonNull<Shared>) -> Self {
        LinkNode {
            node: Node::quick(Self::take, true),
            parent: parent.into_raw(),
            child,
        }
    }

    pub(super) fn parent(&self) -> &Shared {
        // SAFETY: the link owns a handle of its parent.
        unsafe { self.parent.as_ref() }
    }

    /// The parent, whose handle the child's teardown gives up.
    pub(super) fn parent_ptr(&self) -> NonNull<Shared> {
        self.parent
    }

    fn node(&self) -> NonNull<Node> {
        NonNull::from(self).cast::<Node>()
    }

    /// Links the node into the parent's watchers list. Called once, by the
    /// child's constructor, on a link that stays where it is until the child's
    /// teardown deregisters it.
    pub(super) fn register(&self) -> Registered {
        // SAFETY: the node is valid and `Idle`, and does not move: it lives in
        // the child's heap allocation, which outlives the registration (the
        // teardown deregisters it before freeing; invariant 1).
        unsafe { self.parent().state().register(self.node()) }
    }

    /// Takes the node off the parent's list for good (never a wait: a quick
    /// node is never `Running`).
    pub(super) fn deregister(&self) {
        // SAFETY: registered (or attempted) on this parent by `register`, once;
        // this is the one deregistration, by the child's teardown.
        unsafe { self.parent().state().deregister(self.node()) }
    }

    /// The node's handler, under the parent's lock.
    ///
    /// # Safety
    /// `node` is the node of a live `LinkNode`, just marked `Done` under the
    /// parent's lock (invariant 5).
    unsafe fn take(node: NonNull<Node>, _event: Event) -> Deferred {
        // SAFETY: the node is the first field of a `#[repr(C)]` `LinkNode`.
        let link = unsafe { node.cast::<LinkNode>().as_ref() };
        // SAFETY: the child's memory is alive: its teardown deregisters this
        // node, which needs the parent's lock that our caller holds.
        match unsafe { Shared::upgrade(link.child) } {
            Some(child) => Deferred::Link(child),
            None => Deferred::Nothing, // the child is being torn down
        }
    }
}

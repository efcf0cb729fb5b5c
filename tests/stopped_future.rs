//! The `stopped()` future against a stop that is waking it on another thread.

use std::future::Future;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::thread;
use std::time::Duration;

use stoptoken::StopSource;

/// A waker whose `wake()` says it started, then blocks until released (or 30 s).
struct BlockingWake {
    entered: Mutex<Sender<()>>,
    release: Mutex<Receiver<()>>,
}

impl Wake for BlockingWake {
    fn wake(self: Arc<Self>) {
        let _ = self.entered.lock().unwrap().send(());
        let _ = self
            .release
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(30));
    }
}

/// An executor may drop a task while holding a lock that its waker needs: the
/// drop must not wait for a `wake()` that runs elsewhere (tokio-util's
/// `cancelled()` does not either).
#[test]
fn dropping_a_stopped_future_does_not_wait_for_a_wake_running_elsewhere() {
    let (entered_tx, entered) = channel();
    let (release, release_rx) = channel();
    let waker = Waker::from(Arc::new(BlockingWake {
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    }));
    let source = StopSource::new();
    let mut future = Box::pin(source.token().into_stopped());
    assert!(future
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    let requester = thread::spawn(move || source.request_stop());
    entered
        .recv_timeout(Duration::from_secs(10))
        .expect("the stop never woke the task");
    // `wake()` is running on the requester now, and blocks.
    let (dropped_tx, dropped) = channel();
    let dropper = thread::spawn(move || {
        drop(future);
        dropped_tx.send(()).unwrap();
    });
    let outcome = dropped.recv_timeout(Duration::from_secs(5));
    release.send(()).unwrap();
    assert!(outcome.is_ok(), "dropping the future waited for wake()");
    dropper.join().unwrap();
    assert!(requester.join().unwrap());
}

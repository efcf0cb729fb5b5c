//! A tour of `stoptoken::task`, the C++ Capy coroutine model in Rust.
//!
//! It shows three things, each printing what happens:
//!
//! 1. a long operation that checks its *current* token between chunks of work
//!    (it never receives the token as an argument) and is stopped midway;
//! 2. a parent that stops a whole tree of children (a `when_all` nested in a
//!    `when_all`) with one `request_stop`;
//! 3. a `when_all` in which one child fails: its siblings are asked to stop,
//!    all are awaited, and the failure comes out.
//!
//! Run it with `cargo run --example capy_tour`. It prints:
//!
//! ```text
//! 1. a long operation checks its token in chunks
//!    chunk 1 done
//!    chunk 2 done
//!    chunk 3 done
//!    checksum stopped after 3 chunks
//!    outcome: Err(Stopped)
//! 2. a parent stops a tree of children
//!    a waiting
//!    b1 waiting
//!    b2 waiting
//!    a stopped: Err(Stopped)
//!    b1 stopped: Err(Stopped)
//!    b2 stopped: Err(Stopped)
//!    the tree returned Err(Stopped)
//! 3. when_all with one failing child
//!    download c failed
//!    download a stopped by a sibling's failure
//!    download b stopped by a sibling's failure
//!    when_all returned Err("c: connection reset")
//! ```

use std::time::Duration;

use stoptoken::task::{current_token, until_stopped, when_all, with_stop_token};
use stoptoken::{StopSource, Stopped};
use tokio::sync::{mpsc, Barrier};

/// A long computation in chunks. Whoever runs it decides when it stops, through
/// `with_stop_token`; it only looks at its current token.
async fn checksum(progress: mpsc::UnboundedSender<u32>) -> Result<u64, Stopped> {
    let token = current_token();
    let mut sum = 0u64;
    for chunk in 1..=1_000u32 {
        if token.stop_requested() {
            println!("   checksum stopped after {} chunks", chunk - 1);
            return Err(Stopped);
        }
        sum = sum.wrapping_mul(31).wrapping_add(u64::from(chunk)); // one chunk of work
        println!("   chunk {chunk} done");
        let _ = progress.send(chunk);
        tokio::task::yield_now().await; // let others run between chunks
    }
    Ok(sum)
}

/// Waits "forever" (an hour) unless stopped; the stop reaches it from any
/// ancestor.
async fn worker(name: &'static str, ready: &Barrier) -> Result<(), Stopped> {
    println!("   {name} waiting");
    ready.wait().await;
    let outcome = until_stopped(tokio::time::sleep(Duration::from_secs(3600))).await;
    println!("   {name} stopped: {outcome:?}");
    outcome
}

/// A download that takes "long", unless its siblings fail.
async fn download(name: &'static str, fails: bool) -> Result<Vec<u8>, String> {
    tokio::task::yield_now().await;
    if fails {
        println!("   download {name} failed");
        return Err(format!("{name}: connection reset"));
    }
    match until_stopped(tokio::time::sleep(Duration::from_secs(3600))).await {
        Ok(()) => Ok(vec![0; 16]),
        Err(Stopped) => {
            println!("   download {name} stopped by a sibling's failure");
            Err(format!("{name}: stopped"))
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");

    runtime.block_on(async {
        println!("1. a long operation checks its token in chunks");
        let source = StopSource::new();
        let (progress, mut seen) = mpsc::unbounded_channel();
        let operation = tokio::spawn(with_stop_token(source.token(), checksum(progress)));
        while let Some(chunk) = seen.recv().await {
            if chunk == 3 {
                source.request_stop(); // seen at the next chunk boundary
                break;
            }
        }
        println!("   outcome: {:?}", operation.await.expect("the task ran"));

        println!("2. a parent stops a tree of children");
        let parent = StopSource::new();
        let ready = Barrier::new(4); // three workers and the stopper
        let stopper = async {
            ready.wait().await; // every worker is waiting now
            parent.request_stop();
            Ok(())
        };
        let tree = when_all((
            worker("a", &ready),
            when_all((worker("b1", &ready), worker("b2", &ready))),
            stopper,
        ));
        let outcome = with_stop_token(parent.token(), tree).await;
        println!("   the tree returned {outcome:?}");

        println!("3. when_all with one failing child");
        let outcome = when_all((
            download("a", false),
            download("b", false),
            download("c", true),
        ))
        .await;
        println!("   when_all returned {outcome:?}");
    });
}

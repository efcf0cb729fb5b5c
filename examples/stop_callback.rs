//! The C++ stop_callback example: callbacks run synchronously, on the thread
//! that requests the stop, inside `request_stop`; a callback registered after the
//! stop runs at once on the registering thread. Prints each callback with the
//! name of the thread that ran it.
//!
//! Run: `cargo run --example stop_callback`

use stoptoken::{StopCallback, StopSource};

fn here() -> String {
    std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_owned()
}

fn main() {
    let source = StopSource::new();
    let token = source.token();
    let _a = StopCallback::new(&token, || {
        println!("callback A runs on thread '{}'", here())
    });
    let _b = StopCallback::new(&token, || {
        println!("callback B runs on thread '{}'", here())
    });

    let requester = std::thread::Builder::new()
        .name("requester".into())
        .spawn(move || {
            println!("'{}' calls request_stop", here());
            let first = source.request_stop();
            println!("request_stop returned {first}: both callbacks already ran");
        })
        .unwrap();
    requester.join().unwrap();

    let _late = StopCallback::new(&token, || {
        println!("late callback runs at once, on thread '{}'", here())
    });
}

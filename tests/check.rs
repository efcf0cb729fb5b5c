//! `check()` on every token type and through the trait, and a stop as an
//! `io::Error` (no feature needed).

use std::io;

use stoptoken::{
    InplaceStopSource, NeverStopToken, StopSource, StopToken, StoppableToken, Stopped,
};

#[test]
fn check_is_ok_before_the_stop_and_stopped_after_on_every_token_type() {
    let shared = StopSource::new();
    let inplace = InplaceStopSource::new();
    assert_eq!(shared.token().check(), Ok(()));
    assert_eq!(inplace.token().check(), Ok(()));
    shared.request_stop();
    inplace.request_stop();
    assert_eq!(shared.token().check(), Err(Stopped));
    assert_eq!(inplace.token().check(), Err(Stopped));
    assert_eq!(NeverStopToken.check(), Ok(()));
    assert_eq!(StopToken::default().check(), Ok(()));
}

fn checked_through_the_trait(token: &impl StoppableToken) -> Result<(), Stopped> {
    token.check()
}

#[test]
fn the_traits_check_agrees_with_the_inherent_ones() {
    let shared = StopSource::new();
    let inplace = InplaceStopSource::new();
    assert_eq!(checked_through_the_trait(&shared.token()), Ok(()));
    assert_eq!(checked_through_the_trait(&inplace.token()), Ok(()));
    shared.request_stop();
    inplace.request_stop();
    assert_eq!(checked_through_the_trait(&shared.token()), Err(Stopped));
    assert_eq!(checked_through_the_trait(&inplace.token()), Err(Stopped));
    assert_eq!(checked_through_the_trait(&NeverStopToken), Ok(()));
}

#[test]
fn never_stop_tokens_check_is_const() {
    const CHECKED: Result<(), Stopped> = NeverStopToken::new().check();
    assert_eq!(CHECKED, Ok(()));
}

#[test]
fn a_stop_becomes_an_io_error_of_kind_other_that_is_stopped() {
    let error = io::Error::from(Stopped);
    assert_eq!(error.kind(), io::ErrorKind::Other);
    assert!(stoptoken::io::is_stopped(&error));
    assert!(error.get_ref().unwrap().is::<Stopped>());
    assert_ne!(
        error.kind(),
        io::ErrorKind::Interrupted,
        "std would retry it for ever"
    );
}

#[test]
fn read_exact_and_io_copy_pass_a_stop_up_instead_of_retrying() {
    // A reader that stops after a first chunk, as a token-checking reader would.
    struct StopsAfterOne(bool);
    impl io::Read for StopsAfterOne {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                return Err(Stopped.into());
            }
            buf[0] = 1;
            Ok(1)
        }
    }
    let error = io::Read::read_exact(&mut StopsAfterOne(false), &mut [0; 4]).unwrap_err();
    assert!(stoptoken::io::is_stopped(&error));
    let error = io::copy(&mut StopsAfterOne(false), &mut io::sink()).unwrap_err();
    assert!(stoptoken::io::is_stopped(&error));
}

#[test]
fn a_cpu_loop_checks_its_token_with_question_mark() {
    fn count_primes(limit: u64, token: &StopToken) -> Result<u64, Stopped> {
        let mut count = 0;
        for n in 2..limit {
            if n % 1024 == 0 {
                token.check()?;
            }
            if (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0) {
                count += 1;
            }
        }
        Ok(count)
    }
    let source = StopSource::new();
    assert_eq!(count_primes(100, &source.token()), Ok(25));
    source.request_stop();
    assert_eq!(count_primes(1 << 40, &source.token()), Err(Stopped));
}

//! The `grpc-timeout` header: a request's time budget in the gRPC wire format.
//!
//! The format (gRPC over HTTP/2, "Requests"): `TimeoutValue TimeoutUnit`, where
//! the value is 1 to 8 ASCII digits and the unit one of `H` (hours), `M`
//! (minutes), `S` (seconds), `m` (milliseconds), `u` (microseconds) and `n`
//! (nanoseconds). Nothing else is allowed: no sign, no space, no ninth digit.
//!
//! [`parse`] turns a valid value into a [`Duration`] and anything else into
//! `None`: a malformed header is ignored, never an error, because the budget is
//! advice from the client and a server that fails the request over it would be
//! less useful than one that serves it without a budget.
//!
//! [`format`] writes a duration in the finest unit whose value fits in 8
//! digits, rounded up (as grpc-go does): below 0.1 s it is exact, in
//! nanoseconds; below 100 s microseconds, below about 27.7 hours milliseconds;
//! so the header is never less than the time left and at most one unit more.
//! Beyond 27.7 hours the unit is seconds, minutes or hours (rounded up the
//! same way), and beyond 99 999 999 hours the value is capped there.

use core::time::Duration;

use http::HeaderName;

/// The header's name (a static: a `HeaderName` holds `Bytes`, which clippy
/// rightly refuses as a `const`).
pub(crate) static HEADER: HeaderName = HeaderName::from_static("grpc-timeout");

/// The largest value the format allows: 8 digits.
const MAX_VALUE: u64 = 99_999_999;

/// The units from the finest to the coarsest, with their length in nanoseconds.
const UNITS: [(u8, u128); 6] = [
    (b'n', 1),
    (b'u', 1_000),
    (b'm', 1_000_000),
    (b'S', 1_000_000_000),
    (b'M', 60 * 1_000_000_000),
    (b'H', 3_600 * 1_000_000_000),
];

/// The budget in a `grpc-timeout` value, or `None` if the value is not 1 to 8
/// ASCII digits followed by one of the units `H M S m u n`.
pub(crate) fn parse(value: &[u8]) -> Option<Duration> {
    let (&unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let count = digits
        .iter()
        .fold(0u64, |count, &digit| count * 10 + u64::from(digit - b'0'));
    Some(match unit {
        b'H' => Duration::from_secs(count * 3_600),
        b'M' => Duration::from_secs(count * 60),
        b'S' => Duration::from_secs(count),
        b'm' => Duration::from_millis(count),
        b'u' => Duration::from_micros(count),
        b'n' => Duration::from_nanos(count),
        _ => return None,
    })
}

/// A `grpc-timeout` value: at most 8 digits and a unit.
///
/// Invariant: `bytes[..len]` is a valid header value (ASCII digits and a unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Formatted {
    bytes: [u8; 9],
    len: usize,
}

impl Formatted {
    /// The value's bytes, for `HeaderValue::from_bytes`.
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// `budget` as a `grpc-timeout` value: the finest unit whose count fits in 8
/// digits, the count rounded up (so the value is never less than `budget`).
pub(crate) fn format(budget: Duration) -> Formatted {
    let nanos = budget.as_nanos();
    let (unit, count) = UNITS
        .iter()
        .map(|&(unit, length)| (unit, nanos.div_ceil(length)))
        .find(|&(_, count)| count <= u128::from(MAX_VALUE))
        .unwrap_or((b'H', u128::from(MAX_VALUE)));
    let mut bytes = [0u8; 9];
    let mut digits = [0u8; 8];
    let mut len = 0;
    let mut rest = count;
    loop {
        // `count <= MAX_VALUE`, so at most 8 digits are written.
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for (to, &digit) in bytes.iter_mut().zip(digits[..len].iter().rev()) {
        *to = digit;
    }
    bytes[len] = unit;
    Formatted {
        bytes,
        len: len + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(budget: Duration) -> String {
        String::from_utf8(format(budget).as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn every_unit_parses() {
        assert_eq!(parse(b"2H"), Some(Duration::from_secs(7_200)));
        assert_eq!(parse(b"3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse(b"4S"), Some(Duration::from_secs(4)));
        assert_eq!(parse(b"50m"), Some(Duration::from_millis(50)));
        assert_eq!(parse(b"6u"), Some(Duration::from_micros(6)));
        assert_eq!(parse(b"7n"), Some(Duration::from_nanos(7)));
    }

    #[test]
    fn zero_and_leading_zeros_and_eight_digits_parse() {
        assert_eq!(parse(b"0n"), Some(Duration::ZERO));
        assert_eq!(parse(b"00000050m"), Some(Duration::from_millis(50)));
        assert_eq!(
            parse(b"99999999H"),
            Some(Duration::from_secs(MAX_VALUE * 3_600))
        );
    }

    #[test]
    fn malformed_values_are_none() {
        let malformed: &[&[u8]] = &[
            b"",           // empty
            b"m",          // no digits
            b"5",          // no unit
            b"50",         // no unit (the last digit is not one)
            b"123456789m", // 9 digits
            b"000000001S", // 9 digits, even with leading zeros
            b"5x",         // unknown unit
            b"5s",         // units are case-sensitive: `s` is not `S`
            b"5h",
            b"5ms", // two units
            b"-5m", // a sign
            b"+5m",
            b" 5m", // spaces
            b"5m ",
            b"5 m",
            b"5.0S", // a fraction
            b"1e3m",
            b"\xff5m",        // not ASCII
            "５m".as_bytes(), // a non-ASCII digit
        ];
        for value in malformed {
            assert_eq!(parse(value), None, "{:?}", String::from_utf8_lossy(value));
        }
    }

    #[test]
    fn format_picks_the_finest_unit_that_fits_in_eight_digits() {
        assert_eq!(text(Duration::ZERO), "0n");
        assert_eq!(text(Duration::from_nanos(99_999_999)), "99999999n");
        assert_eq!(text(Duration::from_nanos(100_000_000)), "100000u");
        assert_eq!(text(Duration::from_millis(50)), "50000000n");
        assert_eq!(text(Duration::from_secs(99)), "99000000u");
        assert_eq!(text(Duration::from_secs(100)), "100000m");
        assert_eq!(text(Duration::from_secs(30 * 3_600)), "108000S");
        assert_eq!(text(Duration::MAX), "99999999H");
    }

    #[test]
    fn format_rounds_up() {
        assert_eq!(text(Duration::from_nanos(100_000_001)), "100001u");
        assert_eq!(text(Duration::new(100, 1)), "100001m");
        assert_eq!(text(Duration::new(99_999_999, 1)), "1666667M");
    }

    /// Durations spread over every unit's range: up to ~3 years.
    fn budgets() -> impl Strategy<Value = Duration> {
        prop_oneof![
            (0u64..200_000_000).prop_map(Duration::from_nanos),
            (0u64..200_000_000).prop_map(Duration::from_micros),
            (0u64..200_000_000).prop_map(Duration::from_millis),
            (0u64..100_000_000, 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        ]
    }

    proptest! {
        #[test]
        fn formatted_values_parse_back_no_less_and_at_most_one_unit_more(budget in budgets()) {
            let formatted = format(budget);
            let bytes = formatted.as_bytes();
            prop_assert!(bytes.len() >= 2 && bytes.len() <= 9);
            let back = parse(bytes).expect("format writes valid values");
            prop_assert!(back >= budget, "{:?} -> {:?}", budget, back);
            let unit = UNITS.iter().find(|u| u.0 == bytes[bytes.len() - 1]).unwrap().1;
            prop_assert!(back.as_nanos() - budget.as_nanos() < unit);
            // Milliseconds or finer below 99 999 999 ms.
            if budget < Duration::from_millis(MAX_VALUE) {
                prop_assert!(matches!(bytes[bytes.len() - 1], b'n' | b'u' | b'm'));
            }
        }

        #[test]
        fn a_parsed_value_formats_to_no_more_than_itself(digits in 0u64..=MAX_VALUE, unit in 0usize..6) {
            let value = std::format!("{digits}{}", UNITS[unit].0 as char);
            let budget = parse(value.as_bytes()).unwrap();
            let again = parse(format(budget).as_bytes()).unwrap();
            prop_assert_eq!(again, budget); // exact: the value is whole units already
        }

        #[test]
        fn arbitrary_bytes_never_panic(value in proptest::collection::vec(any::<u8>(), 0..12)) {
            let parsed = parse(&value);
            if parsed.is_some() {
                prop_assert!(value.len() >= 2 && value.len() <= 9);
            }
        }
    }
}

//! The one seal of the crate's public traits that users name in bounds but
//! cannot implement ([`CallbackToken`](crate::CallbackToken),
//! [`WhenAll`](crate::task::WhenAll), [`WhenAny`](crate::task::WhenAny)).
//!
//! `Sealed` is public in this private module: nameable inside the crate,
//! unnameable outside, so no other crate can implement a trait that requires
//! it. Implementing `Sealed` itself broadly (every tuple) is harmless: each
//! sealed trait still decides, by its own impls, what it covers.

/// The supertrait that seals a public trait.
pub trait Sealed {}

impl<T: Sealed + ?Sized> Sealed for &T {}

macro_rules! sealed_tuples {
    ($($T:ident),+) => {
        impl<$($T),+> Sealed for ($($T,)+) {}
    };
}

sealed_tuples!(A, B);
sealed_tuples!(A, B, C);
sealed_tuples!(A, B, C, D);
sealed_tuples!(A, B, C, D, E);
sealed_tuples!(A, B, C, D, E, F);
sealed_tuples!(A, B, C, D, E, F, G);
sealed_tuples!(A, B, C, D, E, F, G, H);

impl Sealed for crate::StopToken {}
impl Sealed for crate::InplaceStopToken<'_> {}
impl Sealed for crate::state::SharedRef {}

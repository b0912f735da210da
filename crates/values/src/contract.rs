//! Closed enumerations a domain decides over, each with its twin in a
//! service's contract (a prost enum), converted in one place:
//! [`contract_enum!`] declares the domain enum and both conversions. A
//! domain value always has a contract name; a contract value other than
//! `UNSPECIFIED` (or one this build does not know) is a domain value.

/// A contract value with no domain meaning: `UNSPECIFIED`, or a number this
/// build does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a value the domain knows")]
pub struct Unspecified(pub i32);

/// A domain enum with its contract twin: `From` one way, `TryFrom` back.
#[macro_export]
macro_rules! contract_enum {
    ($(#[$meta:meta])* $domain:ident => $proto:ty { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $domain {
            $($(#[$vmeta])* $variant),+
        }

        impl $domain {
            /// Every value, in the contract's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Its name in the contract (`CHECKLIST_ITEM_OS_UP_TO_DATE`).
            pub fn contract_name(self) -> &'static str {
                <$proto>::from(self).as_str_name()
            }
        }

        impl From<$domain> for $proto {
            fn from(value: $domain) -> Self {
                match value {
                    $($domain::$variant => Self::$variant),+
                }
            }
        }

        impl From<$domain> for i32 {
            fn from(value: $domain) -> Self {
                <$proto>::from(value).into()
            }
        }

        impl TryFrom<$proto> for $domain {
            type Error = $crate::Unspecified;

            fn try_from(value: $proto) -> Result<Self, $crate::Unspecified> {
                match value {
                    $(<$proto>::$variant => Ok(Self::$variant),)+
                    // UNSPECIFIED, which every twin has.
                    other => Err($crate::Unspecified(other.into())),
                }
            }
        }

        impl TryFrom<i32> for $domain {
            type Error = $crate::Unspecified;

            fn try_from(value: i32) -> Result<Self, $crate::Unspecified> {
                <$proto>::try_from(value)
                    .map_err(|_| $crate::Unspecified(value))
                    .and_then(Self::try_from)
            }
        }
    };
}

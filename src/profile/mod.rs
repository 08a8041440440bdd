//! Profiles: the schema, loading (bundled and user files), validation, and what each
//! grant lets an app reach.

// Profile errors carry file, position, key, message and hint for the user; they are
// returned once per file, never in a hot path, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod bus_names;
pub mod error;
pub mod load;
pub mod ops;
pub mod overrides;
pub mod risk;
pub mod schema;
pub mod validate;

pub use error::ProfileError;
pub use load::{Entry, ProfileSet, Source};
pub use schema::{Access, Audio, Bind, Display, Limits, Network, Profile, RawProfile, Share};

/// The profiles compiled into the binary.
pub mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

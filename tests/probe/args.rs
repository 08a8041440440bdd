//! A check's arguments: wrong ones are usage errors (exit 2), never failed checks.

use std::str::FromStr;

/// Why a check's arguments cannot be used, in a sentence about them.
pub struct Usage(pub String);

/// Exactly `N` arguments.
pub fn exact<const N: usize>(args: &[String]) -> Result<&[String; N], Usage> {
    <&[String; N]>::try_from(args)
        .map_err(|_| Usage(format!("takes {N} argument(s), got {}", args.len())))
}

/// One argument or more.
pub fn at_least_one(args: &[String]) -> Result<&[String], Usage> {
    if args.is_empty() {
        Err(Usage("takes one argument or more, got none".to_string()))
    } else {
        Ok(args)
    }
}

/// A number, named `what` in the error.
pub fn number<T: FromStr>(what: &str, text: &str) -> Result<T, Usage> {
    text.parse()
        .map_err(|_| Usage(format!("{what} {text:?} is not a number")))
}

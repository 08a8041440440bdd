//! Instance troubles the TUI says in its banner instead of hiding them: state files that
//! cannot be read (the instance is left out of the list until its supervisor writes the
//! file again) and logs that cannot hold a running app's output (an ended instance's
//! trouble is shown under the list when it is selected).

use crate::instance::status::Status;

/// The banner's text for the first trouble, and how many more there are; `None` when
/// there is none.
pub fn banner_text(unreadable: &[String], instances: &[Status]) -> Option<String> {
    let live = instances.iter().filter(|status| status.state.is_live());
    let logs = live.filter_map(|status| {
        let problem = status.log_problem.as_ref()?;
        Some(format!("{} ({}): {problem}", status.profile, status.id))
    });
    let mut all = unreadable.iter().cloned().chain(logs);
    let first = all.next()?;
    Some(match all.count() {
        0 => first,
        more => format!("{first} (and {more} more: see `boxtop ps --all`)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_trouble_no_text() {
        assert_eq!(banner_text(&[], &[]), None);
        assert_eq!(
            banner_text(&["a".into(), "b".into()], &[]).as_deref(),
            Some("a (and 1 more: see `boxtop ps --all`)")
        );
    }
}

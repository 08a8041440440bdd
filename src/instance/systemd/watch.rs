//! Watching a scope for the user manager stopping it (`systemctl --user stop`,
//! systemd-oomd, a failed unit), so that boxtop records why its instance ended.

use std::time::Duration;

use zbus::zvariant::{OwnedObjectPath, OwnedValue};

use super::{Manager, ManagerError, DESTINATION};

/// Watches a scope for the manager stopping it (`systemctl --user stop`, systemd-oomd,
/// a failed unit), from a thread of its own: start it once the process forks no more.
pub struct StopWatch {
    manager: std::sync::Arc<Manager>,
    unit: String,
    seen: std::sync::Arc<std::sync::Mutex<Seen>>,
}

#[derive(Debug, Default)]
struct Seen {
    stopping: Option<String>,
    result: Option<String>,
}

impl StopWatch {
    pub fn start(unit: &str) -> Result<StopWatch, ManagerError> {
        use zbus::message::Type;
        let manager = Manager::connect()?;
        manager.subscribe()?;
        let path = manager.unit_path(unit)?;
        let failed = |err: zbus::Error| ManagerError::Call {
            what: "watching",
            unit: unit.to_string(),
            reason: err.to_string(),
        };
        // Every signal of the manager: a stop is seen by its job (`JobNew` for the
        // unit: boxtop's own kill and freeze make none), an OOM kill by the scope's
        // `Result`. A state change alone does not tell: the manager sends the unit's
        // properties as they are when it gets to it, often already inactive.
        let rule = zbus::MatchRule::builder()
            .msg_type(Type::Signal)
            .sender(DESTINATION)
            .map_err(failed)?
            .build();
        let messages = zbus::blocking::MessageIterator::for_match_rule(
            rule.to_owned(),
            manager.connection(),
            None,
        )
        .map_err(failed)?;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Seen::default()));
        let in_thread = std::sync::Arc::clone(&seen);
        let own_unit = unit.to_string();
        std::thread::Builder::new()
            .name("scope-watch".into())
            .spawn(move || {
                type Changed = (
                    String,
                    std::collections::HashMap<String, OwnedValue>,
                    Vec<String>,
                );
                for message in messages.flatten() {
                    let header = message.header();
                    let member = header.member().map(|m| m.as_str().to_string());
                    let on_unit = header.path().is_some_and(|p| p.as_str() == path.as_str());
                    let mut seen = in_thread.lock().unwrap_or_else(|p| p.into_inner());
                    match member.as_deref() {
                        Some("JobNew") => {
                            let Ok((id, _, job_unit)) =
                                message
                                    .body()
                                    .deserialize::<(u32, OwnedObjectPath, String)>()
                            else {
                                continue;
                            };
                            if job_unit == own_unit && seen.stopping.is_none() {
                                seen.stopping = Some(format!("job {id}"));
                            }
                        }
                        Some("PropertiesChanged") if on_unit => {
                            let Ok((_, changed, _)) = message.body().deserialize::<Changed>()
                            else {
                                continue;
                            };
                            let text = |name: &str| {
                                changed
                                    .get(name)
                                    .and_then(|v| String::try_from(v.clone()).ok())
                            };
                            if let Some(result) = text("Result").filter(|r| r != "success") {
                                seen.result = Some(result);
                            }
                            if text("ActiveState").as_deref() == Some("failed")
                                && seen.stopping.is_none()
                            {
                                seen.stopping = Some("failed".into());
                            }
                        }
                        _ => {}
                    }
                }
            })
            .map_err(|err| ManagerError::Call {
                what: "watching",
                unit: unit.to_string(),
                reason: err.to_string(),
            })?;
        Ok(StopWatch {
            manager: std::sync::Arc::new(manager),
            unit: unit.to_string(),
            seen,
        })
    }

    /// Why the instance ended, when the manager ended it: `None` when it did not (as far
    /// as the signals and the unit's state say). `by_signal`: the app was killed, which a
    /// stop does; only then is a signal still on its way waited for.
    pub fn verdict(&self, by_signal: bool) -> Option<String> {
        let seen = |watch: &StopWatch| {
            let seen = watch.seen.lock().unwrap_or_else(|p| p.into_inner());
            (seen.stopping.clone(), seen.result.clone())
        };
        let (mut stopping, mut result) = seen(self);
        if stopping.is_none() && result.is_none() && by_signal {
            // The manager's signals may still be on their way to the watching thread.
            std::thread::sleep(Duration::from_millis(50));
            (stopping, result) = seen(self);
        }
        if stopping.is_none() && result.is_none() {
            // The signal may be on its way: the unit, while still loaded, says it too.
            if let Ok(state) = self.manager.state(&self.unit) {
                if state.active == "deactivating" || state.active == "failed" {
                    stopping = Some(format!("{}/{}", state.active, state.sub));
                    if state.result != "success" && !state.result.is_empty() {
                        result = Some(state.result);
                    }
                }
            }
        }
        let stopping = stopping.or_else(|| result.as_ref().map(|_| "failed".to_string()))?;
        Some(match result {
            Some(result) => format!(
                "the systemd user manager stopped its scope {} ({stopping}, result {result})",
                self.unit
            ),
            None => format!(
                "the systemd user manager stopped its scope {} ({stopping})",
                self.unit
            ),
        })
    }
}

//! Asking a sandbox's X11 windows to close, as a window manager's close button does
//! (`WM_DELETE_WINDOW`), so that `boxtop stop` lets the app save or ask about unsaved work
//! before any signal is sent.
//!
//! The windows are found from outside, on the X server the sandbox uses: the sandbox
//! reaches the host's socket of its `$DISPLAY`, so the server knows each client's host
//! pid (X-Resource's `QueryClientIds`), which is matched against the sandbox's processes.
//! `_NET_WM_PID` cannot be used: an app sets it to its pid inside the sandbox's own pid
//! namespace, which names some other process outside.

use std::collections::HashSet;

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::res::{self, ClientIdMask, ClientIdSpec};
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt as _, EventMask, MapState, Window,
};

use super::record::Record;

/// How deep below the root window a top-level window is looked for: a reparenting
/// window manager puts each one in a frame (root, frame, window), some in two.
const DEPTH: u32 = 3;

/// Why the windows could not be asked to close.
#[derive(Debug, thiserror::Error)]
pub enum CloseError {
    #[error("cannot reach the X server {display}: {reason}")]
    Connect { display: String, reason: String },
    #[error(
        "the X server {display} has no X-Resource extension, which says whose windows are whose"
    )]
    NoResourceExtension { display: String },
    #[error("the X server {display} failed a request: {reason}")]
    Request { display: String, reason: String },
}

/// The `$DISPLAY` the sandbox was given, if it may reach an X server.
pub fn display_of(record: &Record) -> Option<&str> {
    record
        .env
        .iter()
        .find(|(name, _)| name == "DISPLAY")
        .map(|(_, value)| value.as_str())
}

/// Sends `WM_DELETE_WINDOW` to each visible top-level window that a process of `pids`
/// (host pids of the sandbox) owns and that takes it, on the X server the sandbox uses.
/// Returns the windows asked; none when the sandbox has no X display. With `unless_changed`
/// (the windows asked before), nothing is sent if the app's windows are not those any
/// more: it answered, say with a dialog about unsaved work, which must not be doubled.
pub fn ask_to_close(
    record: &Record,
    pids: &[i32],
    unless_changed: Option<&[Window]>,
) -> Result<Vec<Window>, CloseError> {
    let Some(display) = display_of(record) else {
        return Ok(Vec::new());
    };
    let request_err = |error: &dyn std::fmt::Display| CloseError::Request {
        display: display.to_string(),
        reason: error.to_string(),
    };
    // The user's own Xauthority ($XAUTHORITY or ~/.Xauthority) holds the display's cookie.
    let (conn, _) = x11rb::connect(Some(display)).map_err(|error| CloseError::Connect {
        display: display.to_string(),
        reason: error.to_string(),
    })?;
    if conn
        .extension_information(res::X11_EXTENSION_NAME)
        .map_err(|e| request_err(&e))?
        .is_none()
    {
        return Err(CloseError::NoResourceExtension {
            display: display.to_string(),
        });
    }
    let atom = |name: &[u8]| -> Result<u32, CloseError> {
        Ok(conn
            .intern_atom(false, name)
            .map_err(|e| request_err(&e))?
            .reply()
            .map_err(|e| request_err(&e))?
            .atom)
    };
    let protocols = atom(b"WM_PROTOCOLS")?;
    let delete = atom(b"WM_DELETE_WINDOW")?;
    let pids: HashSet<u32> = pids.iter().map(|&pid| pid as u32).collect();
    let mut own = Vec::new();
    let roots: Vec<Window> = conn.setup().roots.iter().map(|s| s.root).collect();
    for root in roots {
        let mut windows = Vec::new();
        closable_windows(&conn, root, DEPTH, protocols, delete, &mut windows)
            .map_err(|e| request_err(&e))?;
        for window in windows {
            if owner_is(&conn, window, &pids).map_err(|e| request_err(&e))? {
                own.push(window);
            }
        }
    }
    if unless_changed.is_some_and(|before| before != own.as_slice()) {
        return Ok(Vec::new());
    }
    for &window in &own {
        let event = ClientMessageEvent::new(
            32,
            window,
            protocols,
            [delete, x11rb::CURRENT_TIME, 0, 0, 0],
        );
        conn.send_event(false, window, EventMask::NO_EVENT, event)
            .map_err(|e| request_err(&e))?;
    }
    conn.flush().map_err(|e| request_err(&e))?;
    Ok(own)
}

/// The viewable windows below `parent` (down to `depth` levels) that list
/// `WM_DELETE_WINDOW` in their `WM_PROTOCOLS`: an app's top-level windows. A window that
/// is one is not searched further (its children are the app's own widgets).
fn closable_windows(
    conn: &impl Connection,
    parent: Window,
    depth: u32,
    protocols: u32,
    delete: u32,
    out: &mut Vec<Window>,
) -> Result<(), Box<dyn std::error::Error>> {
    if depth == 0 {
        return Ok(());
    }
    // A window may go between the listing and the next request: its errors are skipped.
    let Ok(tree) = conn.query_tree(parent)?.reply() else {
        return Ok(());
    };
    for window in tree.children {
        let Ok(attributes) = conn.get_window_attributes(window)?.reply() else {
            continue;
        };
        if attributes.map_state != MapState::VIEWABLE {
            continue;
        }
        let takes_delete = conn
            .get_property(false, window, protocols, AtomEnum::ATOM, 0, 64)?
            .reply()
            .ok()
            .and_then(|reply| reply.value32().map(|mut atoms| atoms.any(|a| a == delete)))
            .unwrap_or(false);
        if takes_delete {
            out.push(window);
        } else {
            closable_windows(conn, window, depth - 1, protocols, delete, out)?;
        }
    }
    Ok(())
}

/// Whether the client that created `window` is one of `pids`, as the X server knows it.
fn owner_is(
    conn: &impl Connection,
    window: Window,
    pids: &HashSet<u32>,
) -> Result<bool, Box<dyn std::error::Error>> {
    let spec = ClientIdSpec {
        client: window,
        mask: ClientIdMask::LOCAL_CLIENT_PID,
    };
    let Ok(reply) = res::query_client_ids(conn, &[spec])?.reply() else {
        return Ok(false);
    };
    Ok(reply
        .ids
        .iter()
        .filter(|id| u32::from(id.spec.mask) & u32::from(ClientIdMask::LOCAL_CLIENT_PID) != 0)
        .any(|id| id.value.first().is_some_and(|pid| pids.contains(pid))))
}

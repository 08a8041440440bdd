//! Integration tests: the real `boxtop` binary, real namespaces, run as an unprivileged
//! uid with no capabilities (the tests drop to one when they run as root).

mod access;
mod apps;
mod attack_executor;
mod attack_init;
mod attack_landlock;
mod attack_names;
mod attack_network;
mod entries;
mod errors;
mod faults;
mod first_use;
mod forward;
mod graceful_stop;
mod import;
mod instances;
mod json_schema;
mod launch_api;
mod live_net;
mod live_share;
mod open_desktop;
mod packaging;
mod refresh;
mod runtime;
mod state;
mod suggest;
mod support;
mod systemd_scope;
mod tui;
mod tui_first_use;
mod tui_instance;

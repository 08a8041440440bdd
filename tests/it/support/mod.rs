//! Fixtures of the integration tests, one module per thing the tests set up: the test
//! world (an unprivileged user running the real boxtop), host programs and servers, X11,
//! audio, D-Bus, network namespaces, a delegated cgroup, running instances and desktop
//! entry folders. What several test files use is re-exported here, to be imported as
//! `crate::support::NAME`; the rest is imported from its module.

pub(crate) mod audio;
pub(crate) mod cgroup;
pub(crate) mod dbus;
pub(crate) mod entries;
pub(crate) mod host;
pub(crate) mod instances;
pub(crate) mod json;
pub(crate) mod netns;
pub(crate) mod tmux;
pub(crate) mod world;
pub(crate) mod x11;

pub(crate) use audio::pulse_server;
pub(crate) use cgroup::Delegated;
pub(crate) use dbus::SessionBus;
pub(crate) use host::{require, with_private_mounts, Server, SmallFolder};
pub(crate) use netns::{
    build_host_network, connect_uplink, give_tun_its_usual_mode, in_new_network, ip,
    isolated_sh_profile, probe_checks, processes_in_my_network, NetNamespace,
};
pub(crate) use world::{
    accepts, assert_ok, assert_probe_ok, is_root, probe_binary, probe_outside, stderr, stdout,
    wait_until, KillOnDrop, World,
};
pub(crate) use x11::{free_display, wait_for_window, x_world, Xvfb};

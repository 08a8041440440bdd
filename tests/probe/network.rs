//! What the probe can reach: abstract unix sockets, TCP addresses, and the network
//! interfaces of its namespace.

use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, UnixAddr};

use crate::args::{exact, Usage};
use crate::report::{errno_text, io_text, list, Outcome, Report};

const TCP_TIMEOUT: Duration = Duration::from_secs(2);

const NET_DEV: &str = "/proc/net/dev";

nix::ioctl_readwrite_bad!(
    /// SIOCGIFFLAGS: an interface's flags, into `ifr_ifru.ifru_flags`.
    get_interface_flags,
    libc::SIOCGIFFLAGS,
    libc::ifreq
);

/// Why a connection was not made.
enum NotConnected {
    /// No socket to try with: says nothing about the peer.
    Socket(Errno),
    Connect(Errno),
}

fn connect_abstract(name: &str) -> Result<(), NotConnected> {
    let address = UnixAddr::new_abstract(name.as_bytes()).map_err(NotConnected::Socket)?;
    let socket = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(NotConnected::Socket)?;
    connect(socket.as_raw_fd(), &address).map_err(NotConnected::Connect)
}

/// `abstract-unreachable NAME`: connecting to `\0NAME` is refused.
pub fn abstract_unreachable(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [name] = exact::<1>(args)?;
    report.whole(match connect_abstract(name) {
        Err(NotConnected::Connect(Errno::ECONNREFUSED)) => Ok(()),
        Err(NotConnected::Connect(errno)) => Err(format!(
            "connect to @{name} failed with {}, expected ECONNREFUSED",
            errno_text(errno)
        )),
        Err(NotConnected::Socket(errno)) => {
            Err(format!("cannot make a unix socket: {}", errno_text(errno)))
        }
        Ok(()) => Err(format!("connected to @{name}, expected ECONNREFUSED")),
    });
    Ok(())
}

/// `abstract-reachable NAME`: connecting to `\0NAME` succeeds.
pub fn abstract_reachable(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [name] = exact::<1>(args)?;
    report.whole(match connect_abstract(name) {
        Ok(()) => Ok(()),
        Err(NotConnected::Connect(errno)) => Err(format!(
            "connect to @{name} failed with {}, expected it to connect",
            errno_text(errno)
        )),
        Err(NotConnected::Socket(errno)) => {
            Err(format!("cannot make a unix socket: {}", errno_text(errno)))
        }
    });
    Ok(())
}

fn socket_address(text: &str) -> Result<SocketAddr, Usage> {
    text.parse().map_err(|_| {
        Usage(format!(
            "{text:?} is not IP:PORT (the sandbox may have no name service)"
        ))
    })
}

/// `tcp-reachable IP:PORT`: a connection is made within 2 seconds.
pub fn tcp_reachable(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [address] = exact::<1>(args)?;
    let address = socket_address(address)?;
    report.whole(
        TcpStream::connect_timeout(&address, TCP_TIMEOUT)
            .map(drop)
            .map_err(|error| {
                format!(
                    "connect to {address} failed: {}, expected it to connect",
                    io_text(&error)
                )
            }),
    );
    Ok(())
}

/// `tcp-send IP:PORT BYTES`: connects and sends BYTES zero bytes, all of them.
pub fn tcp_send(args: &[String], report: &mut Report) -> Result<(), Usage> {
    use std::io::Write;
    let [address, bytes] = exact::<2>(args)?;
    let address = socket_address(address)?;
    let bytes: usize = crate::args::number("BYTES", bytes)?;
    report.whole(
        TcpStream::connect_timeout(&address, TCP_TIMEOUT)
            .and_then(|mut stream| {
                stream.write_all(&vec![0u8; bytes])?;
                stream.shutdown(std::net::Shutdown::Write)
            })
            .map_err(|error| format!("sending {bytes} bytes to {address}: {}", io_text(&error))),
    );
    Ok(())
}

/// `tcp-unreachable IP:PORT`: no connection is made within 2 seconds.
pub fn tcp_unreachable(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [address] = exact::<1>(args)?;
    let address = socket_address(address)?;
    report.whole(match TcpStream::connect_timeout(&address, TCP_TIMEOUT) {
        Err(_) => Ok(()),
        Ok(_) => Err(format!(
            "connected to {address}, expected it to be unreachable"
        )),
    });
    Ok(())
}

/// The interfaces of the namespace, as /proc/net/dev lists them.
fn interfaces() -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(NET_DEV)
        .map_err(|error| format!("cannot read {NET_DEV}: {}", io_text(&error)))?;
    // Two header lines, then `  name: counters...`.
    Ok(text
        .lines()
        .skip(2)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, _)| name.trim().to_string())
        .collect())
}

/// `only-lo`: results `interfaces` (exactly lo) and `lo-up`.
pub fn only_lo(args: &[String], report: &mut Report) -> Result<(), Usage> {
    exact::<0>(args)?;
    report.item(
        "interfaces",
        interfaces().and_then(|names| {
            if names == ["lo"] {
                Ok(())
            } else {
                Err(format!(
                    "interfaces are {}, expected lo alone",
                    list(&names)
                ))
            }
        }),
    );
    report.item("lo-up", is_loopback_up());
    Ok(())
}

fn is_loopback_up() -> Outcome {
    let socket = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|errno| format!("cannot make a socket to ask with: {}", errno_text(errno)))?;
    // SAFETY: ifreq is plain old data (a name and a union of integers and addresses), for
    // which all zeros is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo") {
        *slot = libc::c_char::from_ne_bytes([*byte]);
    }
    // SAFETY: the request is a valid ifreq with a NUL-terminated name, that lives across the
    // call; SIOCGIFFLAGS writes only its flags.
    unsafe { get_interface_flags(socket.as_raw_fd(), &mut request) }
        .map_err(|errno| format!("SIOCGIFFLAGS on lo failed with {}", errno_text(errno)))?;
    // SAFETY: SIOCGIFFLAGS succeeded, so the kernel stored the flags member of the union.
    let flags = u16::from_ne_bytes(unsafe { request.ifr_ifru.ifru_flags }.to_ne_bytes());
    if libc::c_int::from(flags) & libc::IFF_UP != 0 {
        Ok(())
    } else {
        Err(format!("lo flags are {flags:#x}, IFF_UP missing"))
    }
}

/// `interfaces-not-only-lo`: some interface besides lo (network = "host").
pub fn interfaces_not_only_lo(args: &[String], report: &mut Report) -> Result<(), Usage> {
    exact::<0>(args)?;
    report.whole(interfaces().and_then(|names| {
        if names.iter().any(|name| name != "lo") {
            Ok(())
        } else {
            Err(format!(
                "interfaces are {}, expected one besides lo",
                list(&names)
            ))
        }
    }));
    Ok(())
}

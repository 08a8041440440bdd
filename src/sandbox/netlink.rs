//! The few rtnetlink requests boxtop makes: listing a namespace's addresses, hearing when
//! they change, and adding or removing a `prohibit` route. Messages are built and read
//! here as bytes, in the kernel's layout (native endian, 4-byte aligned attributes).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    bind, recv, send, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol,
    SockType,
};

/// `struct nlmsghdr`: length, type, flags, sequence number, port id.
const HEADER_LEN: usize = 16;
/// `struct ifaddrmsg`: family, prefix length, flags, scope, interface index.
const IFADDRMSG_LEN: usize = 8;
/// `struct rtmsg`: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
const RTMSG_LEN: usize = 12;
/// `struct rtattr`: length, type.
const ATTR_HEADER_LEN: usize = 4;

const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;
const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
const IFA_ADDRESS: u16 = libc::IFA_ADDRESS;
const IFA_LOCAL: u16 = libc::IFA_LOCAL;

/// The multicast groups of address changes, IPv4 and IPv6.
pub const ADDRESS_GROUPS: u32 = (libc::RTMGRP_IPV4_IFADDR | libc::RTMGRP_IPV6_IFADDR) as u32;

fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// A NETLINK_ROUTE socket of the network namespace the caller was in when it opened it:
/// it keeps talking to that namespace after the caller moves to another one.
#[derive(Debug)]
pub struct Rtnetlink {
    fd: OwnedFd,
    seq: u32,
}

/// What a route request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteChange {
    Add,
    Remove,
}

impl Rtnetlink {
    /// Opens a socket that also receives the messages of the multicast `groups` (a mask of
    /// `RTMGRP_*`), or none with 0.
    pub fn open(groups: u32) -> Result<Rtnetlink, Errno> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )?;
        bind(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            &NetlinkAddr::new(0, groups),
        )?;
        Ok(Rtnetlink { fd, seq: 0 })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Every address of every interface of the socket's namespace.
    pub fn addresses(&mut self) -> Result<BTreeSet<IpAddr>, Errno> {
        let seq = self.next_seq();
        let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
        let request = message(libc::RTM_GETADDR, flags, seq, &[0u8; IFADDRMSG_LEN]);
        send_all(self.fd.as_fd(), &request)?;
        let mut found = BTreeSet::new();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let len = recv_retrying(self.fd.as_fd(), &mut buffer, MsgFlags::empty())?;
            for reply in Messages::new(&buffer[..len]) {
                if reply.seq != seq {
                    continue;
                }
                match reply.kind {
                    NLMSG_DONE => return Ok(found),
                    NLMSG_ERROR => return Err(error_of(reply.body).unwrap_or(Errno::EIO)),
                    libc::RTM_NEWADDR => found.extend(address_of(reply.body)),
                    _ => {}
                }
            }
        }
    }

    /// Adds or removes the route that makes `address` unreachable: a `prohibit` route to
    /// it alone in the main table. Adding one that exists, or removing one that does not,
    /// is no error.
    pub fn prohibit(&mut self, change: RouteChange, address: IpAddr) -> Result<(), Errno> {
        let seq = self.next_seq();
        let (kind, flags) = match change {
            RouteChange::Add => (
                libc::RTM_NEWROUTE,
                libc::NLM_F_REQUEST | libc::NLM_F_ACK | libc::NLM_F_CREATE | libc::NLM_F_EXCL,
            ),
            RouteChange::Remove => (libc::RTM_DELROUTE, libc::NLM_F_REQUEST | libc::NLM_F_ACK),
        };
        let request = message(kind, flags as u16, seq, &prohibit_route(address));
        send_all(self.fd.as_fd(), &request)?;
        let mut buffer = vec![0u8; 8 * 1024];
        loop {
            let len = recv_retrying(self.fd.as_fd(), &mut buffer, MsgFlags::empty())?;
            for reply in Messages::new(&buffer[..len]) {
                if reply.seq != seq || reply.kind != NLMSG_ERROR {
                    continue;
                }
                return match (change, error_of(reply.body)) {
                    (_, None) => Ok(()),
                    (RouteChange::Add, Some(Errno::EEXIST)) => Ok(()),
                    (RouteChange::Remove, Some(Errno::ESRCH)) => Ok(()),
                    (_, Some(errno)) => Err(errno),
                };
            }
        }
    }

    /// Waits for a message of the subscribed groups, then reads every one waiting:
    /// returns once something may have changed (a full receive queue, ENOBUFS, says so
    /// too: messages were lost).
    pub fn wait_for_change(&mut self) -> Result<(), Errno> {
        let mut buffer = vec![0u8; 64 * 1024];
        match recv_retrying(self.fd.as_fd(), &mut buffer, MsgFlags::empty()) {
            Ok(_) | Err(Errno::ENOBUFS) => {}
            Err(errno) => return Err(errno),
        }
        loop {
            match recv(
                std::os::fd::AsRawFd::as_raw_fd(&self.fd),
                &mut buffer,
                MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(_) | Err(Errno::ENOBUFS) | Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Ok(()),
                Err(errno) => return Err(errno),
            }
        }
    }
}

fn send_all(fd: BorrowedFd, bytes: &[u8]) -> Result<(), Errno> {
    let fd = std::os::fd::AsRawFd::as_raw_fd(&fd);
    loop {
        match send(fd, bytes, MsgFlags::empty()) {
            Ok(sent) if sent == bytes.len() => return Ok(()),
            Ok(_) => return Err(Errno::EMSGSIZE),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
        }
    }
}

fn recv_retrying(fd: BorrowedFd, buffer: &mut [u8], flags: MsgFlags) -> Result<usize, Errno> {
    let fd = std::os::fd::AsRawFd::as_raw_fd(&fd);
    loop {
        match recv(fd, buffer, flags) {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// One netlink message: header, then `body`, padded to 4 bytes.
fn message(kind: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let len = HEADER_LEN + body.len();
    let mut out = Vec::with_capacity(align(len));
    out.extend_from_slice(&(len as u32).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    // Port id 0: the kernel.
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(body);
    out.resize(align(len), 0);
    out
}

/// The body of a route request: an `rtmsg` for a `prohibit` route to `address` alone in
/// the main table, and its destination attribute.
fn prohibit_route(address: IpAddr) -> Vec<u8> {
    let (family, bytes): (u8, Vec<u8>) = match address {
        IpAddr::V4(v4) => (libc::AF_INET as u8, v4.octets().to_vec()),
        IpAddr::V6(v6) => (libc::AF_INET6 as u8, v6.octets().to_vec()),
    };
    let mut out = vec![
        family,
        (bytes.len() * 8) as u8, // dst_len: the address alone
        0,                       // src_len
        0,                       // tos
        libc::RT_TABLE_MAIN,
        libc::RTPROT_STATIC,
        libc::RT_SCOPE_UNIVERSE,
        libc::RTN_PROHIBIT,
    ];
    out.extend_from_slice(&0u32.to_ne_bytes()); // flags
    debug_assert_eq!(out.len(), RTMSG_LEN);
    let attr_len = ATTR_HEADER_LEN + bytes.len();
    out.extend_from_slice(&(attr_len as u16).to_ne_bytes());
    out.extend_from_slice(&libc::RTA_DST.to_ne_bytes());
    out.extend_from_slice(&bytes);
    out.resize(RTMSG_LEN + align(attr_len), 0);
    out
}

/// A message read from the kernel, body without header.
struct Message<'a> {
    kind: u16,
    seq: u32,
    body: &'a [u8],
}

/// The messages of one datagram; a truncated or malformed one ends the list.
struct Messages<'a> {
    rest: &'a [u8],
}

impl<'a> Messages<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Messages { rest: bytes }
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Iterator for Messages<'a> {
    type Item = Message<'a>;

    fn next(&mut self) -> Option<Message<'a>> {
        let len = u32_at(self.rest, 0)? as usize;
        if len < HEADER_LEN || len > self.rest.len() {
            self.rest = &[];
            return None;
        }
        let message = Message {
            kind: u16_at(self.rest, 4)?,
            seq: u32_at(self.rest, 8)?,
            body: &self.rest[HEADER_LEN..len],
        };
        self.rest = self.rest.get(align(len)..).unwrap_or(&[]);
        Some(message)
    }
}

/// The error of an `NLMSG_ERROR` body: None for an acknowledgement (error 0).
fn error_of(body: &[u8]) -> Option<Errno> {
    let code = i32::from_ne_bytes(body.get(0..4)?.try_into().ok()?);
    (code != 0).then(|| Errno::from_raw(-code))
}

/// The address of an `RTM_NEWADDR` body: `IFA_LOCAL` when present (on a point-to-point
/// link `IFA_ADDRESS` is the peer's), else `IFA_ADDRESS`.
fn address_of(body: &[u8]) -> Option<IpAddr> {
    let family = i32::from(*body.first()?);
    let mut attrs = body.get(IFADDRMSG_LEN..)?;
    let (mut local, mut address) = (None, None);
    while attrs.len() >= ATTR_HEADER_LEN {
        let len = usize::from(u16_at(attrs, 0)?);
        let kind = u16_at(attrs, 2)?;
        if len < ATTR_HEADER_LEN || len > attrs.len() {
            break;
        }
        let value = &attrs[ATTR_HEADER_LEN..len];
        let ip = match (family, value.len()) {
            (libc::AF_INET, 4) => {
                Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(value).ok()?)))
            }
            (libc::AF_INET6, 16) => Some(IpAddr::V6(Ipv6Addr::from(
                <[u8; 16]>::try_from(value).ok()?,
            ))),
            _ => None,
        };
        match kind {
            IFA_LOCAL => local = ip,
            IFA_ADDRESS => address = ip,
            _ => {}
        }
        attrs = attrs.get(align(len)..).unwrap_or(&[]);
    }
    local.or(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = ((ATTR_HEADER_LEN + value.len()) as u16)
            .to_ne_bytes()
            .to_vec();
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        out.resize(align(out.len()), 0);
        out
    }

    #[test]
    fn a_prohibit_route_is_an_rtmsg_with_its_destination() {
        let body = prohibit_route("10.1.2.3".parse().unwrap());
        assert_eq!(
            &body[..8],
            &[libc::AF_INET as u8, 32, 0, 0, 254, 4, 0, libc::RTN_PROHIBIT]
        );
        assert_eq!(&body[12..16], &attr(libc::RTA_DST, &[10, 1, 2, 3])[..4]);
        assert_eq!(&body[16..], &[10, 1, 2, 3]);
        let v6 = prohibit_route("fd00::5".parse().unwrap());
        assert_eq!((v6[0], v6[1]), (libc::AF_INET6 as u8, 128));
        assert_eq!(v6.len(), RTMSG_LEN + ATTR_HEADER_LEN + 16);
    }

    #[test]
    fn a_message_is_padded_and_says_its_length() {
        let out = message(libc::RTM_NEWROUTE, 5, 7, &[1, 2, 3]);
        assert_eq!(out.len(), 20);
        assert_eq!(u32_at(&out, 0), Some(19));
        assert_eq!(u16_at(&out, 4), Some(libc::RTM_NEWROUTE));
        assert_eq!(u32_at(&out, 8), Some(7));
    }

    #[test]
    fn an_address_is_the_local_one_when_the_link_has_a_peer() {
        let mut body = vec![libc::AF_INET as u8, 32, 0, 0, 0, 0, 0, 0];
        body.extend(attr(IFA_ADDRESS, &[10, 0, 0, 1]));
        body.extend(attr(IFA_LOCAL, &[10, 0, 0, 2]));
        assert_eq!(address_of(&body), Some("10.0.0.2".parse().unwrap()));
        let mut v6 = vec![libc::AF_INET6 as u8, 64, 0, 0, 0, 0, 0, 0];
        let ip: Ipv6Addr = "fe80::1".parse().unwrap();
        v6.extend(attr(IFA_ADDRESS, &ip.octets()));
        assert_eq!(address_of(&v6), Some(IpAddr::V6(ip)));
    }

    #[test]
    fn malformed_messages_end_the_list_without_panicking() {
        let good = message(NLMSG_DONE, 0, 1, &[0, 0, 0, 0]);
        let mut bytes = good.clone();
        bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2]);
        let kinds: Vec<u16> = Messages::new(&bytes).map(|m| m.kind).collect();
        assert_eq!(kinds, [NLMSG_DONE]);
        assert_eq!(Messages::new(&[1, 2, 3]).count(), 0);
        assert_eq!(
            address_of(&[libc::AF_INET as u8, 0, 0, 0, 0, 0, 0, 0, 255, 255]),
            None
        );
        assert_eq!(address_of(&[]), None);
    }

    #[test]
    fn an_acknowledgement_is_no_error() {
        assert_eq!(error_of(&0i32.to_ne_bytes()), None);
        assert_eq!(error_of(&(-17i32).to_ne_bytes()), Some(Errno::EEXIST));
    }
}

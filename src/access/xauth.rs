//! Reading the user's Xauthority file and writing a private one holding only the cookie
//! of the display a sandbox may use. The format is a sequence of entries, each a
//! big-endian u16 family then four length-prefixed fields: address, display number,
//! auth name, auth data.

/// `FamilyWild`: matches any host address, so the entry works under the sandbox's own
/// hostname.
pub const FAMILY_WILD: u16 = 0xffff;
/// `FamilyLocal`: a local (unix socket) connection to a named host.
pub const FAMILY_LOCAL: u16 = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub family: u16,
    pub address: Vec<u8>,
    pub number: Vec<u8>,
    pub name: Vec<u8>,
    pub data: Vec<u8>,
}

/// Parses every complete entry; a truncated tail is ignored.
pub fn parse(bytes: &[u8]) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    let take_u16 = |rest: &mut &[u8]| -> Option<u16> {
        let (head, tail) = rest.split_first_chunk::<2>()?;
        *rest = tail;
        Some(u16::from_be_bytes(*head))
    };
    let take_field = |rest: &mut &[u8]| -> Option<Vec<u8>> {
        let (head, tail) = rest.split_first_chunk::<2>()?;
        let len = u16::from_be_bytes(*head) as usize;
        if tail.len() < len {
            return None;
        }
        let (field, tail) = tail.split_at(len);
        *rest = tail;
        Some(field.to_vec())
    };
    loop {
        let mut cursor = rest;
        let entry = (|| {
            Some(Entry {
                family: take_u16(&mut cursor)?,
                address: take_field(&mut cursor)?,
                number: take_field(&mut cursor)?,
                name: take_field(&mut cursor)?,
                data: take_field(&mut cursor)?,
            })
        })();
        match entry {
            Some(entry) => {
                entries.push(entry);
                rest = cursor;
            }
            None => return entries,
        }
    }
}

/// Serializes entries in the file format.
pub fn serialize(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        out.extend_from_slice(&entry.family.to_be_bytes());
        for field in [&entry.address, &entry.number, &entry.name, &entry.data] {
            out.extend_from_slice(&(field.len() as u16).to_be_bytes());
            out.extend_from_slice(field);
        }
    }
    out
}

/// The one entry for display `number` (local or wildcard family), rewritten as a
/// wildcard entry; `None` when the file has no cookie for it.
pub fn cookie_for_display(bytes: &[u8], number: u32, hostname: &str) -> Option<Entry> {
    let number = number.to_string().into_bytes();
    let entries = parse(bytes);
    let matches = |entry: &&Entry| {
        entry.number == number && (entry.family == FAMILY_LOCAL || entry.family == FAMILY_WILD)
    };
    let found = entries
        .iter()
        .filter(matches)
        .find(|entry| entry.family == FAMILY_WILD || entry.address == hostname.as_bytes())
        .or_else(|| entries.iter().find(matches))?;
    Some(Entry {
        family: FAMILY_WILD,
        address: Vec::new(),
        ..found.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(family: u16, address: &str, number: &str, data: &[u8]) -> Entry {
        Entry {
            family,
            address: address.into(),
            number: number.into(),
            name: b"MIT-MAGIC-COOKIE-1".to_vec(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn round_trips_and_picks_one_display() {
        let all = vec![
            entry(FAMILY_LOCAL, "otherhost", "0", &[1; 16]),
            entry(FAMILY_LOCAL, "myhost", "0", &[2; 16]),
            entry(FAMILY_LOCAL, "myhost", "1", &[3; 16]),
        ];
        let bytes = serialize(&all);
        assert_eq!(parse(&bytes), all);
        let one = cookie_for_display(&bytes, 0, "myhost").unwrap();
        assert_eq!(one.data, vec![2; 16]);
        assert_eq!(one.family, FAMILY_WILD);
        assert!(cookie_for_display(&bytes, 7, "myhost").is_none());
        assert_eq!(
            parse(&bytes[..bytes.len() - 3]).len(),
            2,
            "a truncated tail is ignored"
        );
    }
}

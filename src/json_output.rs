//! The one shape of every JSON output (`list`, `show`, `ps`, `doctor`, `desktop list
//! --json` and the machine mode's answer): an object whose `schema` names the output,
//! whose `version` numbers its shape, and whose data sits beside them under named keys.
//! `docs/json.md` documents each schema; `tests/it/json_schema.rs` holds the outputs to it.
//!
//! Why an object and not the bare list some outputs were: a reader can check that it got
//! the output (and the shape) it expects before it reads anything else, and an output can
//! gain a field without breaking anyone.

use serde::{Deserialize, Serialize};

/// A JSON output's name and the version of its shape. The version goes up when a reader
/// of the old shape could misread the new one (see `docs/json.md`, "Compatibility").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    pub name: &'static str,
    pub version: u32,
}

impl Schema {
    /// `boxtop list --json`
    pub const LIST: Schema = Schema::new("boxtop.list", 1);
    /// `boxtop show NAME --json`
    pub const SHOW: Schema = Schema::new("boxtop.show", 1);
    /// `boxtop ps --json`
    pub const PS: Schema = Schema::new("boxtop.ps", 1);
    /// `boxtop doctor --json`
    pub const DOCTOR: Schema = Schema::new("boxtop.doctor", 1);
    /// `boxtop desktop list --json`
    pub const DESKTOP_LIST: Schema = Schema::new("boxtop.desktop-list", 1);
    /// The answer of `boxtop __machine run`.
    pub const MACHINE_ANSWER: Schema = Schema::new("boxtop.machine-answer", 1);

    /// Every output, for the documentation and its test.
    pub const ALL: [Schema; 6] = [
        Schema::LIST,
        Schema::SHOW,
        Schema::PS,
        Schema::DOCTOR,
        Schema::DESKTOP_LIST,
        Schema::MACHINE_ANSWER,
    ];

    const fn new(name: &'static str, version: u32) -> Schema {
        Schema { name, version }
    }

    /// `data` (a struct or a map: its fields become the output's) with this schema's
    /// `schema` and `version` first, as indented JSON for people and `jq`.
    pub fn to_pretty<T: Serialize>(self, data: &T) -> serde_json::Result<String> {
        serde_json::to_string_pretty(&self.envelope(data))
    }

    /// As [`Schema::to_pretty`], on one line (the machine mode's answer is one line).
    pub fn to_line<T: Serialize>(self, data: &T) -> serde_json::Result<String> {
        serde_json::to_string(&self.envelope(data))
    }

    fn envelope<T>(self, data: T) -> Envelope<T> {
        Envelope {
            schema: self.name.to_string(),
            version: self.version,
            data,
        }
    }

    /// Reads an output of this schema written by [`Schema::to_line`] or
    /// [`Schema::to_pretty`]: its data, or what is wrong (not JSON, another output, another
    /// version: a boxtop of another release wrote it).
    pub fn read<T: for<'de> Deserialize<'de>>(self, text: &str) -> Result<T, String> {
        let header: Header = serde_json::from_str(text).map_err(|err| err.to_string())?;
        if header.schema != self.name || header.version != self.version {
            return Err(format!(
                "it is {} version {}, where this boxtop reads {} version {}",
                header.schema, header.version, self.name, self.version
            ));
        }
        let envelope: Envelope<T> = serde_json::from_str(text).map_err(|err| err.to_string())?;
        Ok(envelope.data)
    }
}

/// What every output starts with.
#[derive(Deserialize)]
struct Header {
    schema: String,
    version: u32,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    schema: String,
    version: u32,
    #[serde(flatten)]
    data: T,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Said {
        Hello { to: String },
    }

    #[test]
    fn schema_and_version_come_first_and_the_data_beside_them() {
        #[derive(Serialize)]
        struct Rows<'a> {
            rows: &'a [u32],
        }
        let text = Schema::PS.to_line(&Rows { rows: &[1, 2] }).unwrap();
        assert_eq!(text, r#"{"schema":"boxtop.ps","version":1,"rows":[1,2]}"#);
    }

    #[test]
    fn an_enum_reads_back_and_another_schema_or_version_is_refused() {
        let said = Said::Hello { to: "you".into() };
        let text = Schema::MACHINE_ANSWER.to_line(&said).unwrap();
        assert_eq!(
            text,
            r#"{"schema":"boxtop.machine-answer","version":1,"hello":{"to":"you"}}"#
        );
        assert_eq!(Schema::MACHINE_ANSWER.read::<Said>(&text), Ok(said));

        let later = text.replace("\"version\":1", "\"version\":2");
        let err = Schema::MACHINE_ANSWER.read::<Said>(&later).unwrap_err();
        assert!(err.contains("version 2"), "{err}");
        let other = Schema::PS.read::<Said>(&text).unwrap_err();
        assert!(other.contains("boxtop.machine-answer"), "{other}");
        assert!(Schema::PS.read::<Said>("[]").is_err());
    }

    #[test]
    fn the_names_are_distinct() {
        let mut names: Vec<_> = Schema::ALL.iter().map(|schema| schema.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Schema::ALL.len());
    }
}

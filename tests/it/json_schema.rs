//! Every JSON output held to its table in `docs/json.md`: each command is run for real (a
//! world with profiles, a detached and an ended instance, menu entries, the machine mode's
//! success and failure) and its output must have every documented field that is always
//! there, each of its documented type, no field the page does not document, and the
//! schema name and version the page gives (which must be the library's,
//! `json_output::Schema`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use boxtop::json_output::Schema;
use serde_json::{json, Value};

use crate::support::{stderr, stdout, wait_until, World};

/// One type a documented field may have.
#[derive(Debug, Clone, PartialEq)]
enum Type {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
    /// An object whose keys are data; its values are documented as `PATH{}`.
    Map,
    Null,
    /// A literal: `"running"`, `1`, `true`.
    Exactly(Value),
}

impl Type {
    fn parse(text: &str) -> Option<Type> {
        Some(match text {
            "string" => Type::String,
            "integer" => Type::Integer,
            "number" => Type::Number,
            "boolean" => Type::Boolean,
            "object" => Type::Object,
            "array" => Type::Array,
            "map" => Type::Map,
            "null" => Type::Null,
            _ => {
                let literal: Value = serde_json::from_str(text).ok()?;
                if !(literal.is_string() || literal.is_i64() || literal.is_boolean()) {
                    return None;
                }
                Type::Exactly(literal)
            }
        })
    }

    fn matches(&self, value: &Value) -> bool {
        match self {
            Type::String => value.is_string(),
            Type::Integer => value.is_i64() || value.is_u64(),
            Type::Number => value.is_number(),
            Type::Boolean => value.is_boolean(),
            Type::Object | Type::Map => value.is_object(),
            Type::Array => value.is_array(),
            Type::Null => value.is_null(),
            Type::Exactly(literal) => value == literal,
        }
    }
}

/// One row of a schema's table.
#[derive(Debug)]
struct Field {
    types: Vec<Type>,
    may_be_absent: bool,
}

/// One schema's section of `docs/json.md`: its heading's version and its fields by path.
#[derive(Debug)]
struct Documented {
    version: u64,
    fields: BTreeMap<String, Field>,
}

const DOC: &str = "docs/json.md";

/// The schema sections of `docs/json.md` (headings `` ## `boxtop.NAME` version N ``), by
/// schema name. A row the test cannot read fails it, naming the line.
fn documented() -> BTreeMap<String, Documented> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    let text = std::fs::read_to_string(&path).expect("read docs/json.md");
    let mut schemas = BTreeMap::new();
    let mut current: Option<(String, Documented)> = None;
    for (index, line) in text.lines().enumerate() {
        let at = || format!("{DOC}:{}", index + 1);
        if let Some(heading) = line.strip_prefix("## ") {
            schemas.extend(current.take());
            if let Some(rest) = heading.strip_prefix("`boxtop.") {
                let (name, version) = rest
                    .split_once("` version ")
                    .unwrap_or_else(|| panic!("{}: expected `boxtop.NAME` version N", at()));
                let version = version
                    .parse()
                    .unwrap_or_else(|_| panic!("{}: version '{version}' is no number", at()));
                let schema = Documented {
                    version,
                    fields: BTreeMap::new(),
                };
                current = Some((format!("boxtop.{name}"), schema));
            }
            continue;
        }
        let Some((_, schema)) = current.as_mut() else {
            continue;
        };
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let path = cells[1].trim_matches('`').to_string();
        let written = cells[2].replace('`', "");
        let (types, may_be_absent) = match written.strip_suffix(", may be absent") {
            Some(types) => (types, true),
            None => (written.as_str(), false),
        };
        let types = types
            .split(" or ")
            .map(|one| {
                Type::parse(one.trim())
                    .unwrap_or_else(|| panic!("{}: '{one}' is not a type of the table", at()))
            })
            .collect();
        let field = Field {
            types,
            may_be_absent,
        };
        if schema.fields.insert(path.clone(), field).is_some() {
            panic!("{}: {path} is documented twice", at());
        }
    }
    schemas.extend(current);
    schemas
}

/// The path of `key` in the object at `parent` (`""`: the top).
fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// What is wrong with `value` by `schema`'s table, each problem naming its field.
fn problems(name: &str, schema: &Documented, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let Some(top) = value.as_object() else {
        return vec![format!("{name}: the output is not an object: {value}")];
    };
    check_object(schema, "", top, &mut found);
    // Once each: the elements of a list repeat the same problem.
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|problem| seen.insert(problem.clone()));
    found
}

fn check_object(
    schema: &Documented,
    path: &str,
    object: &serde_json::Map<String, Value>,
    found: &mut Vec<String>,
) {
    for (key, value) in object {
        check(schema, &child(path, key), value, found);
    }
    // The documented fields of this object that are always there.
    for (documented, field) in &schema.fields {
        let key = if path.is_empty() {
            Some(documented.as_str())
        } else {
            documented
                .strip_prefix(path)
                .and_then(|rest| rest.strip_prefix('.'))
        };
        let Some(key) = key.filter(|key| !key.contains(['.', '[', '{'])) else {
            continue;
        };
        if !field.may_be_absent && !object.contains_key(key) {
            found.push(format!("{documented}: documented, missing"));
        }
    }
}

fn check(schema: &Documented, path: &str, value: &Value, found: &mut Vec<String>) {
    let Some(field) = schema.fields.get(path) else {
        found.push(format!("{path}: not documented in {DOC} (value {value})"));
        return;
    };
    let Some(kind) = field.types.iter().find(|kind| kind.matches(value)) else {
        found.push(format!(
            "{path}: {value} is none of the documented {:?}",
            field.types
        ));
        return;
    };
    match (kind, value) {
        (Type::Object, Value::Object(object)) => check_object(schema, path, object, found),
        (Type::Map, Value::Object(map)) => {
            for value in map.values() {
                check(schema, &format!("{path}{{}}"), value, found);
            }
        }
        (Type::Array, Value::Array(items)) => {
            for item in items {
                check(schema, &format!("{path}[]"), item, found);
            }
        }
        _ => {}
    }
}

/// Holds one output (its stdout) to its schema's table: the schema and version the
/// library writes, the page documents, and every field as documented.
pub(crate) fn assert_documented(schema: Schema, output: &Output) -> Value {
    let value: Value = serde_json::from_str(&stdout(output)).unwrap_or_else(|err| {
        panic!(
            "{} is not JSON ({err}):\n{}\nstderr:\n{}",
            schema.name,
            stdout(output),
            stderr(output)
        )
    });
    let all = documented();
    let doc = all
        .get(schema.name)
        .unwrap_or_else(|| panic!("{DOC} has no section for {}", schema.name));
    assert_eq!(
        doc.version,
        u64::from(schema.version),
        "{DOC} documents {} version {}, boxtop writes version {}",
        schema.name,
        doc.version,
        schema.version
    );
    let found = problems(schema.name, doc, &value);
    assert!(
        found.is_empty(),
        "{} differs from {DOC}:\n  {}\nthe output:\n{value:#}",
        schema.name,
        found.join("\n  ")
    );
    value
}

/// Kills the instances a test started, even when it fails.
struct Started<'a> {
    world: &'a World,
    ids: Vec<String>,
}

impl Drop for Started<'_> {
    fn drop(&mut self) {
        for id in &self.ids {
            let _ = self.world.boxtop(&["kill", id]).output();
        }
    }
}

fn user_profile(world: &World, name: &str, text: &str) {
    let dir = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&dir).expect("mkdir profiles");
    std::fs::write(dir.join(format!("{name}.toml")), text).expect("write profile");
}

fn run(world: &World, args: &[&str]) -> Output {
    let output = world.boxtop(args).output().expect("run boxtop");
    assert!(
        output.status.success(),
        "boxtop {args:?}: {:?}\n{}\n{}",
        output.status,
        stdout(&output),
        stderr(&output)
    );
    output
}

/// `boxtop __machine run` with `request` on stdin.
fn machine(world: &World, request: &Value) -> Output {
    let mut child = world
        .boxtop(&["__machine", "run"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run boxtop __machine run");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(request.to_string().as_bytes())
        .expect("write the request");
    drop(stdin);
    child.wait_with_output().expect("wait for the machine mode")
}

#[test]
fn the_documentation_names_every_schema_of_the_library_at_its_version() {
    let all = documented();
    let library: BTreeMap<String, u64> = Schema::ALL
        .iter()
        .map(|schema| (schema.name.to_string(), u64::from(schema.version)))
        .collect();
    let page: BTreeMap<String, u64> = all
        .iter()
        .map(|(name, doc)| (name.clone(), doc.version))
        .collect();
    assert_eq!(page, library, "the schemas of {DOC} and of json_output");
    for (name, doc) in &all {
        let name_row = &doc.fields.get("schema").map(|field| &field.types);
        assert_eq!(
            *name_row,
            Some(&vec![Type::Exactly(json!(name))]),
            "{name}: the `schema` row"
        );
        let version_row = &doc.fields.get("version").map(|field| &field.types);
        assert_eq!(
            *version_row,
            Some(&vec![Type::Exactly(json!(doc.version))]),
            "{name}: the `version` row"
        );
        // Every field's parent is documented as what its path says it is in.
        for path in doc.fields.keys() {
            let parent = if let Some(parent) = path.strip_suffix("[]") {
                Some((parent, Type::Array))
            } else if let Some(parent) = path.strip_suffix("{}") {
                Some((parent, Type::Map))
            } else {
                path.rsplit_once('.')
                    .map(|(parent, _)| (parent, Type::Object))
            };
            if let Some((parent, kind)) = parent {
                let documented = doc.fields.get(parent).map(|field| &field.types);
                assert!(
                    documented.is_some_and(|types| types.contains(&kind)),
                    "{name}: {path} needs {parent} documented as {kind:?}, it is {documented:?}"
                );
            }
        }
    }
}

#[test]
fn the_check_names_an_undocumented_field_a_missing_one_and_a_wrong_type() {
    let all = documented();
    let doctor = &all["boxtop.doctor"];
    let good = json!({
        "schema": "boxtop.doctor", "version": 1,
        "checks": [{ "feature": "seccomp", "status": "ok", "detail": "d", "fix": null }],
    });
    assert_eq!(problems("doctor", doctor, &good), Vec::<String>::new());
    let bad = json!({
        "schema": "boxtop.doctor", "version": 2,
        "checks": [{ "feature": "seccomp", "status": "fine", "fix": null, "extra": 1 }],
    });
    let found = problems("doctor", doctor, &bad).join("\n");
    for named in [
        "version: 2 is none",
        "checks[].status: \"fine\" is none",
        "checks[].extra: not documented",
        "checks[].detail: documented, missing",
    ] {
        assert!(found.contains(named), "{named:?} not in:\n{found}");
    }
}

#[test]
fn list_json_is_as_documented() {
    let world = World::new();
    user_profile(
        &world,
        "mine",
        "description = \"mine\"\ncommand = [\"/bin/true\"]\n",
    );
    // A user file over a bundled profile, and one that does not load.
    user_profile(&world, "xterm", "extends = \"xterm\"\nnetwork = \"none\"\n");
    user_profile(&world, "broken", "command = 7\n");
    world.fix_owner();
    let value = assert_documented(Schema::LIST, &run(&world, &["list", "--json"]));
    let sources: Vec<&str> = value["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["source"].as_str())
        .collect();
    for source in ["bundled", "user", "override"] {
        assert!(sources.contains(&source), "no {source} profile: {value:#}");
    }
    assert!(
        value["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["name"] == "broken" && row["error"].is_string()),
        "{value:#}"
    );
}

#[test]
fn show_json_is_as_documented() {
    let world = World::new();
    std::fs::create_dir_all(world.home.join(".ssh")).expect("mkdir .ssh");
    user_profile(
        &world,
        "full",
        "description = \"every key\"\nextends = \"xterm\"\ndesktop_file = \"x.desktop\"\n\
         binaries = [\"/bin/sh\"]\ncommand = [\"/bin/sh\", \"-c\", \"true\"]\n\
         display = \"auto\"\naudio = \"pipewire\"\ngpu = true\nwebcam = true\n\
         network = \"isolated\"\nallow_userns = true\nbinds = [{ path = \"/opt\", optional = true }]\n\
         [home]\nephemeral = true\nshare = [{ path = \"Documents\", mode = \"rw\", create = true }, \
         { path = \".ssh\", force = true }]\n\
         [dbus]\ntalk = [\"org.freedesktop.portal.*\"]\nown = [\"org.example.Full\"]\n\
         see = [\"org.example.Other\"]\nsystem_talk = [\"org.freedesktop.login1\"]\n\
         [env]\nGREETING = \"hello\"\n[limits]\nmemory = \"512M\"\ncpu = 1.5\npids = 64\n",
    );
    world.fix_owner();
    let value = assert_documented(Schema::SHOW, &run(&world, &["show", "full", "--json"]));
    // The session has no display, sound or bus: the host lacks what it grants.
    assert!(
        !value["missing_here"].as_array().unwrap().is_empty(),
        "{value:#}"
    );
    assert_eq!(value["profile"]["limits"]["cpu"], 1.5, "{value:#}");
    assert_documented(Schema::SHOW, &run(&world, &["show", "xterm", "--json"]));
}

#[test]
fn ps_json_is_as_documented_with_running_ended_and_killed_instances() {
    let world = World::new();
    let sleeper = world.profile(
        "sleeper",
        "command = [\"/bin/sh\", \"-c\", \"sleep 60\"]\n[home]\nephemeral = true\n",
    );
    let quick = world.profile(
        "quick",
        "command = [\"/bin/sh\", \"-c\", \"exit 3\"]\n[home]\nephemeral = true\n",
    );
    world.fix_owner();
    let mut started = Started {
        world: &world,
        ids: Vec::new(),
    };
    started
        .ids
        .push(world.detach(&["--profile-file", sleeper.to_str().unwrap()]));
    let ended = world.detach(&["--profile-file", quick.to_str().unwrap()]);
    started.ids.push(ended.clone());
    wait_until("the quick instance to end", Duration::from_secs(20), || {
        world
            .ps()
            .iter()
            .any(|status| status["id"] == ended.as_str() && status["state"]["state"] == "exited")
    });
    let value = assert_documented(
        Schema::PS,
        &run(&world, &["ps", "--all", "--json", "--interval", "100"]),
    );
    let states: Vec<&Value> = value["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|status| &status["state"])
        .collect();
    assert!(
        states.contains(&&json!({ "state": "running" }))
            && states.contains(&&json!({ "state": "exited", "code": 3 })),
        "{value:#}"
    );
    // Killed: its signal is documented too.
    let sleeping = started.ids[0].clone();
    run(&world, &["kill", &sleeping]);
    let value = assert_documented(
        Schema::PS,
        &run(&world, &["ps", "--all", "--json", "--interval", "0"]),
    );
    let killed = value["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|status| status["id"] == sleeping.as_str())
        .map(|status| status["state"]["state"].clone());
    assert_eq!(killed, Some(json!("killed")), "{value:#}");
    // With no live instance the list is empty, still in its envelope.
    let empty = run(&world, &["ps", "--json", "--interval", "0"]);
    let value = assert_documented(Schema::PS, &empty);
    assert_eq!(value["instances"], json!([]), "{value:#}");
}

#[test]
fn doctor_json_is_as_documented() {
    let world = World::new();
    let output = world
        .boxtop(&["doctor", "--json"])
        .output()
        .expect("run boxtop doctor");
    let value = assert_documented(Schema::DOCTOR, &output);
    assert!(
        value["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|check| check["feature"] == "user namespaces"),
        "{value:#}"
    );
}

#[test]
fn desktop_list_json_is_as_documented_with_installed_entries() {
    let world = World::new();
    run(&world, &["desktop", "install", "xterm", "--replace"]);
    run(&world, &["autostart", "enable", "xterm"]);
    let value = assert_documented(
        Schema::DESKTOP_LIST,
        &run(&world, &["desktop", "list", "--json"]),
    );
    let kinds: Vec<&str> = value["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["menu", "replacement", "autostart"], "{value:#}");
}

#[test]
fn machine_answers_are_as_documented_for_a_launch_a_join_and_failures() {
    let world = World::new();
    user_profile(
        &world,
        "sleeper",
        "command = [\"/bin/sh\", \"-c\", \"sleep 60\"]\n",
    );
    world.fix_owner();
    let mut started = Started {
        world: &world,
        ids: Vec::new(),
    };
    let request = json!({ "target": { "name": "sleeper" }, "origin": "tui", "detach": true });
    let first = machine(&world, &request);
    let answer = assert_documented(Schema::MACHINE_ANSWER, &first);
    let id = answer["outcome"]["started"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no started id in {answer}"))
        .to_string();
    started.ids.push(id.clone());
    assert_eq!(stdout(&first).lines().count(), 1, "one line: {answer}");
    // Its persistent home is held: the second launch joins that sandbox.
    let again = assert_documented(Schema::MACHINE_ANSWER, &machine(&world, &request));
    assert_eq!(again["outcome"]["joined"]["id"], id.as_str(), "{again}");

    let missing = machine(
        &world,
        &json!({ "target": { "name": "no-such-app" }, "detach": true }),
    );
    assert_eq!(missing.status.code(), Some(1));
    let answer = assert_documented(Schema::MACHINE_ANSWER, &missing);
    assert_eq!(answer["error"]["kind"], "profile_not_found", "{answer}");
    let garbled = machine(&world, &json!({ "target": 7 }));
    assert_eq!(garbled.status.code(), Some(2));
    let answer = assert_documented(Schema::MACHINE_ANSWER, &garbled);
    assert_eq!(answer["error"]["kind"], "bad_request", "{answer}");
}

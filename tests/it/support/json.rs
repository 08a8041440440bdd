//! boxtop's JSON outputs as the tests read them: each checked for its schema and version
//! (`json_output::Schema`, `docs/json.md`) before its data is used.

use std::process::Output;

use boxtop::json_output::Schema;
use serde_json::Value;

use super::stdout;

/// The data of `output`'s JSON (the fields beside `schema` and `version`), or why it is
/// not an output of `schema`.
pub(crate) fn try_data(schema: Schema, output: &Output) -> Result<Value, String> {
    schema.read::<Value>(&stdout(output))
}

/// The data of `output`'s JSON; the test fails if it is not an output of `schema`.
pub(crate) fn data(schema: Schema, output: &Output) -> Value {
    try_data(schema, output)
        .unwrap_or_else(|err| panic!("not {} JSON: {err}\n{}", schema.name, stdout(output)))
}

/// The list under `key` of `output`'s JSON (`instances` of `ps`, `checks` of `doctor`,
/// ...); the test fails if it is not an output of `schema` with that list.
pub(crate) fn list(schema: Schema, key: &str, output: &Output) -> Vec<Value> {
    match data(schema, output).get_mut(key).map(Value::take) {
        Some(Value::Array(items)) => items,
        other => panic!(
            "{} JSON has no list '{key}' ({other:?}):\n{}",
            schema.name,
            stdout(output)
        ),
    }
}

/// The instances of `boxtop ps --json`'s output.
pub(crate) fn instances(output: &Output) -> Vec<Value> {
    list(Schema::PS, "instances", output)
}

//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use caredesk_domain::policy::Policy;
use caredesk_domain::resources::TAG_MAX;
use serde_json::Value;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

use crate::AppState;

pub fn router(document: Arc<Value>) -> Router<AppState> {
    Router::new().route(
        "/api/v1/openapi.json",
        get(move || {
            let document = document.clone();
            async move { Json((*document).clone()) }
        }),
    )
}

/// Adds what every operation of its kind can answer and its own annotation leaves unsaid,
/// the same for all, so that the document tells each status a client may meet: 401 and 403
/// where a bearer token is required (none, unknown, expired or revoked; a role that may not), and for a JSON body 400 (not
/// JSON), 413 (larger than the server takes), 415 (not `application/json`) and 422 (a field
/// refused); 404 where the path names a record (none such, or not the caller's); and on
/// every operation 503 (the database is away for now, with `Retry-After`).
/// An operation's own description of a status is kept.
pub fn complete_responses(document: &mut OpenApi) {
    for (path, item) in document.paths.paths.iter_mut() {
        let names_a_record = path.contains('{');
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let secured = operation
                .security
                .as_ref()
                .is_some_and(|requirements| !requirements.is_empty());
            let json_body = matches!(
                &operation.request_body,
                Some(RefOr::T(body)) if body.content.contains_key("application/json")
            );
            let mut expected = vec![(
                "503",
                "The database is unavailable for now; retry after `Retry-After` seconds",
            )];
            if secured {
                expected.extend([
                    (
                        "401",
                        "Not signed in: no bearer token, or one unknown, expired or revoked",
                    ),
                    ("403", "Signed in, but not in a role that may do this"),
                ]);
            }
            if names_a_record {
                expected.push(("404", "No such record, or not the caller's to see"));
            }
            if json_body {
                expected.extend([
                    ("400", "The body is not well-formed JSON"),
                    ("413", "The body is larger than the server accepts"),
                    ("415", "The body is not application/json"),
                    ("422", "A field is missing or refused; each is named"),
                ]);
            }
            for (status, description) in expected {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| {
                        let mut answer = problem(description);
                        if status == "503" {
                            answer.headers.insert(
                                "Retry-After".to_string(),
                                RefOr::T(
                                    HeaderBuilder::new()
                                        .schema(Some(Object::with_type(Type::Integer)))
                                        .description(Some("Seconds to wait before trying again"))
                                        .build(),
                                ),
                            );
                        }
                        RefOr::T(answer)
                    });
            }
        }
    }
}

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// Text the desk refuses anywhere (`caredesk_domain::text`): every C0 control character but
/// tab, line feed and carriage return, and DEL.
const TEXT_WITHOUT_CONTROLS: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$";

/// An entity tag naming a version (`extract::if_match_version` reads the same): in quotes as
/// the desk writes it, weak or strong, or bare.
const ENTITY_TAG: &str = "^(W/)?(\"[0-9]{1,18}\"|[0-9]{1,18})$";

// The character classes the patterns below are built of, spelt out rather than `\s`, whose
// meaning differs between regular-expression engines.
/// Control characters (C0, DEL, C1): `char::is_control`.
macro_rules! controls {
    () => {
        "\\u0000-\\u001F\\u007F-\\u009F"
    };
}
/// Rust's white space (`char::is_whitespace`) that the edge lets through: what the desk trims.
macro_rules! blanks {
    () => {
        "\\t\\n\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000"
    };
}
/// White space and control characters together.
macro_rules! blanks_or_controls {
    () => {
        "\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000"
    };
}

/// The control characters the edge refuses in any text (all of C0 but tab, line feed and
/// carriage return, and DEL), as in `TEXT_WITHOUT_CONTROLS`.
macro_rules! refused_controls {
    () => {
        "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F"
    };
}

/// Text of several lines that holds more than blanks (what the desk refuses as `required`
/// once trimmed).
const FILLED_TEXT: &str = concat!(
    "^[^",
    refused_controls!(),
    "]*[^",
    blanks!(),
    refused_controls!(),
    "][^",
    refused_controls!(),
    "]*$"
);

/// A name or a number that ends up in tables and CSV (`desk`'s `Problems::at_most`): one line,
/// no control character at all.
const ONE_LINE: &str = concat!("^[^", controls!(), "]*$");

/// The same, holding more than blanks (`Problems::text`).
const ONE_FILLED_LINE: &str = concat!(
    "^[^",
    controls!(),
    "]*[^",
    blanks_or_controls!(),
    "][^",
    controls!(),
    "]*$"
);

/// What `desk::customers::looks_like_email` takes: one `@`, something before it, a domain
/// with a dot neither first nor last, no blank inside; blanks around are trimmed.
const EMAIL_ADDRESS: &str = concat!(
    "^[",
    blanks!(),
    "]*[^@",
    blanks_or_controls!(),
    "]+@[^@.",
    blanks_or_controls!(),
    "][^@",
    blanks_or_controls!(),
    "]*\\.[^@",
    blanks_or_controls!(),
    "]*[^@.",
    blanks_or_controls!(),
    "][",
    blanks!(),
    "]*$"
);

/// A tag of the resource center (`domain::resources::entry_problems`): more than blanks, no
/// comma, no control character.
const TAG: &str = concat!(
    "^[^,",
    controls!(),
    "]*[^,",
    blanks_or_controls!(),
    "][^,",
    controls!(),
    "]*$"
);

/// A link (`domain::text::is_web_link`: webhooks, external resources): http:// or https://,
/// a host, no blank or control character inside; blanks around are trimmed.
const WEB_LINK: &str = concat!(
    "^[",
    blanks!(),
    "]*https?://[^/?#",
    blanks_or_controls!(),
    "][^",
    blanks_or_controls!(),
    "]*[",
    blanks!(),
    "]*$"
);

/// A file name the desk keeps (`desk::tickets::file_problems`): no folder, no control
/// character, more than blanks.
const FILE_NAME: &str = concat!(
    "^[^/\\\\",
    controls!(),
    "]*[^/\\\\",
    blanks_or_controls!(),
    "][^/\\\\",
    controls!(),
    "]*$"
);

/// Makes the document's request side as strict as the checks behind it, so that a client (or
/// a schema fuzzer) that follows it is not refused for a field's value: every text parameter
/// and request field without a format refuses control characters; the names the policy in
/// force defines (regions, programs, languages, channels, severities, product lines) are
/// listed as enumerations wherever a parameter or request field carries one; `If-Match`
/// takes an entity tag. Rules across fields or stored records (an advisor that exists, a
/// product the customer registered) cannot be written in a schema and stay in the checks.
pub fn tighten_requests(document: &mut serde_json::Value, policy: &Policy) {
    let names = policy_names(policy);
    let request_schemas = request_schema_names(document);
    if let Some(paths) = document["paths"].as_object_mut() {
        for operation in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut().filter_map(Value::as_object_mut))
        {
            let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for parameter in parameters {
                let name = parameter["name"].as_str().unwrap_or_default().to_string();
                let in_header = parameter["in"] == "header";
                let schema = &mut parameter["schema"];
                if in_header && is_of_type(schema, "null") {
                    // A header is absent or text: never JSON's null.
                    schema["type"] = Value::from("string");
                }
                if name.eq_ignore_ascii_case("if-match") {
                    set_if_unset(schema, "pattern", Value::from(ENTITY_TAG));
                } else if name == "filename" {
                    set_if_unset(schema, "pattern", Value::from(FILE_NAME));
                } else {
                    tighten_text(schema, &name, &names);
                }
            }
        }
    }
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (_, schema) in schemas
        .iter_mut()
        .filter(|(name, _)| request_schemas.contains(name.as_str()))
    {
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for (name, property) in properties.iter_mut() {
                if is_of_type(property, "array") {
                    let singular = name.strip_suffix('s').unwrap_or(name);
                    tighten_text(&mut property["items"], singular, &names);
                } else {
                    tighten_text(property, name, &names);
                }
            }
        }
    }
}

/// What each policy-defined name may be, by the field or parameter name that carries it.
fn policy_names(policy: &Policy) -> BTreeMap<&'static str, Vec<Value>> {
    let keys = |names: Vec<&String>| {
        names
            .into_iter()
            .map(|name| Value::from(name.as_str()))
            .collect()
    };
    BTreeMap::from([
        ("region", keys(policy.regions.keys().collect())),
        ("program", keys(policy.programs.keys().collect())),
        // What-if replay's other program.
        (
            "alternative_program",
            keys(policy.programs.keys().collect()),
        ),
        (
            "language",
            keys(policy.languages.supported.iter().collect()),
        ),
        ("channel", keys(policy.channels.keys().collect())),
        ("severity", keys(policy.severities.keys().collect())),
        ("product_line", keys(policy.product_lines.keys().collect())),
    ])
}

/// The component schemas that request bodies use, and those their fields refer to.
fn request_schema_names(document: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut waiting: Vec<String> = Vec::new();
    if let Some(paths) = document["paths"].as_object() {
        for operation in paths
            .values()
            .filter_map(Value::as_object)
            .flat_map(|item| item.values())
        {
            collect_references(&operation["requestBody"], &mut waiting);
        }
    }
    while let Some(name) = waiting.pop() {
        if found.insert(name.clone()) {
            collect_references(&document["components"]["schemas"][&name], &mut waiting);
        }
    }
    found
}

fn collect_references(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(name) = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
            {
                into.push(name.to_string());
            }
            object
                .values()
                .for_each(|inner| collect_references(inner, into));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|inner| collect_references(inner, into)),
        _ => {}
    }
}

/// A text schema named `name`: the policy's enumeration when the name is one of its kinds,
/// else no control characters (unless it already has a format, an enumeration or a pattern).
fn tighten_text(schema: &mut Value, name: &str, names: &BTreeMap<&'static str, Vec<Value>>) {
    // The handlers mark the fields the desk holds to a rule of its own with a format of
    // ours, which becomes that rule's pattern here.
    let pattern = match schema["format"].as_str() {
        Some("one-line") if schema["minLength"].as_u64().is_some_and(|least| least > 0) => {
            Some(ONE_FILLED_LINE)
        }
        Some("one-line") => Some(ONE_LINE),
        Some("filled-text") => Some(FILLED_TEXT),
        Some("e-mail") => Some(EMAIL_ADDRESS),
        Some("web-link") => Some(WEB_LINK),
        _ => None,
    };
    if let (Some(pattern), Some(fields)) = (pattern, schema.as_object_mut()) {
        fields.remove("format");
        fields.insert("pattern".to_string(), Value::from(pattern));
        return;
    }
    if !is_of_type(schema, "string")
        || ["format", "enum", "pattern"]
            .iter()
            .any(|key| schema.get(key).is_some())
    {
        return;
    }
    if name == "tag" {
        schema["pattern"] = Value::from(TAG);
        schema["maxLength"] = Value::from(TAG_MAX);
        return;
    }
    match names.get(name) {
        Some(values) => {
            let mut values = values.clone();
            if is_of_type(schema, "null") {
                values.push(Value::Null);
            }
            schema["enum"] = Value::Array(values);
        }
        None => schema["pattern"] = Value::from(TEXT_WITHOUT_CONTROLS),
    }
}

/// Whether a schema's `type` is or includes `kind`.
fn is_of_type(schema: &Value, kind: &str) -> bool {
    match &schema["type"] {
        Value::String(single) => single == kind,
        Value::Array(kinds) => kinds.iter().any(|one| one == kind),
        _ => false,
    }
}

fn set_if_unset(schema: &mut Value, key: &str, value: Value) {
    if schema.is_object() && schema.get(key).is_none() {
        schema[key] = value;
    }
}

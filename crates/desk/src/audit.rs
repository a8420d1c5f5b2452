//! Reading the audit trail (administrators only): every administrative change, newest
//! first, filtered by what was changed, by whom and when; and the same as CSV, to keep
//! or to hand to an auditor. The trail itself is written by the store, in each change's
//! own transaction (see `Desk::audited_store`).

use caredesk_domain::reason::Reason;
use caredesk_domain::ticket::Role;
use caredesk_store::{AuditEntry, AuditFilter};

use crate::error::Problems;
use crate::{Caller, Desk, DeskError};

/// The most entries one read answers.
pub const MAX_ENTRIES: i64 = 1000;

/// The entries `filter` selects, at most `filter.limit` (1 to 1,000).
pub async fn trail(
    desk: &Desk,
    caller: &Caller,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, DeskError> {
    caller.require_role(&[Role::Admin])?;
    let mut problems = Problems::default();
    if !(1..=MAX_ENTRIES).contains(&filter.limit) {
        problems.add("limit", Reason::invalid(format!("from 1 to {MAX_ENTRIES}")));
    }
    if let (Some(from), Some(until)) = (filter.from, filter.until)
        && until <= from
    {
        problems.add("until", Reason::invalid("must be after from"));
    }
    problems.finish()?;
    Ok(desk.store.audit_trail(filter).await?)
}

/// The most entries one export holds.
pub const MAX_EXPORT: usize = 100_000;

/// Every entry `filter` selects (its limit aside), newest first, read a page at a time, up
/// to `MAX_EXPORT`: for a CSV that holds the whole period asked for.
pub async fn export(
    desk: &Desk,
    caller: &Caller,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, DeskError> {
    let mut page = AuditFilter {
        limit: MAX_ENTRIES,
        ..filter.clone()
    };
    let mut all = Vec::new();
    loop {
        let entries = trail(desk, caller, &page).await?;
        let read = entries.len();
        page.before_id = entries.last().map(|entry| entry.id);
        all.extend(entries);
        if read < MAX_ENTRIES as usize || all.len() >= MAX_EXPORT {
            break;
        }
    }
    all.truncate(MAX_EXPORT);
    Ok(all)
}

/// Entries as CSV (RFC 4180), with a header: id, at, actor, address, entity, entity_id,
/// action, before, after (the records as JSON).
pub fn as_csv(entries: &[AuditEntry]) -> String {
    let mut csv = String::from("id,at,actor,address,entity,entity_id,action,before,after\r\n");
    for entry in entries {
        let json = |value: &Option<serde_json::Value>| {
            value.as_ref().map(ToString::to_string).unwrap_or_default()
        };
        let fields = [
            entry.id.to_string(),
            entry.at.to_string(),
            entry.actor.clone(),
            entry.address.clone(),
            entry.entity.clone(),
            entry.entity_id.map(|id| id.to_string()).unwrap_or_default(),
            entry.action.clone(),
            json(&entry.before),
            json(&entry.after),
        ];
        let quoted: Vec<String> = fields.iter().map(|field| quote(field)).collect();
        csv.push_str(&quoted.join(","));
        csv.push_str("\r\n");
    }
    csv
}

/// A CSV field, quoted when it must be; a field a spreadsheet would take for a formula is
/// prefixed with an apostrophe (CSV injection).
pub(crate) fn quote(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_it_must_and_defuses_formulas() {
        let entry = AuditEntry {
            id: 7,
            at: "2026-12-04T10:00:00Z".parse().unwrap(),
            actor: "staff:1".into(),
            address: "192.0.2.1".into(),
            entity: "customer".into(),
            entity_id: Some(3),
            action: "created".into(),
            before: None,
            after: Some(serde_json::json!({ "name": "=HYPERLINK(\"x\")", "n": 1 })),
        };
        let csv = as_csv(&[entry]);
        let mut lines = csv.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("id,at,actor,address,entity,entity_id,action,before,after")
        );
        assert_eq!(
            lines.next(),
            Some(
                "7,2026-12-04T10:00:00Z,staff:1,192.0.2.1,customer,3,created,,\"{\"\"n\"\":1,\"\"name\"\":\"\"=HYPERLINK(\\\"\"x\\\"\")\"\"}\""
            )
        );
        assert_eq!(quote("=1+1"), "'=1+1");
        assert_eq!(quote("plain"), "plain");
    }
}

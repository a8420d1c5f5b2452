//! What ticket intake reads: the customer with its contracts, contacts and products, the
//! catalog of the product line, the advisors who could take the ticket with their loads, and
//! who is on call. All of it comes back in one statement, one row, each part folded into a
//! JSON array by the database: one round trip and one plan on both backends, where seven
//! statements cost PostgreSQL seven executions (it was the bottleneck of ticket creation).

use std::sync::LazyLock;

use caredesk_domain::policy::Policy;
use caredesk_domain::routing::{Candidate, OnCallShift};
use jiff::Timestamp;
use sqlx::Row;

use crate::catalog::{Release, release_of};
use crate::columns::{Columns, JsonRow};
use crate::customers::{
    Contact, Contract, Customer, PRODUCT_COLUMNS, Product, contact_of, contract_of, customer_of,
    product_of,
};
use crate::{Backend, Store, StoreError, instant, seconds};

/// Everything intake needs to know about a customer and a product line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntakeFacts {
    pub customer: Customer,
    pub contracts: Vec<Contract>,
    pub contacts: Vec<Contact>,
    pub products: Vec<Product>,
    /// The product line's releases, newest first.
    pub releases: Vec<Release>,
    /// Advisors of the customer's region, with their open tickets weighted by severity.
    pub candidates: Vec<Candidate>,
    /// Shifts of the region's office on call at `now`.
    pub on_call: Vec<OnCallShift>,
}

/// Open tickets per (advisor, severity).
pub type AdvisorLoads = std::collections::BTreeMap<(i64, String), i64>;

/// One part of the intake row: the columns of each row (an expression, named by its `AS`
/// alias or its column name), what they are read from, and in which order.
struct Part {
    columns: &'static [&'static str],
    from: &'static str,
    order: &'static str,
}

/// The parts, in the order of `IntakeFacts`; parameters `$1` customer, `$2` product line,
/// `$3` now.
const PARTS: [Part; 7] = [
    Part {
        columns: &[
            "id",
            "number",
            "name",
            "region",
            "language",
            "csm_id",
            "created_at",
        ],
        from: "customers WHERE id = $1",
        order: "id",
    },
    Part {
        columns: &[
            "id",
            "customer_id",
            "program",
            "starts_on",
            "ends_on",
            "eula_accepted",
            "eula_accepted_at",
            "eula_accepted_by",
        ],
        from: "contracts WHERE customer_id = $1",
        order: "starts_on, id",
    },
    Part {
        columns: &[
            "id",
            "customer_id",
            "name",
            "email",
            "phone",
            "language",
            "designated",
            "password_hash",
        ],
        from: "contacts WHERE customer_id = $1",
        order: "id",
    },
    Part {
        columns: &PRODUCT_COLUMNS,
        from: "products WHERE customer_id = $1",
        order: "id",
    },
    Part {
        columns: &[
            "id",
            "product_line",
            "version",
            "position",
            "kind",
            "released_on",
            "download_url",
            "sha256",
            "retired_at",
        ],
        from: "releases WHERE product_line = $2",
        order: "position DESC",
    },
    // Loads are kept per advisor and severity beside the tickets (see `advisor_loads`).
    Part {
        columns: &[
            "s.id",
            "s.name",
            "s.region",
            "s.languages",
            "s.available",
            "l.severity",
            "COALESCE(l.open_tickets, 0) AS open_tickets",
        ],
        from: "staff s LEFT JOIN advisor_loads l ON l.staff_id = s.id \
               WHERE s.role = 'advisor' AND s.active = TRUE \
               AND s.region = (SELECT region FROM customers WHERE id = $1)",
        order: "s.id, l.severity",
    },
    Part {
        columns: &[
            "o.region",
            "o.staff_id",
            "s.name",
            "s.languages",
            "o.starts_at",
            "o.ends_at",
        ],
        from: "on_call_shifts o JOIN staff s ON s.id = o.staff_id \
               WHERE o.region = (SELECT region FROM customers WHERE id = $1) \
               AND o.starts_at <= $3 AND o.ends_at > $3",
        order: "o.starts_at, o.staff_id",
    },
];

static SQLITE_STATEMENT: LazyLock<String> = LazyLock::new(|| statement(Backend::Sqlite));
static POSTGRES_STATEMENT: LazyLock<String> = LazyLock::new(|| statement(Backend::Postgres));

/// `SELECT (part 0 as a JSON array) AS part0, …`: SQLite's `json_group_array(json_object…)`,
/// PostgreSQL's `json_agg(json_build_object…)` as text (the `Any` driver reads no JSON type).
fn statement(backend: Backend) -> String {
    let parts: Vec<String> = PARTS
        .iter()
        .enumerate()
        .map(|(index, part)| {
            let fields: Vec<String> = part
                .columns
                .iter()
                .map(|column| {
                    let column: &str = column;
                    let (expression, name) = match column.split_once(" AS ") {
                        Some((expression, name)) => (expression, name),
                        None => (column, column.rsplit('.').next().unwrap_or(column)),
                    };
                    format!("'{name}', {expression}")
                })
                .collect();
            let fields = fields.join(", ");
            let (from, order) = (part.from, part.order);
            let array = match backend {
                Backend::Sqlite => {
                    format!("json_group_array(json_object({fields}) ORDER BY {order})")
                }
                Backend::Postgres => format!(
                    "COALESCE(json_agg(json_build_object({fields}) ORDER BY {order}), '[]')::text"
                ),
            };
            format!("(SELECT {array} FROM {from}) AS part{index}")
        })
        .collect();
    format!("SELECT {}", parts.join(", "))
}

impl Store {
    /// What intake needs for a ticket of `customer_id` on `product_line` at `now`.
    pub async fn intake_facts(
        &self,
        policy: &Policy,
        customer_id: i64,
        product_line: &str,
        now: Timestamp,
    ) -> Result<IntakeFacts, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => SQLITE_STATEMENT.as_str(),
            Backend::Postgres => POSTGRES_STATEMENT.as_str(),
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(customer_id)
            .bind(product_line)
            .bind(seconds(now))
            .fetch_one(&self.pool)
            .await?;
        let part = |index: usize| -> Result<Vec<JsonRow>, StoreError> {
            let json: String = row.try_get(index)?;
            serde_json::from_str(&json).map_err(|error| {
                StoreError::Corrupt(format!("intake part {index} is not a JSON array: {error}"))
            })
        };
        let customer = customer_of(part(0)?.first().ok_or(StoreError::NotFound)?)?;
        Ok(IntakeFacts {
            customer,
            contracts: read_all(&part(1)?, contract_of)?,
            contacts: read_all(&part(2)?, contact_of)?,
            products: read_all(&part(3)?, product_of)?,
            releases: read_all(&part(4)?, release_of)?,
            candidates: candidates(policy, &part(5)?)?,
            on_call: read_all(&part(6)?, shift_of)?,
        })
    }

    /// Each advisor's open tickets per severity: as kept beside the tickets (for intake),
    /// and as counted from the tickets themselves. The two always agree; the contract tests
    /// check it after every kind of change.
    pub async fn advisor_loads(&self) -> Result<(AdvisorLoads, AdvisorLoads), StoreError> {
        let kept = self.kept_advisor_loads().await?;
        let counted = self
            .read_loads(
                "SELECT assignee_id AS staff_id, severity, COUNT(*) AS open_tickets FROM tickets \
                 WHERE closed_at IS NULL AND assignee_id IS NOT NULL GROUP BY assignee_id, severity",
            )
            .await?;
        Ok((kept, counted))
    }

    /// Each advisor's open tickets per severity, as kept beside the tickets: read at once
    /// whatever the number of tickets.
    pub async fn kept_advisor_loads(&self) -> Result<AdvisorLoads, StoreError> {
        self.read_loads(
            "SELECT staff_id, severity, open_tickets FROM advisor_loads WHERE open_tickets <> 0",
        )
        .await
    }

    async fn read_loads(&self, sql: &'static str) -> Result<AdvisorLoads, StoreError> {
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    (row.try_get("staff_id")?, row.try_get("severity")?),
                    row.try_get("open_tickets")?,
                ))
            })
            .collect()
    }
}

fn read_all<T>(
    rows: &[JsonRow],
    read: impl Fn(&JsonRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(read).collect()
}

/// One candidate per advisor, their open tickets weighted by the policy's `load_weight`.
fn candidates(policy: &Policy, rows: &[JsonRow]) -> Result<Vec<Candidate>, StoreError> {
    let mut candidates: Vec<Candidate> = Vec::new();
    for row in rows {
        let id = row.int("id")?;
        let severity = row.optional_text("severity")?;
        let open = row.int("open_tickets")?;
        // A severity the policy no longer has counts once.
        let weight = severity
            .and_then(|name| policy.severity(&name).ok())
            .map_or(1, |severity| u64::from(severity.load_weight));
        let load = weight * u64::try_from(open).unwrap_or(0);
        match candidates.last_mut() {
            Some(last) if last.id == id => last.load += load,
            _ => {
                candidates.push(Candidate {
                    id,
                    name: row.text("name")?,
                    region: row.optional_text("region")?,
                    languages: languages_of(&row.text("languages")?),
                    available: row.flag("available")?,
                    load,
                });
            }
        }
    }
    Ok(candidates)
}

/// Staff languages as kept: codes separated by commas.
fn languages_of(kept: &str) -> Vec<String> {
    kept.split(',')
        .filter(|code| !code.is_empty())
        .map(str::to_string)
        .collect()
}

fn shift_of(row: &JsonRow) -> Result<OnCallShift, StoreError> {
    Ok(OnCallShift {
        region: row.text("region")?,
        staff_id: row.int("staff_id")?,
        staff_name: row.text("name")?,
        languages: languages_of(&row.text("languages")?),
        starts_at: instant(row.int("starts_at")?)?,
        ends_at: instant(row.int("ends_at")?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_is_one_json_array_named_by_its_position() {
        let sqlite = statement(Backend::Sqlite);
        assert!(sqlite.contains("json_object('id', s.id, 'name', s.name"));
        assert!(sqlite.contains("'open_tickets', COALESCE(l.open_tickets, 0)"));
        assert!(sqlite.contains("ORDER BY position DESC) FROM releases"));
        let postgres = statement(Backend::Postgres);
        assert!(postgres.contains("json_agg(json_build_object('region', o.region"));
        for index in 0..PARTS.len() {
            assert!(sqlite.contains(&format!("AS part{index}")));
            assert!(postgres.contains(&format!("AS part{index}")));
        }
    }
}

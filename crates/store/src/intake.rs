//! What ticket intake reads: the customer with its contracts, contacts and products, the
//! catalog of the product line, the advisors who could take the ticket with their loads, and
//! who is on call. On SQLite all of it comes back in one round trip (several statements sent
//! together); on PostgreSQL in one query each.

use caredesk_domain::policy::Policy;
use caredesk_domain::routing::{Candidate, OnCallShift};
use futures_util::TryStreamExt;
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{Either, Row};

use crate::catalog::{Release, release_of};
use crate::customers::{
    Contact, Contract, Customer, Product, contact_of, contract_of, customer_of, product_of,
};
use crate::{Backend, Store, StoreError, flag, instant, seconds};

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

/// The statements, with named parameters `:customer`, `:line` and `:now`.
const STATEMENTS: [&str; 7] = [
    "SELECT id, number, name, region, language, csm_id, created_at FROM customers WHERE id = :customer",
    "SELECT id, customer_id, program, starts_on, ends_on, eula_accepted FROM contracts \
     WHERE customer_id = :customer ORDER BY starts_on, id",
    "SELECT id, customer_id, name, email, phone, language, designated, password_hash FROM contacts \
     WHERE customer_id = :customer ORDER BY id",
    "SELECT id, customer_id, product_line, version, serial FROM products \
     WHERE customer_id = :customer ORDER BY id",
    "SELECT id, product_line, version, position, kind, released_on FROM releases \
     WHERE product_line = :line ORDER BY position DESC",
    // Loads are kept per advisor and severity beside the tickets (see `advisor_loads`).
    "SELECT s.id, s.name, s.region, s.languages, s.available, l.severity, \
     COALESCE(l.open_tickets, 0) AS open_tickets \
     FROM staff s LEFT JOIN advisor_loads l ON l.staff_id = s.id \
     WHERE s.role = 'advisor' AND s.active = TRUE \
     AND s.region = (SELECT region FROM customers WHERE id = :customer) ORDER BY s.id",
    "SELECT o.region, o.staff_id, s.name, o.starts_at, o.ends_at FROM on_call_shifts o \
     JOIN staff s ON s.id = o.staff_id \
     WHERE o.region = (SELECT region FROM customers WHERE id = :customer) \
     AND o.starts_at <= :now AND o.ends_at > :now ORDER BY o.starts_at, o.staff_id",
];

/// The parameters, in the order SQLite numbers them across all statements.
const PARAMETERS: [&str; 3] = [":customer", ":line", ":now"];

impl Store {
    /// What intake needs for a ticket of `customer_id` on `product_line` at `now`.
    pub async fn intake_facts(
        &self,
        policy: &Policy,
        customer_id: i64,
        product_line: &str,
        now: Timestamp,
    ) -> Result<IntakeFacts, StoreError> {
        let results = match self.backend {
            Backend::Sqlite => {
                self.all_in_one_round_trip(customer_id, product_line, now)
                    .await?
            }
            // PostgreSQL takes one statement per query: the seven go out at once, each on a
            // connection of its own, so a ticket waits for the slowest, not for their sum.
            Backend::Postgres => {
                let queries = STATEMENTS.iter().map(|statement| {
                    let (sql, order) = numbered(statement);
                    async move {
                        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for index in order {
                            query = match index {
                                0 => query.bind(customer_id),
                                1 => query.bind(product_line),
                                _ => query.bind(seconds(now)),
                            };
                        }
                        query.fetch_all(&self.pool).await
                    }
                });
                futures_util::future::try_join_all(queries).await?
            }
        };
        let [
            customers,
            contracts,
            contacts,
            products,
            releases,
            advisors,
            shifts,
        ] = <[Vec<AnyRow>; 7]>::try_from(results).map_err(|_| {
            StoreError::Corrupt("intake statements returned a wrong number of results".into())
        })?;
        let customer = customer_of(customers.first().ok_or(StoreError::NotFound)?)?;
        Ok(IntakeFacts {
            customer,
            contracts: contracts
                .iter()
                .map(contract_of)
                .collect::<Result<_, _>>()?,
            contacts: contacts.iter().map(contact_of).collect::<Result<_, _>>()?,
            products: products.iter().map(product_of).collect::<Result<_, _>>()?,
            releases: releases.iter().map(release_of).collect::<Result<_, _>>()?,
            candidates: candidates(policy, &advisors)?,
            on_call: shifts.iter().map(shift_of).collect::<Result<_, _>>()?,
        })
    }

    /// Each advisor's open tickets per severity: as kept beside the tickets (for intake),
    /// and as counted from the tickets themselves. The two always agree; the contract tests
    /// check it after every kind of change.
    pub async fn advisor_loads(&self) -> Result<(AdvisorLoads, AdvisorLoads), StoreError> {
        let read = |sql: &'static str| async move {
            let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
            rows.iter()
                .map(|row| {
                    Ok((
                        (row.try_get("staff_id")?, row.try_get("severity")?),
                        row.try_get("open_tickets")?,
                    ))
                })
                .collect::<Result<AdvisorLoads, StoreError>>()
        };
        let kept = read(
            "SELECT staff_id, severity, open_tickets FROM advisor_loads WHERE open_tickets <> 0",
        )
        .await?;
        let counted = read(
            "SELECT assignee_id AS staff_id, severity, COUNT(*) AS open_tickets FROM tickets \
             WHERE closed_at IS NULL AND assignee_id IS NOT NULL GROUP BY assignee_id, severity",
        )
        .await?;
        Ok((kept, counted))
    }

    /// Every statement sent at once; the rows of each come back split at its end.
    async fn all_in_one_round_trip(
        &self,
        customer_id: i64,
        product_line: &str,
        now: Timestamp,
    ) -> Result<Vec<Vec<AnyRow>>, StoreError> {
        let mut sql = STATEMENTS.join(";\n");
        for (index, name) in PARAMETERS.iter().enumerate() {
            sql = sql.replace(name, &format!("${}", index + 1));
        }
        let mut connection = self.pool.acquire().await?;
        // Several statements in one prepared query: SQLite's driver runs them in order and
        // ends each with its result. sqlx 0.9 deprecates this in favour of `raw_sql`, which
        // cannot bind parameters; the contract tests pin the behaviour on every upgrade.
        #[allow(deprecated)]
        let mut stream = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(customer_id)
            .bind(product_line)
            .bind(seconds(now))
            .fetch_many(&mut *connection);
        let mut results = vec![Vec::new()];
        while let Some(item) = stream.try_next().await? {
            match item {
                Either::Left(_) => results.push(Vec::new()),
                Either::Right(row) => {
                    if let Some(current) = results.last_mut() {
                        current.push(row);
                    }
                }
            }
        }
        // Each statement ends with its result; the last one opens nothing.
        results.pop();
        Ok(results)
    }
}

/// A statement with its named parameters as `$1, $2…` in order of first use, and which
/// parameter each number is.
fn numbered(statement: &str) -> (String, Vec<usize>) {
    let mut sql = statement.to_string();
    let mut order: Vec<(usize, usize)> = PARAMETERS
        .iter()
        .enumerate()
        .filter_map(|(index, name)| statement.find(name).map(|at| (at, index)))
        .collect();
    order.sort_unstable();
    let order: Vec<usize> = order.into_iter().map(|(_, index)| index).collect();
    for (number, index) in order.iter().enumerate() {
        sql = sql.replace(PARAMETERS[*index], &format!("${}", number + 1));
    }
    (sql, order)
}

/// One candidate per advisor, their open tickets weighted by the policy's `load_weight`.
fn candidates(policy: &Policy, rows: &[AnyRow]) -> Result<Vec<Candidate>, StoreError> {
    let mut candidates: Vec<Candidate> = Vec::new();
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let severity: Option<String> = row.try_get("severity")?;
        let open: i64 = row.try_get("open_tickets")?;
        // A severity the policy no longer has counts once.
        let weight = severity
            .and_then(|name| policy.severity(&name).ok())
            .map_or(1, |severity| u64::from(severity.load_weight));
        let load = weight * u64::try_from(open).unwrap_or(0);
        match candidates.last_mut() {
            Some(last) if last.id == id => last.load += load,
            _ => {
                let languages: String = row.try_get("languages")?;
                candidates.push(Candidate {
                    id,
                    name: row.try_get("name")?,
                    region: row.try_get("region")?,
                    languages: languages
                        .split(',')
                        .filter(|code| !code.is_empty())
                        .map(str::to_string)
                        .collect(),
                    available: flag(row, "available")?,
                    load,
                });
            }
        }
    }
    Ok(candidates)
}

fn shift_of(row: &AnyRow) -> Result<OnCallShift, StoreError> {
    Ok(OnCallShift {
        region: row.try_get("region")?,
        staff_id: row.try_get("staff_id")?,
        staff_name: row.try_get("name")?,
        starts_at: instant(row.try_get("starts_at")?)?,
        ends_at: instant(row.try_get("ends_at")?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_in_order_of_first_use_per_statement() {
        let (sql, order) = numbered("SELECT 1 WHERE a = :now AND b = :customer AND c = :now");
        assert_eq!(sql, "SELECT 1 WHERE a = $1 AND b = $2 AND c = $1");
        assert_eq!(order, [2, 0]);
    }
}

//! Customers and what belongs to them: contacts, care contracts, registered products.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::{Any, Executor};

use crate::audit::{Recorded, snapshot};
use crate::columns::Columns;
use crate::{Store, StoreError, instant, seconds};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub region: String,
    pub language: String,
    /// The dedicated customer success manager (gold and platinum, POLICY.md §1).
    pub csm_id: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCustomer {
    pub number: String,
    pub name: String,
    pub region: String,
    pub language: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub id: i64,
    pub customer_id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub language: String,
    pub designated: bool,
    #[serde(skip)]
    pub password_hash: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewContact {
    pub customer_id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub language: String,
    pub designated: bool,
    pub password_hash: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contract {
    pub id: i64,
    pub customer_id: i64,
    pub program: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub eula_accepted: bool,
    /// When the licence agreement was accepted (for contracts accepted when they were made
    /// before this was kept: when the contract was made).
    pub eula_accepted_at: Option<Timestamp>,
    /// Who accepted it, as a caller key (`contact:7`, `staff:3`, `system`); none when not
    /// known.
    pub eula_accepted_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewContract {
    pub customer_id: i64,
    pub program: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub eula_accepted: bool,
}

/// A registered product.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Product {
    pub id: i64,
    pub customer_id: i64,
    pub product_line: String,
    /// The version registered (as the customer last said it runs).
    pub version: String,
    pub serial: String,
    pub licence: Licence,
}

/// What a registered product was sold as (POLICY.md §9).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Licence {
    /// One of the product line's editions in the policy, when it names them.
    pub edition: Option<String>,
    /// The highest version it was bought for: without valid care, updates stay within
    /// this version's major release.
    pub licensed_version: String,
    /// How many installations may be active at once.
    pub installations: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewProduct {
    pub customer_id: i64,
    pub product_line: String,
    pub version: String,
    pub serial: String,
    pub licence: LicenceTerms,
}

/// A licence as registered: what is not given takes its default (no edition, the version
/// registered, one installation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LicenceTerms {
    pub edition: Option<String>,
    pub licensed_version: Option<String>,
    pub installations: Option<i64>,
}

impl Store {
    pub async fn create_customer(
        &self,
        new: &NewCustomer,
        now: Timestamp,
    ) -> Result<Customer, StoreError> {
        let mut transaction = self.begin_write().await?;
        let created = insert_customer(&mut *transaction, new, now).await?;
        self.record_new(
            &mut transaction,
            "customer",
            created.id,
            "created",
            &created,
        )
        .await?;
        transaction.commit().await?;
        Ok(created)
    }

    pub async fn customer(&self, id: i64) -> Result<Customer, StoreError> {
        customer_in(&self.pool, id).await
    }

    /// Names (or, with `None`, removes) the customer's dedicated customer success manager.
    pub async fn set_csm(
        &self,
        customer_id: i64,
        csm_id: Option<i64>,
    ) -> Result<Customer, StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_row(&mut transaction, "customers", customer_id)
            .await?;
        let before = customer_in(&mut *transaction, customer_id).await?;
        sqlx::query("UPDATE customers SET csm_id = $1 WHERE id = $2")
            .bind(csm_id)
            .bind(customer_id)
            .execute(&mut *transaction)
            .await?;
        let after = customer_in(&mut *transaction, customer_id).await?;
        let change = Recorded {
            entity: "customer",
            entity_id: Some(customer_id),
            action: "csm_changed",
            before: snapshot(&before),
            after: snapshot(&after),
        };
        self.record_change(&mut transaction, change).await?;
        transaction.commit().await?;
        Ok(after)
    }

    pub async fn customer_by_number(&self, number: &str) -> Result<Customer, StoreError> {
        let row = sqlx::query(
            "SELECT id, number, name, region, language, csm_id, created_at FROM customers WHERE number = $1",
        )
        .bind(number)
        .fetch_one(&self.pool)
        .await?;
        customer_of(&row)
    }

    pub async fn customers(&self) -> Result<Vec<Customer>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, number, name, region, language, csm_id, created_at FROM customers ORDER BY number",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(customer_of).collect()
    }

    pub async fn create_contact(
        &self,
        new: &NewContact,
        now: Timestamp,
    ) -> Result<Contact, StoreError> {
        let mut transaction = self.begin_write().await?;
        let created = insert_contact(&mut *transaction, new, now).await?;
        self.record_new(&mut transaction, "contact", created.id, "created", &created)
            .await?;
        transaction.commit().await?;
        Ok(created)
    }

    pub async fn contact(&self, id: i64) -> Result<Contact, StoreError> {
        let row = sqlx::query(format_contact_query("id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        contact_of(&row)
    }

    /// The contact with this e-mail address (compared without regard to case).
    pub async fn contact_by_email(&self, email: &str) -> Result<Contact, StoreError> {
        let row = sqlx::query(format_contact_query("email = $1"))
            .bind(email.trim().to_lowercase())
            .fetch_one(&self.pool)
            .await?;
        contact_of(&row)
    }

    pub async fn contacts_of(&self, customer_id: i64) -> Result<Vec<Contact>, StoreError> {
        let rows = sqlx::query(format_contact_query("customer_id = $1 ORDER BY id"))
            .bind(customer_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(contact_of).collect()
    }

    pub async fn create_contract(
        &self,
        new: &NewContract,
        now: Timestamp,
    ) -> Result<Contract, StoreError> {
        let mut transaction = self.begin_write().await?;
        let created = insert_contract(&mut *transaction, new, self.actor(), now).await?;
        self.record_new(
            &mut transaction,
            "contract",
            created.id,
            "created",
            &created,
        )
        .await?;
        transaction.commit().await?;
        Ok(created)
    }

    /// Every care contract, by customer then start.
    pub async fn contracts(&self) -> Result<Vec<Contract>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, customer_id, program, starts_on, ends_on, eula_accepted, \
             eula_accepted_at, eula_accepted_by \
             FROM contracts ORDER BY customer_id, starts_on, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(contract_of).collect()
    }

    pub async fn contract(&self, id: i64) -> Result<Contract, StoreError> {
        contract_in(&self.pool, id).await
    }

    /// Records that the contract's licence agreement is accepted, now, by the audited
    /// caller; a contract already accepted is left as it is (and returned).
    pub async fn accept_licence(&self, id: i64, now: Timestamp) -> Result<Contract, StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_row(&mut transaction, "contracts", id).await?;
        let before = contract_in(&mut *transaction, id).await?;
        if before.eula_accepted {
            return Ok(before);
        }
        sqlx::query(
            "UPDATE contracts SET eula_accepted = TRUE, eula_accepted_at = $1, \
             eula_accepted_by = $2 WHERE id = $3",
        )
        .bind(seconds(now))
        .bind(self.actor())
        .bind(id)
        .execute(&mut *transaction)
        .await?;
        let after = contract_in(&mut *transaction, id).await?;
        let change = Recorded {
            entity: "contract",
            entity_id: Some(id),
            action: "licence_accepted",
            before: snapshot(&before),
            after: snapshot(&after),
        };
        self.record_change(&mut transaction, change).await?;
        transaction.commit().await?;
        Ok(after)
    }

    pub async fn contracts_of(&self, customer_id: i64) -> Result<Vec<Contract>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, customer_id, program, starts_on, ends_on, eula_accepted, \
             eula_accepted_at, eula_accepted_by \
             FROM contracts WHERE customer_id = $1 ORDER BY starts_on, id",
        )
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(contract_of).collect()
    }

    pub async fn register_product(
        &self,
        new: &NewProduct,
        now: Timestamp,
    ) -> Result<Product, StoreError> {
        let mut transaction = self.begin_write().await?;
        let created = insert_product(&mut *transaction, new, now).await?;
        self.record_new(&mut transaction, "product", created.id, "created", &created)
            .await?;
        transaction.commit().await?;
        Ok(created)
    }

    pub async fn products_of(&self, customer_id: i64) -> Result<Vec<Product>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM products WHERE customer_id = $1 ORDER BY id",
            PRODUCT_COLUMNS.join(", ")
        )))
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(product_of).collect()
    }

    /// Every registered product of `product_line`, by customer.
    pub async fn products_of_line(&self, product_line: &str) -> Result<Vec<Product>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM products WHERE product_line = $1 ORDER BY customer_id, id",
            PRODUCT_COLUMNS.join(", ")
        )))
        .bind(product_line)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(product_of).collect()
    }

    /// Registered product `id`.
    pub async fn product(&self, id: i64) -> Result<Product, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM products WHERE id = $1",
            PRODUCT_COLUMNS.join(", ")
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        product_of(&row)
    }

    pub async fn product_by_serial(&self, serial: &str) -> Result<Product, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM products WHERE serial = $1",
            PRODUCT_COLUMNS.join(", ")
        )))
        .bind(serial)
        .fetch_one(&self.pool)
        .await?;
        product_of(&row)
    }

    /// Writes customers, contacts, contracts and products in one transaction: all of them,
    /// or (on any error) none.
    pub async fn import(
        &self,
        batch: &ImportBatch,
        now: Timestamp,
    ) -> Result<ImportCounts, StoreError> {
        let mut transaction = self.begin_write().await?;
        let mut counts = ImportCounts::default();
        for customer in &batch.customers {
            let created = insert_customer(&mut *transaction, customer, now).await?;
            self.record_new(
                &mut transaction,
                "customer",
                created.id,
                "imported",
                &created,
            )
            .await?;
            counts.customers += 1;
        }
        for (customer_number, contact) in &batch.contacts {
            let customer_id = customer_id_of(&mut *transaction, customer_number).await?;
            let created = insert_contact(
                &mut *transaction,
                &NewContact {
                    customer_id,
                    ..contact.clone()
                },
                now,
            )
            .await?;
            self.record_new(
                &mut transaction,
                "contact",
                created.id,
                "imported",
                &created,
            )
            .await?;
            counts.contacts += 1;
        }
        for (customer_number, contract) in &batch.contracts {
            let customer_id = customer_id_of(&mut *transaction, customer_number).await?;
            let created = insert_contract(
                &mut *transaction,
                &NewContract {
                    customer_id,
                    ..contract.clone()
                },
                self.actor(),
                now,
            )
            .await?;
            self.record_new(
                &mut transaction,
                "contract",
                created.id,
                "imported",
                &created,
            )
            .await?;
            counts.contracts += 1;
        }
        for (customer_number, product) in &batch.products {
            let customer_id = customer_id_of(&mut *transaction, customer_number).await?;
            let created = insert_product(
                &mut *transaction,
                &NewProduct {
                    customer_id,
                    ..product.clone()
                },
                now,
            )
            .await?;
            self.record_new(
                &mut transaction,
                "product",
                created.id,
                "imported",
                &created,
            )
            .await?;
            counts.products += 1;
        }
        transaction.commit().await?;
        Ok(counts)
    }
}

/// Rows to import, contacts, contracts and products naming their customer by number
/// (the `customer_id` inside them is ignored).
#[derive(Clone, Debug, Default)]
pub struct ImportBatch {
    pub customers: Vec<NewCustomer>,
    pub contacts: Vec<(String, NewContact)>,
    pub contracts: Vec<(String, NewContract)>,
    pub products: Vec<(String, NewProduct)>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub customers: usize,
    pub contacts: usize,
    pub contracts: usize,
    pub products: usize,
}

async fn customer_id_of<'e>(
    executor: impl Executor<'e, Database = Any>,
    number: &str,
) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT id FROM customers WHERE number = $1")
        .bind(number)
        .fetch_optional(executor)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("no customer numbered \"{number}\"")))
}

async fn customer_in<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Customer, StoreError> {
    let row = sqlx::query(
        "SELECT id, number, name, region, language, csm_id, created_at FROM customers WHERE id = $1",
    )
    .bind(id)
    .fetch_one(executor)
    .await?;
    customer_of(&row)
}

async fn insert_customer<'e>(
    executor: impl Executor<'e, Database = Any>,
    new: &NewCustomer,
    now: Timestamp,
) -> Result<Customer, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO customers (number, name, region, language, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&new.number)
    .bind(&new.name)
    .bind(&new.region)
    .bind(&new.language)
    .bind(seconds(now))
    .fetch_one(executor)
    .await?;
    Ok(Customer {
        id,
        number: new.number.clone(),
        name: new.name.clone(),
        region: new.region.clone(),
        language: new.language.clone(),
        csm_id: None,
        created_at: instant(seconds(now))?,
    })
}

async fn insert_contact<'e>(
    executor: impl Executor<'e, Database = Any>,
    new: &NewContact,
    now: Timestamp,
) -> Result<Contact, StoreError> {
    let email = new.email.trim().to_lowercase();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO contacts (customer_id, name, email, phone, language, designated, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.customer_id)
    .bind(&new.name)
    .bind(&email)
    .bind(&new.phone)
    .bind(&new.language)
    .bind(new.designated)
    .bind(new.password_hash.as_deref())
    .bind(seconds(now))
    .fetch_one(executor)
    .await?;
    Ok(Contact {
        id,
        customer_id: new.customer_id,
        name: new.name.clone(),
        email,
        phone: new.phone.clone(),
        language: new.language.clone(),
        designated: new.designated,
        password_hash: new.password_hash.clone(),
    })
}

async fn contract_in<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Contract, StoreError> {
    let row = sqlx::query(
        "SELECT id, customer_id, program, starts_on, ends_on, eula_accepted, \
         eula_accepted_at, eula_accepted_by FROM contracts WHERE id = $1",
    )
    .bind(id)
    .fetch_one(executor)
    .await?;
    contract_of(&row)
}

/// Writes a contract; one made with its licence accepted says so from now, by `actor`.
async fn insert_contract<'e>(
    executor: impl Executor<'e, Database = Any>,
    new: &NewContract,
    actor: Option<&str>,
    now: Timestamp,
) -> Result<Contract, StoreError> {
    let (accepted_at, accepted_by) = if new.eula_accepted {
        (Some(now), actor.map(str::to_string))
    } else {
        (None, None)
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO contracts (customer_id, program, starts_on, ends_on, eula_accepted, \
         created_at, eula_accepted_at, eula_accepted_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.customer_id)
    .bind(&new.program)
    .bind(new.starts_on.to_string())
    .bind(new.ends_on.to_string())
    .bind(new.eula_accepted)
    .bind(seconds(now))
    .bind(accepted_at.map(seconds))
    .bind(&accepted_by)
    .fetch_one(executor)
    .await?;
    Ok(Contract {
        id,
        customer_id: new.customer_id,
        program: new.program.clone(),
        starts_on: new.starts_on,
        ends_on: new.ends_on,
        eula_accepted: new.eula_accepted,
        eula_accepted_at: accepted_at,
        eula_accepted_by: accepted_by,
    })
}

async fn insert_product<'e>(
    executor: impl Executor<'e, Database = Any>,
    new: &NewProduct,
    now: Timestamp,
) -> Result<Product, StoreError> {
    let installations = new.licence.installations.unwrap_or(1);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO products (customer_id, product_line, version, serial, created_at, \
         edition, licensed_version, installations) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.customer_id)
    .bind(&new.product_line)
    .bind(&new.version)
    .bind(&new.serial)
    .bind(seconds(now))
    .bind(&new.licence.edition)
    .bind(&new.licence.licensed_version)
    .bind(installations)
    .fetch_one(executor)
    .await?;
    Ok(Product {
        id,
        customer_id: new.customer_id,
        product_line: new.product_line.clone(),
        version: new.version.clone(),
        serial: new.serial.clone(),
        licence: Licence {
            edition: new.licence.edition.clone(),
            licensed_version: new
                .licence
                .licensed_version
                .clone()
                .unwrap_or_else(|| new.version.clone()),
            installations,
        },
    })
}

fn format_contact_query(condition: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!(
        "SELECT id, customer_id, name, email, phone, language, designated, password_hash \
         FROM contacts WHERE {condition}"
    ))
}

pub(crate) fn customer_of(row: &impl Columns) -> Result<Customer, StoreError> {
    Ok(Customer {
        id: row.int("id")?,
        number: row.text("number")?,
        name: row.text("name")?,
        region: row.text("region")?,
        language: row.text("language")?,
        csm_id: row.optional_int("csm_id")?,
        created_at: instant(row.int("created_at")?)?,
    })
}

pub(crate) fn contact_of(row: &impl Columns) -> Result<Contact, StoreError> {
    Ok(Contact {
        id: row.int("id")?,
        customer_id: row.int("customer_id")?,
        name: row.text("name")?,
        email: row.text("email")?,
        phone: row.text("phone")?,
        language: row.text("language")?,
        designated: row.flag("designated")?,
        password_hash: row.optional_text("password_hash")?,
    })
}

pub(crate) fn contract_of(row: &impl Columns) -> Result<Contract, StoreError> {
    Ok(Contract {
        id: row.int("id")?,
        customer_id: row.int("customer_id")?,
        program: row.text("program")?,
        starts_on: date(row.text("starts_on")?)?,
        ends_on: date(row.text("ends_on")?)?,
        eula_accepted: row.flag("eula_accepted")?,
        eula_accepted_at: row
            .optional_int("eula_accepted_at")?
            .map(instant)
            .transpose()?,
        eula_accepted_by: row.optional_text("eula_accepted_by")?,
    })
}

/// The columns [`product_of`] reads.
pub(crate) const PRODUCT_COLUMNS: [&str; 8] = [
    "id",
    "customer_id",
    "product_line",
    "version",
    "serial",
    "edition",
    "licensed_version",
    "installations",
];

pub(crate) fn product_of(row: &impl Columns) -> Result<Product, StoreError> {
    let version = row.text("version")?;
    Ok(Product {
        id: row.int("id")?,
        customer_id: row.int("customer_id")?,
        product_line: row.text("product_line")?,
        serial: row.text("serial")?,
        licence: Licence {
            edition: row.optional_text("edition")?,
            licensed_version: row
                .optional_text("licensed_version")?
                .unwrap_or_else(|| version.clone()),
            installations: row.int("installations")?,
        },
        version,
    })
}

pub(crate) fn date(text: String) -> Result<Date, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("\"{text}\" is not a date")))
}

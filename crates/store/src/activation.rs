//! Product activation (POLICY.md §9): the desk's signing key, customers' one-time
//! activation passwords (hashes only), and each activation of a registered product on a
//! machine with who made it and undid it, when and from where. The rules (what a password
//! is, how many installations, what a code says) are the desk's and the domain's; here they
//! are kept so that two requests at once cannot both take the last installation or both use
//! one password.

use jiff::Timestamp;
use serde::Serialize;

use crate::audit::{Recorded, snapshot};
use crate::columns::Columns;
use crate::customers::{PRODUCT_COLUMNS, Product, product_of};
use crate::tokens::token_hash;
use crate::{Store, StoreError, instant, seconds};

/// The key that signs activation codes, as stored (hexadecimal).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub public_key: String,
    pub private_key: String,
}

/// The private half never goes to a log.
impl std::fmt::Debug for StoredKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StoredKey")
            .field("public_key", &self.public_key)
            .field("private_key", &"…")
            .finish()
    }
}

/// A customer's one-time activation password, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivationPassword {
    pub customer_id: i64,
    pub password_hash: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// A registered product activated on a machine.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Activation {
    pub id: i64,
    pub product_id: i64,
    pub machine_id: String,
    /// The activation code given for it.
    pub code: String,
    /// The highest version the code allows.
    pub highest_version: String,
    pub activated_at: Timestamp,
    /// Who activated it: `contact:7`, `customer:3` (with the one-time password), `staff:2`.
    pub activated_by: String,
    /// The client's address.
    pub activated_from: String,
    pub deactivated_at: Option<Timestamp>,
    pub deactivated_by: Option<String>,
    pub deactivated_from: Option<String>,
}

impl Activation {
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }
}

/// An activation manager session to open with a one-time password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewActivationSession<'a> {
    /// The secret given to the browser; only its hash is kept.
    pub secret: &'a str,
    pub expires_at: Timestamp,
    /// The client's address.
    pub address: &'a str,
}

/// An activation to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewActivation {
    pub product_id: i64,
    pub machine_id: String,
    pub code: String,
    pub highest_version: String,
    pub by: String,
    pub from: String,
}

/// What recording an activation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Activated {
    /// A new installation.
    New(Activation),
    /// The machine was active already: its activation as it stands (the same code).
    Already(Activation),
    /// Every installation the licence allows is active.
    AllInUse { installations: i64 },
}

const ACTIVATION_COLUMNS: &str = "id, product_id, machine_id, code, highest_version, \
     activated_at, activated_by, activated_from, deactivated_at, deactivated_by, deactivated_from";

impl Store {
    /// The signing key: the stored one, or `candidate` stored now when there is none yet.
    /// Instances that start together all end up with the first one written.
    pub async fn activation_key(
        &self,
        candidate: &StoredKey,
        now: Timestamp,
    ) -> Result<StoredKey, StoreError> {
        if let Some(key) = self.stored_activation_key().await? {
            return Ok(key);
        }
        let mut transaction = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO activation_keys (id, public_key, private_key, created_at) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&candidate.public_key)
        .bind(&candidate.private_key)
        .bind(seconds(now))
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        self.stored_activation_key()
            .await?
            .ok_or_else(|| StoreError::Corrupt("the activation key was not kept".into()))
    }

    async fn stored_activation_key(&self) -> Result<Option<StoredKey>, StoreError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT public_key, private_key FROM activation_keys WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(public_key, private_key)| StoredKey {
            public_key,
            private_key,
        }))
    }

    /// Gives customer `customer_id` a new one-time password (its hash), voiding any earlier
    /// one and ending the sessions it opened; recorded in the audit trail without the hash.
    pub async fn issue_activation_password(
        &self,
        customer_id: i64,
        password_hash: &str,
        issued_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO activation_passwords \
             (customer_id, password_hash, issued_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, NULL) \
             ON CONFLICT (customer_id) DO UPDATE SET password_hash = excluded.password_hash, \
             issued_at = excluded.issued_at, expires_at = excluded.expires_at, used_at = NULL",
        )
        .bind(customer_id)
        .bind(password_hash)
        .bind(seconds(issued_at))
        .bind(seconds(expires_at))
        .execute(&mut *transaction)
        .await?;
        // A password issued again (perhaps because the old one leaked) ends the activation
        // manager sessions the old one opened.
        sqlx::query("DELETE FROM activation_sessions WHERE customer_id = $1")
            .bind(customer_id)
            .execute(&mut *transaction)
            .await?;
        #[derive(Serialize)]
        struct Issued {
            customer_id: i64,
            expires_at: Timestamp,
        }
        self.record_change(
            &mut transaction,
            Recorded {
                entity: "activation_password",
                entity_id: Some(customer_id),
                action: "issued",
                before: None,
                after: snapshot(&Issued {
                    customer_id,
                    expires_at,
                }),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Customer `customer_id`'s current one-time password, used or not.
    pub async fn activation_password(
        &self,
        customer_id: i64,
    ) -> Result<Option<ActivationPassword>, StoreError> {
        let row = sqlx::query(
            "SELECT customer_id, password_hash, issued_at, expires_at, used_at \
             FROM activation_passwords WHERE customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(ActivationPassword {
                customer_id: row.int("customer_id")?,
                password_hash: row.text("password_hash")?,
                issued_at: instant(row.int("issued_at")?)?,
                expires_at: instant(row.int("expires_at")?)?,
                used_at: row.optional_int("used_at")?.map(instant).transpose()?,
            })
        })
        .transpose()
    }

    /// Uses up the password whose hash was checked and opens the activation manager
    /// session `secret` for its customer until `session_expires_at`, in one transaction:
    /// true when this call did both, false (and nothing written) when the password was
    /// used, replaced or expired meanwhile.
    pub async fn use_activation_password(
        &self,
        customer_id: i64,
        password_hash: &str,
        session: &NewActivationSession<'_>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.begin_write().await?;
        let used = sqlx::query(
            "UPDATE activation_passwords SET used_at = $1 \
             WHERE customer_id = $2 AND password_hash = $3 AND used_at IS NULL \
             AND expires_at > $1",
        )
        .bind(seconds(now))
        .bind(customer_id)
        .bind(password_hash)
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            == 1;
        if !used {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO activation_sessions (token_hash, customer_id, created_at, expires_at, address) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(session.secret))
        .bind(customer_id)
        .bind(seconds(now))
        .bind(seconds(session.expires_at))
        .bind(session.address)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Records an activation unless the machine is active already or every installation
    /// of the product's licence is, counted under the product's lock so that two requests
    /// cannot both take the last one.
    pub async fn activate(
        &self,
        new: &NewActivation,
        now: Timestamp,
    ) -> Result<Activated, StoreError> {
        let mut transaction = self.begin_write().await?;
        let installations: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT installations FROM products WHERE id = $1{}",
            self.for_update()
        )))
        .bind(new.product_id)
        .fetch_optional(&mut *transaction)
        .await?
        .ok_or(StoreError::NotFound)?;
        let active = read_activations(
            &mut *transaction,
            "product_id = $1 AND deactivated_at IS NULL",
            new.product_id,
        )
        .await?;
        if let Some(same) = active
            .iter()
            .find(|activation| activation.machine_id == new.machine_id)
        {
            return Ok(Activated::Already(same.clone()));
        }
        if i64::try_from(active.len()).unwrap_or(i64::MAX) >= installations {
            return Ok(Activated::AllInUse { installations });
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO activations (product_id, machine_id, code, highest_version, \
             activated_at, activated_by, activated_from) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(new.product_id)
        .bind(&new.machine_id)
        .bind(&new.code)
        .bind(&new.highest_version)
        .bind(seconds(now))
        .bind(&new.by)
        .bind(&new.from)
        .fetch_one(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Activated::New(Activation {
            id,
            product_id: new.product_id,
            machine_id: new.machine_id.clone(),
            code: new.code.clone(),
            highest_version: new.highest_version.clone(),
            activated_at: instant(seconds(now))?,
            activated_by: new.by.clone(),
            activated_from: new.from.clone(),
            deactivated_at: None,
            deactivated_by: None,
            deactivated_from: None,
        }))
    }

    /// Deactivates activation `id` (a machine changed): kept, marked with who, when and
    /// from where. An activation already deactivated is a conflict.
    pub async fn deactivate(
        &self,
        id: i64,
        by: &str,
        from: &str,
        now: Timestamp,
    ) -> Result<Activation, StoreError> {
        let mut transaction = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE activations SET deactivated_at = $1, deactivated_by = $2, \
             deactivated_from = $3 WHERE id = $4 AND deactivated_at IS NULL",
        )
        .bind(seconds(now))
        .bind(by)
        .bind(from)
        .bind(id)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        let after = read_activations(&mut *transaction, "id = $1", id)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)?;
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "the activation on {} was deactivated already",
                after.machine_id
            )));
        }
        transaction.commit().await?;
        Ok(after)
    }

    /// Whether any activation was ever recorded (its code signed with the desk's key).
    pub async fn any_activation(&self) -> Result<bool, StoreError> {
        let any: Option<i64> = sqlx::query_scalar("SELECT id FROM activations LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(any.is_some())
    }

    /// Activation `id`.
    pub async fn activation(&self, id: i64) -> Result<Activation, StoreError> {
        read_activations(&self.pool, "id = $1", id)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    /// Every activation of product `product_id`, deactivated ones too, newest first.
    pub async fn activations_of(&self, product_id: i64) -> Result<Vec<Activation>, StoreError> {
        read_activations(&self.pool, "product_id = $1", product_id).await
    }

    /// The product `serial` and the code of its active activation on `machine_id`, if it
    /// has one: what an update check reads, in one query.
    pub async fn product_activated_on(
        &self,
        serial: &str,
        machine_id: &str,
    ) -> Result<(Product, Option<String>), StoreError> {
        let columns: Vec<String> = PRODUCT_COLUMNS
            .iter()
            .map(|column| format!("p.{column}"))
            .collect();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {}, a.code AS activation_code FROM products p \
             LEFT JOIN activations a ON a.product_id = p.id AND a.machine_id = $2 \
             AND a.deactivated_at IS NULL \
             WHERE p.serial = $1",
            columns.join(", ")
        )))
        .bind(serial)
        .bind(machine_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((product_of(&row)?, row.optional_text("activation_code")?))
    }

    /// The active activation of a product on a machine, if any.
    pub async fn active_activation(
        &self,
        product_id: i64,
        machine_id: &str,
    ) -> Result<Option<Activation>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ACTIVATION_COLUMNS} FROM activations \
             WHERE product_id = $1 AND machine_id = $2 AND deactivated_at IS NULL"
        )))
        .bind(product_id)
        .bind(machine_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(activation_of).transpose()
    }
}

async fn read_activations<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    condition: &'static str,
    value: i64,
) -> Result<Vec<Activation>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ACTIVATION_COLUMNS} FROM activations WHERE {condition} ORDER BY id DESC"
    )))
    .bind(value)
    .fetch_all(executor)
    .await?;
    rows.iter().map(activation_of).collect()
}

fn activation_of(row: &impl Columns) -> Result<Activation, StoreError> {
    Ok(Activation {
        id: row.int("id")?,
        product_id: row.int("product_id")?,
        machine_id: row.text("machine_id")?,
        code: row.text("code")?,
        highest_version: row.text("highest_version")?,
        activated_at: instant(row.int("activated_at")?)?,
        activated_by: row.text("activated_by")?,
        activated_from: row.text("activated_from")?,
        deactivated_at: row
            .optional_int("deactivated_at")?
            .map(instant)
            .transpose()?,
        deactivated_by: row.optional_text("deactivated_by")?,
        deactivated_from: row.optional_text("deactivated_from")?,
    })
}

/// Sessions of the activation manager, opened with a customer number and a one-time
/// password: only the hash of their secret is kept.
impl Store {
    /// The customer of an unexpired activation manager session.
    pub async fn activation_session_customer(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "SELECT customer_id FROM activation_sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash(secret))
        .bind(seconds(now))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// Ends an activation manager session (and any that expired before `now`).
    pub async fn close_activation_session(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM activation_sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash(secret))
            .bind(seconds(now))
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

//! Professional-services requests: custom programming outside the products' native
//! languages, recorded at intake instead of a ticket and worked through its own states.

use caredesk_domain::services::{ServiceChange, ServiceRefusal, ServiceState};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Scope;
use crate::tickets::Created;
use crate::{
    SqlBuilder, Store, StoreError, id_by_idempotency_key, instant, require_version, seconds,
};

/// What intake records for a professional-services request.
#[derive(Clone, Debug)]
pub struct NewServiceRequest {
    pub customer_id: i64,
    pub contact_id: Option<i64>,
    pub product_line: String,
    pub version: String,
    pub programming_language: String,
    pub subject: String,
    pub description: String,
    /// Why it is professional services, as the customer is told.
    pub reason: String,
    pub created_by: String,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    /// What it comes from, when one thing makes one request whoever asks: a ticket's
    /// decision that it is outside support (`ticket:12:declared:7`).
    pub source: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceRequest {
    pub id: i64,
    pub customer_id: i64,
    pub contact_id: Option<i64>,
    pub product_line: String,
    pub version: String,
    pub programming_language: String,
    pub subject: String,
    pub description: String,
    pub reason: String,
    pub state: ServiceState,
    pub quote: Option<String>,
    pub quoted_by: Option<String>,
    pub quoted_at: Option<Timestamp>,
    /// The customer's acceptance note, or why it was declined.
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<Timestamp>,
    /// Send it back in `If-Match` to act only on this version.
    pub version_number: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A request as stored, and whether an earlier request with the same idempotency key made it.
#[derive(Clone, Debug)]
pub struct RecordedServiceRequest {
    pub request: ServiceRequest,
    pub replayed: bool,
}

/// What an earlier request with the same idempotency key became.
#[derive(Clone, Debug)]
pub enum EarlierRequest {
    Ticket(Box<Created>),
    ServiceRequest(Box<RecordedServiceRequest>),
}

/// Why a change to a request did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceUpdateError {
    #[error(transparent)]
    Refused(ServiceRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ServiceUpdateError {
    fn from(error: sqlx::Error) -> Self {
        ServiceUpdateError::Store(error.into())
    }
}

const SERVICE_COLUMNS: &str = "id, customer_id, contact_id, product_line, version, \
     programming_language, subject, description, reason, state, quote, quoted_by, quoted_at, \
     answer, answered_by, answered_at, version_number, created_by, created_at, updated_at";

impl Store {
    /// Records a request; with an idempotency key its caller already used, returns the
    /// request that key made (a conflict if the request itself differs).
    pub async fn create_service_request(
        &self,
        new: &NewServiceRequest,
        now: Timestamp,
    ) -> Result<RecordedServiceRequest, StoreError> {
        if let Some(found) = self.replay_service_request(new).await? {
            return Ok(found);
        }
        if let Some(found) = self.service_request_from(new.source.as_deref()).await? {
            return Ok(found);
        }
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO service_requests (customer_id, contact_id, product_line, version, \
             programming_language, subject, description, reason, state, version_number, \
             created_by, created_at, updated_at, idempotency_key, request_hash, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $11, $12, $13, $14) RETURNING id",
        )
        .bind(new.customer_id)
        .bind(new.contact_id)
        .bind(&new.product_line)
        .bind(&new.version)
        .bind(&new.programming_language)
        .bind(&new.subject)
        .bind(&new.description)
        .bind(&new.reason)
        .bind(ServiceState::Requested.as_str())
        .bind(&new.created_by)
        .bind(seconds(now))
        .bind(new.idempotency_key.as_deref())
        .bind(new.request_hash.as_deref())
        .bind(new.source.as_deref())
        .fetch_one(&self.writer)
        .await;
        match inserted {
            Ok(id) => Ok(RecordedServiceRequest {
                request: self.service_request(id, Scope::All).await?,
                replayed: false,
            }),
            // Two requests with one key, or from one source, raced; the other one won.
            Err(error) => match StoreError::from(error) {
                StoreError::Conflict(_)
                    if new.idempotency_key.is_some() || new.source.is_some() =>
                {
                    match self.replay_service_request(new).await? {
                        Some(found) => Ok(found),
                        None => self
                            .service_request_from(new.source.as_deref())
                            .await?
                            .ok_or_else(|| {
                                StoreError::Conflict("the request could not be recorded".into())
                            }),
                    }
                }
                other => Err(other),
            },
        }
    }

    /// The request made from `source`, if any.
    pub async fn service_request_from(
        &self,
        source: Option<&str>,
    ) -> Result<Option<RecordedServiceRequest>, StoreError> {
        let Some(source) = source else {
            return Ok(None);
        };
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM service_requests WHERE source = $1")
                .bind(source)
                .fetch_optional(&self.pool)
                .await?;
        match id {
            Some(id) => Ok(Some(RecordedServiceRequest {
                request: self.service_request(id, Scope::All).await?,
                replayed: true,
            })),
            None => Ok(None),
        }
    }

    async fn replay_service_request(
        &self,
        new: &NewServiceRequest,
    ) -> Result<Option<RecordedServiceRequest>, StoreError> {
        let Some(key) = &new.idempotency_key else {
            return Ok(None);
        };
        self.service_request_by_key(&new.created_by, key, new.request_hash.as_deref())
            .await
    }

    /// What an earlier `POST /tickets` of `created_by` with this idempotency key became: a
    /// ticket or a professional-services request; a conflict if that request differed.
    pub async fn earlier_request(
        &self,
        created_by: &str,
        key: &str,
        request_hash: Option<&str>,
    ) -> Result<Option<EarlierRequest>, StoreError> {
        if let Some(created) = self.ticket_by_key(created_by, key, request_hash).await? {
            return Ok(Some(EarlierRequest::Ticket(Box::new(created))));
        }
        Ok(self
            .service_request_by_key(created_by, key, request_hash)
            .await?
            .map(|recorded| EarlierRequest::ServiceRequest(Box::new(recorded))))
    }

    async fn service_request_by_key(
        &self,
        created_by: &str,
        key: &str,
        request_hash: Option<&str>,
    ) -> Result<Option<RecordedServiceRequest>, StoreError> {
        let Some(id) = id_by_idempotency_key(
            &self.pool,
            "service_requests",
            created_by,
            key,
            request_hash,
        )
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(RecordedServiceRequest {
            request: self.service_request(id, Scope::All).await?,
            replayed: true,
        }))
    }

    /// A request, if the scope lets the caller see it (otherwise `NotFound`).
    pub async fn service_request(
        &self,
        id: i64,
        scope: Scope,
    ) -> Result<ServiceRequest, StoreError> {
        let mut query = SqlBuilder::new(&format!(
            "SELECT {SERVICE_COLUMNS} FROM service_requests WHERE id = "
        ));
        query.bind_i64(id);
        if let Scope::Customer(customer_id) = scope {
            query.push(" AND customer_id = ").bind_i64(customer_id);
        }
        let row = query
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        service_request_of(&row)
    }

    /// Requests the scope may see, newest first, optionally in one state, before `before`.
    pub async fn service_requests(
        &self,
        scope: Scope,
        state: Option<ServiceState>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ServiceRequest>, StoreError> {
        let mut query = SqlBuilder::new(&format!(
            "SELECT {SERVICE_COLUMNS} FROM service_requests WHERE 1 = 1"
        ));
        if let Scope::Customer(customer_id) = scope {
            query.push(" AND customer_id = ").bind_i64(customer_id);
        }
        if let Some(state) = state {
            query.push(" AND state = ").bind_text(state.as_str());
        }
        if let Some(before) = before {
            query.push(" AND id < ").bind_i64(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").bind_i64(limit);
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(service_request_of).collect()
    }

    /// Applies what `decide` makes of the request as it stands, in one transaction; with
    /// `expected_version`, only on that version.
    pub async fn update_service_request(
        &self,
        id: i64,
        scope: Scope,
        expected_version: Option<i64>,
        by: &str,
        now: Timestamp,
        decide: impl FnOnce(&ServiceRequest) -> Result<ServiceChange, ServiceRefusal>,
    ) -> Result<ServiceRequest, ServiceUpdateError> {
        let mut transaction = self.begin_write().await?;
        let mut locking = SqlBuilder::new(&format!(
            "SELECT {SERVICE_COLUMNS} FROM service_requests WHERE id = "
        ));
        locking.bind_i64(id);
        if let Scope::Customer(customer_id) = scope {
            locking.push(" AND customer_id = ").bind_i64(customer_id);
        }
        locking.push(self.for_update());
        let row = locking
            .fetch_optional(&mut *transaction)
            .await?
            .ok_or(StoreError::NotFound)?;
        let current = service_request_of(&row)?;
        require_version("request", current.version_number, expected_version)?;
        let at = seconds(now).max(seconds(current.updated_at));
        match decide(&current).map_err(ServiceUpdateError::Refused)? {
            ServiceChange::Quoted { quote } => {
                sqlx::query(
                    "UPDATE service_requests SET state = $1, quote = $2, quoted_by = $3, \
                     quoted_at = $4, updated_at = $4, version_number = version_number + 1 \
                     WHERE id = $5",
                )
                .bind(ServiceState::Quoted.as_str())
                .bind(quote)
                .bind(by)
                .bind(at)
                .bind(id)
                .execute(&mut *transaction)
                .await?;
            }
            ServiceChange::Answered { state, text } => {
                sqlx::query(
                    "UPDATE service_requests SET state = $1, answer = $2, answered_by = $3, \
                     answered_at = $4, updated_at = $4, version_number = version_number + 1 \
                     WHERE id = $5",
                )
                .bind(state.as_str())
                .bind(text)
                .bind(by)
                .bind(at)
                .bind(id)
                .execute(&mut *transaction)
                .await?;
            }
        }
        transaction.commit().await?;
        Ok(self.service_request(id, scope).await?)
    }
}

fn service_request_of(row: &AnyRow) -> Result<ServiceRequest, StoreError> {
    let state: String = row.try_get("state")?;
    let optional_instant = |column: &str| -> Result<Option<Timestamp>, StoreError> {
        row.try_get::<Option<i64>, _>(column)?
            .map(instant)
            .transpose()
    };
    Ok(ServiceRequest {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        contact_id: row.try_get("contact_id")?,
        product_line: row.try_get("product_line")?,
        version: row.try_get("version")?,
        programming_language: row.try_get("programming_language")?,
        subject: row.try_get("subject")?,
        description: row.try_get("description")?,
        reason: row.try_get("reason")?,
        state: ServiceState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown request state \"{state}\"")))?,
        quote: row.try_get("quote")?,
        quoted_by: row.try_get("quoted_by")?,
        quoted_at: optional_instant("quoted_at")?,
        answer: row.try_get("answer")?,
        answered_by: row.try_get("answered_by")?,
        answered_at: optional_instant("answered_at")?,
        version_number: row.try_get("version_number")?,
        created_by: row.try_get("created_by")?,
        created_at: instant(row.try_get("created_at")?)?,
        updated_at: instant(row.try_get("updated_at")?)?,
    })
}

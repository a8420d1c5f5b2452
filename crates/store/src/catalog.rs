//! The release catalog of each product line (POLICY.md §9): what "the two most recent
//! versions" is computed from, and what an installed product may update to.

use jiff::civil::Date;
use serde::Serialize;

use crate::columns::Columns;
use crate::customers::date;
use crate::{Store, StoreError};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Release {
    pub id: i64,
    pub product_line: String,
    pub version: String,
    /// Order within the line: higher is newer.
    pub position: i64,
    /// "major" (an upgrade) or "minor" (an update).
    pub kind: String,
    pub released_on: Date,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRelease {
    pub product_line: String,
    pub version: String,
    pub position: i64,
    pub kind: String,
    pub released_on: Date,
}

impl Store {
    pub async fn add_release(&self, new: &NewRelease) -> Result<Release, StoreError> {
        let mut transaction = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO releases (product_line, version, position, kind, released_on) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&new.product_line)
        .bind(&new.version)
        .bind(new.position)
        .bind(&new.kind)
        .bind(new.released_on.to_string())
        .fetch_one(&mut *transaction)
        .await?;
        let release = Release {
            id,
            product_line: new.product_line.clone(),
            version: new.version.clone(),
            position: new.position,
            kind: new.kind.clone(),
            released_on: new.released_on,
        };
        self.record_new(&mut transaction, "release", id, "created", &release)
            .await?;
        transaction.commit().await?;
        Ok(release)
    }

    /// The releases of a line, newest first.
    pub async fn releases_of(&self, product_line: &str) -> Result<Vec<Release>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, product_line, version, position, kind, released_on FROM releases \
             WHERE product_line = $1 ORDER BY position DESC",
        )
        .bind(product_line)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(release_of).collect()
    }
}

pub(crate) fn release_of(row: &impl Columns) -> Result<Release, StoreError> {
    Ok(Release {
        id: row.int("id")?,
        product_line: row.text("product_line")?,
        version: row.text("version")?,
        position: row.int("position")?,
        kind: row.text("kind")?,
        released_on: date(row.text("released_on")?)?,
    })
}

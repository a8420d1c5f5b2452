//! The resource center's catalog: entries, their translations, every revision, and the
//! search index. The terms indexed and looked for come analysed from the caller
//! (`caredesk_domain::resources::search`); SQLite keeps them in an FTS5 table ranked by
//! bm25, PostgreSQL in a `tsvector` (the 'simple' configuration, which keeps terms as they
//! are) ranked by `ts_rank_cd`, so both match the same terms. A translation is indexed in
//! the transaction that writes it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use caredesk_domain::resources::search::{self, Lookup};
use caredesk_domain::resources::{
    EntryFields, EntryKind, ReviewRefusal, TranslationState, Visibility,
};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::{Backend, SqlBuilder, Store, StoreError, instant, require_version, seconds};

/// One language's text, with its analysed terms for the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslationText {
    pub language: String,
    pub title: String,
    pub body: String,
    /// The title's terms, space-separated.
    pub title_terms: String,
    /// The body's terms, space-separated.
    pub body_terms: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: i64,
    /// Its name in exported files; none for an entry never imported.
    pub key: Option<String>,
    pub kind: EntryKind,
    pub product_line: Option<String>,
    pub releases: Vec<String>,
    pub visibility: Visibility,
    pub tags: Vec<String>,
    pub url: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Its languages, in the order they were written.
    pub translations: Vec<Translation>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Translation {
    pub id: i64,
    pub entry_id: i64,
    pub language: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub state: TranslationState,
    /// The latest revision's number: send it back to revise only that revision.
    pub revision: i64,
    pub updated_by: String,
    pub updated_at: Timestamp,
    pub published_at: Option<Timestamp>,
}

/// One revision of a translation: who wrote what, when.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Revision {
    pub revision: i64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub written_at: Timestamp,
}

/// Which translations a reader may find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// The visibilities the reader may read (none: nothing is found).
    pub visibilities: Vec<Visibility>,
    /// Published translations only (every reader but staff).
    pub published_only: bool,
    /// Any of these languages (none: every language).
    pub languages: Vec<String>,
    pub product_line: Option<String>,
    /// Entries of this release, or of every release.
    pub release: Option<String>,
    pub kind: Option<EntryKind>,
    pub tag: Option<String>,
    pub state: Option<TranslationState>,
}

/// A translation found, with what its entry is.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceHit {
    pub entry_id: i64,
    pub kind: EntryKind,
    pub product_line: Option<String>,
    pub visibility: Visibility,
    pub url: Option<String>,
    pub translation: Translation,
    /// Higher is better; 0 when listed rather than searched.
    pub score: f64,
}

/// An entry as a file import gives it: found again by its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedEntry {
    pub key: String,
    pub entry: EntryFields,
    pub translations: Vec<ImportedTranslation>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedTranslation {
    pub text: TranslationText,
    pub state: TranslationState,
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResourceImport {
    pub entries_created: usize,
    pub entries_updated: usize,
    /// Translations added, or given a new revision or state.
    pub translations_written: usize,
    /// Translations as the files have them already.
    pub translations_unchanged: usize,
}

/// Why a change to a translation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReviewUpdateError {
    #[error(transparent)]
    Refused(ReviewRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ReviewUpdateError {
    fn from(error: sqlx::Error) -> Self {
        ReviewUpdateError::Store(error.into())
    }
}

const TRANSLATION_COLUMNS: &str = "t.id, t.entry_id, t.language, t.title, t.body, t.state, \
     t.revision, t.updated_by, t.updated_at, t.published_at";

impl Store {
    /// Writes a new entry and its first translation, a draft.
    pub async fn create_entry(
        &self,
        entry: &EntryFields,
        first: &TranslationText,
        author: &str,
        now: Timestamp,
    ) -> Result<Entry, StoreError> {
        let mut transaction = self.begin_write().await?;
        let id = insert_entry(&mut transaction, None, entry, author, now).await?;
        let mut counts = TermCountChanges::default();
        self.insert_translation(&mut transaction, id, first, author, now, &mut counts)
            .await?;
        self.write_term_counts(&mut transaction, counts).await?;
        transaction.commit().await?;
        self.entry(id).await
    }

    /// Replaces what is shared by every language of entry `id`.
    pub async fn update_entry(
        &self,
        id: i64,
        entry: &EntryFields,
        now: Timestamp,
    ) -> Result<Entry, StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_row(&mut transaction, "resource_entries", id)
            .await?;
        replace_entry(&mut transaction, id, None, entry, now).await?;
        self.refresh_search_filters(&mut transaction, id).await?;
        transaction.commit().await?;
        self.entry(id).await
    }

    /// Adds a language to entry `id`, as a draft; a conflict if it has it already.
    pub async fn add_translation(
        &self,
        id: i64,
        text: &TranslationText,
        author: &str,
        now: Timestamp,
    ) -> Result<Translation, StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_row(&mut transaction, "resource_entries", id)
            .await?;
        touch_entry(&mut transaction, id, now).await?;
        let mut counts = TermCountChanges::default();
        self.insert_translation(&mut transaction, id, text, author, now, &mut counts)
            .await?;
        self.write_term_counts(&mut transaction, counts).await?;
        transaction.commit().await?;
        self.translation(id, &text.language).await
    }

    /// A new revision of a language of entry `id`; with `expected_revision`, only if it is
    /// still the latest. Its state does not change: a published translation's readers see
    /// the new text at once.
    pub async fn revise_translation(
        &self,
        id: i64,
        text: &TranslationText,
        expected_revision: Option<i64>,
        author: &str,
        now: Timestamp,
    ) -> Result<Translation, StoreError> {
        let mut transaction = self.begin_write().await?;
        // The entry first, then its translation: every writer locks in this order.
        self.lock_row(&mut transaction, "resource_entries", id)
            .await?;
        let current = self
            .locked_translation(&mut transaction, id, &text.language)
            .await?;
        require_version("translation", current.revision, expected_revision)?;
        let mut counts = TermCountChanges::default();
        self.write_revision(&mut transaction, &current, text, author, now, &mut counts)
            .await?;
        self.write_term_counts(&mut transaction, counts).await?;
        touch_entry(&mut transaction, id, now).await?;
        transaction.commit().await?;
        self.translation(id, &text.language).await
    }

    /// Moves a language of entry `id` to the state `decide` gives from its current one.
    pub async fn review_translation(
        &self,
        id: i64,
        language: &str,
        author: &str,
        now: Timestamp,
        decide: impl FnOnce(TranslationState) -> Result<TranslationState, ReviewRefusal>,
    ) -> Result<Translation, ReviewUpdateError> {
        let mut transaction = self.begin_write().await?;
        self.lock_row(&mut transaction, "resource_entries", id)
            .await?;
        let current = self
            .locked_translation(&mut transaction, id, language)
            .await?;
        let state = decide(current.state).map_err(ReviewUpdateError::Refused)?;
        set_state(
            &mut transaction,
            current.id,
            current.published_at,
            state,
            author,
            now,
        )
        .await?;
        self.refresh_search_filters(&mut transaction, id).await?;
        touch_entry(&mut transaction, id, now).await?;
        transaction.commit().await?;
        Ok(self.translation(id, language).await?)
    }

    /// Writes `entries` in one transaction: each found again by its key, its shared fields
    /// replaced, each language
    /// added or given a new revision and its state; new keys make new entries. Languages the
    /// files do not have are left as they are. Nothing is written if anything fails.
    pub async fn import_resources(
        &self,
        entries: &[ImportedEntry],
        author: &str,
        now: Timestamp,
    ) -> Result<ResourceImport, StoreError> {
        let mut transaction = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Each statement planned for the tables as they are now: a connection keeps a
            // generic plan made when they were small (a scan of every row, fine for ten),
            // and this transaction's own rows are not in any statistics until it commits.
            // On an empty center, 100,000 entries were written at 130 a second at first and
            // 22 a second at 64,000.
            sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan")
                .execute(&mut *transaction)
                .await?;
        }
        let mut done = ResourceImport::default();
        let mut counts = TermCountChanges::default();
        for imported in entries {
            let key = Some(imported.key.as_str());
            let id = match self.entry_of_key(&mut transaction, &imported.key).await? {
                Some(id) => {
                    replace_entry(&mut transaction, id, key, &imported.entry, now).await?;
                    done.entries_updated += 1;
                    id
                }
                None => {
                    done.entries_created += 1;
                    insert_entry(&mut transaction, key, &imported.entry, author, now).await?
                }
            };
            for translation in &imported.translations {
                let written = self
                    .import_translation(&mut transaction, id, translation, author, now, &mut counts)
                    .await?;
                if written {
                    done.translations_written += 1;
                } else {
                    done.translations_unchanged += 1;
                }
            }
            self.refresh_search_filters(&mut transaction, id).await?;
        }
        self.write_term_counts(&mut transaction, counts).await?;
        transaction.commit().await?;
        Ok(done)
    }

    /// Gives every entry without a key one: `entry-ID` (with a letter after it in the rare
    /// case an imported entry has that key already). An export names every entry, and an
    /// import finds an entry by that name only where it was given.
    pub async fn name_keyless_entries(&self) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        let keyless: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM resource_entries WHERE key IS NULL ORDER BY id")
                .fetch_all(&mut *transaction)
                .await?;
        for id in keyless {
            for suffix in ["", "-b", "-c", "-d", "-e", "-f", "-g", "-h"] {
                let key = format!("entry-{id}{suffix}");
                let taken: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM resource_entries WHERE key = $1")
                        .bind(&key)
                        .fetch_optional(&mut *transaction)
                        .await?;
                if taken.is_none() {
                    sqlx::query("UPDATE resource_entries SET key = $1 WHERE id = $2")
                        .bind(&key)
                        .bind(id)
                        .execute(&mut *transaction)
                        .await?;
                    break;
                }
            }
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Every entry with all its languages, in the order they were written (what an export
    /// writes out).
    pub async fn all_entries(&self) -> Result<Vec<Entry>, StoreError> {
        // In one snapshot, so that an export is one state of the center.
        let mut transaction = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *transaction)
                .await?;
        }
        let entries = entries(&mut transaction, None).await?;
        transaction.commit().await?;
        Ok(entries)
    }

    async fn entry_of_key(
        &self,
        transaction: &mut Transaction<'static, Any>,
        key: &str,
    ) -> Result<Option<i64>, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM resource_entries WHERE key = $1{}",
            self.for_update()
        )))
        .bind(key)
        .fetch_optional(&mut **transaction)
        .await?;
        Ok(found)
    }

    /// Adds, revises or moves one imported language; whether anything changed.
    async fn import_translation(
        &self,
        transaction: &mut Transaction<'static, Any>,
        entry: i64,
        imported: &ImportedTranslation,
        author: &str,
        now: Timestamp,
        counts: &mut TermCountChanges,
    ) -> Result<bool, StoreError> {
        let text = &imported.text;
        let current = match self
            .locked_translation(transaction, entry, &text.language)
            .await
        {
            Ok(current) => Some(current),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other),
        };
        let (id, mut changed) = match &current {
            None => (
                self.insert_translation(transaction, entry, text, author, now, counts)
                    .await?,
                true,
            ),
            Some(current) if current.title != text.title || current.body != text.body => {
                self.write_revision(transaction, current, text, author, now, counts)
                    .await?;
                (current.id, true)
            }
            Some(current) => (current.id, false),
        };
        let state = current
            .as_ref()
            .map_or(TranslationState::Draft, |current| current.state);
        if state != imported.state {
            let published_at = (imported.state == TranslationState::Published)
                .then_some(seconds(now))
                .or(current.and_then(|current| current.published_at.map(seconds)));
            sqlx::query(
                "UPDATE resource_translations SET state = $1, updated_by = $2, updated_at = $3, \
                 published_at = $4 WHERE id = $5",
            )
            .bind(imported.state.as_str())
            .bind(author)
            .bind(seconds(now))
            .bind(published_at)
            .bind(id)
            .execute(&mut **transaction)
            .await?;
            changed = true;
        }
        Ok(changed)
    }

    /// Records that contact `contact` of customer `customer` found what they needed in the
    /// `language` translation of entry `id` instead of opening a ticket; its number.
    pub async fn record_deflection(
        &self,
        id: i64,
        language: &str,
        customer: i64,
        contact: i64,
        typed: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO resource_deflections (entry_id, language, customer_id, contact_id, \
             typed, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(id)
        .bind(language)
        .bind(customer)
        .bind(contact)
        .bind(typed)
        .bind(seconds(now))
        .fetch_one(&self.writer)
        .await?)
    }

    /// How many times entry `id` solved a problem before a ticket was opened.
    pub async fn deflections_of(&self, id: i64) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM resource_deflections WHERE entry_id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Entry `id` with its languages.
    pub async fn entry(&self, id: i64) -> Result<Entry, StoreError> {
        entries(&mut *self.pool.acquire().await?, Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// The `language` translation of entry `id`.
    pub async fn translation(&self, id: i64, language: &str) -> Result<Translation, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TRANSLATION_COLUMNS} FROM resource_translations t \
             WHERE t.entry_id = $1 AND t.language = $2"
        )))
        .bind(id)
        .bind(language)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        translation_of(&row)
    }

    /// Every revision of the `language` translation of entry `id`, the first first.
    pub async fn revisions(&self, id: i64, language: &str) -> Result<Vec<Revision>, StoreError> {
        let translation = self.translation(id, language).await?;
        let rows = sqlx::query(
            "SELECT revision, title, body, author, written_at FROM resource_revisions \
             WHERE translation_id = $1 ORDER BY revision",
        )
        .bind(translation.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Revision {
                    revision: row.try_get("revision")?,
                    title: row.try_get("title")?,
                    body: row.try_get("body")?,
                    author: row.try_get("author")?,
                    written_at: instant(row.try_get("written_at")?)?,
                })
            })
            .collect()
    }

    /// The translations `filter` lets through that match `words` (from
    /// `search::query_words`, analysed as they were indexed), at most `limit`: looked up as
    /// `search::lookups` plans, so that a query of common words on a large center ranks a
    /// bounded number of texts; each lookup's results best first, after the previous one's.
    pub async fn search_resources(
        &self,
        words: &[Vec<String>],
        filter: &ResourceFilter,
        limit: i64,
    ) -> Result<Vec<ResourceHit>, StoreError> {
        // Empty terms are no query (and a syntax error to PostgreSQL).
        let words: Vec<Vec<String>> = words
            .iter()
            .map(|word| {
                word.iter()
                    .filter(|term| !term.is_empty())
                    .cloned()
                    .collect()
            })
            .filter(|word: &Vec<String>| !word.is_empty())
            .collect();
        if words.is_empty() || filter.visibilities.is_empty() {
            return Ok(Vec::new());
        }
        let frequencies = self.resource_term_frequencies(&words).await?;
        let plan = search::lookups(
            &words,
            |term| frequencies.get(term).copied().unwrap_or(0),
            match self.backend {
                Backend::Sqlite => RANKED_AT_MOST_ON_SQLITE,
                Backend::Postgres => RANKED_AT_MOST_ON_POSTGRES,
            },
        );
        let wanted = usize::try_from(limit).unwrap_or(0);
        let mut hits: Vec<ResourceHit> = Vec::new();
        for lookup in plan {
            if hits.len() >= wanted {
                break;
            }
            // Room for what an earlier lookup found again.
            let room = limit.saturating_add(i64::try_from(hits.len()).unwrap_or(i64::MAX));
            for hit in self.look_up_resources(&lookup, filter, room).await? {
                if hits.len() < wanted
                    && !hits
                        .iter()
                        .any(|kept| kept.translation.id == hit.translation.id)
                {
                    hits.push(hit);
                }
            }
        }
        Ok(hits)
    }

    /// In how many translations each term of `words` stands (a term in none may be absent).
    pub async fn resource_term_frequencies(
        &self,
        words: &[Vec<String>],
    ) -> Result<HashMap<String, u64>, StoreError> {
        let terms: Vec<&String> = words.iter().flatten().collect();
        let terms = serde_json::to_string(&terms)
            .map_err(|error| StoreError::Corrupt(format!("search terms: {error}")))?;
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT c.term, c.doc FROM resource_term_counts c \
                 WHERE c.term IN (SELECT value FROM json_each($1))"
            }
            // The counts are kept per lexeme of PostgreSQL's parser, which cuts some of our
            // terms apart or leaves characters out ("x²" is the lexeme "x"): a term stands
            // in at most as many texts as its rarest lexeme, and in none when that is in
            // none, or when the parser keeps nothing of it (it is then no query either).
            Backend::Postgres => {
                "SELECT q.term, MIN(COALESCE(c.doc, 0)) AS doc FROM (SELECT w.term, \
                 unnest(tsvector_to_array(to_tsvector('simple', w.term))) AS lexeme \
                 FROM json_array_elements_text(CAST($1 AS json)) AS w(term)) q \
                 LEFT JOIN resource_term_counts c ON c.term = q.lexeme GROUP BY q.term"
            }
        };
        sqlx::query(sql)
            .bind(terms)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let count: i64 = row.try_get("doc")?;
                Ok((row.try_get("term")?, u64::try_from(count).unwrap_or(0)))
            })
            .collect()
    }

    /// The translations `filter` lets through that `lookup` finds, best first.
    async fn look_up_resources(
        &self,
        lookup: &Lookup,
        filter: &ResourceFilter,
        limit: i64,
    ) -> Result<Vec<ResourceHit>, StoreError> {
        match self.backend {
            Backend::Sqlite => self.sqlite_lookup(lookup, filter, limit).await,
            Backend::Postgres => {
                // Ranked on the index alone, which holds what a reader filters on; the
                // rest of a filter (the product line, a release, the kind, a tag) is two
                // joins away: joining each of 2,000 matches before ranking them cost three
                // times the ranking. So the best candidates first; when too few of them
                // pass, and there were more matches than candidates, every match.
                // (A lookup that ranks only the first found filters on entries before.)
                if !filters_entries(filter)
                    || ranked_at_most(lookup, RANKED_AT_MOST_ON_POSTGRES).is_some()
                {
                    return Ok(self.postgres_lookup(lookup, filter, limit, limit).await?.0);
                }
                let candidates = limit.saturating_mul(4).saturating_add(100);
                let (hits, considered) = self
                    .postgres_lookup(lookup, filter, limit, candidates)
                    .await?;
                let enough = i64::try_from(hits.len()).unwrap_or(i64::MAX) >= limit;
                if enough || considered.is_some_and(|considered| considered < candidates) {
                    return Ok(hits);
                }
                Ok(self
                    .postgres_lookup(lookup, filter, limit, i64::MAX)
                    .await?
                    .0)
            }
        }
    }

    /// On SQLite: ranked on what the filter reads alone (an index that holds it: a
    /// translation's row holds its whole text), then the texts of the best read.
    async fn sqlite_lookup(
        &self,
        lookup: &Lookup,
        filter: &ResourceFilter,
        limit: i64,
    ) -> Result<Vec<ResourceHit>, StoreError> {
        let mut sql = SqlBuilder::new(&format!(
            "SELECT {HIT_COLUMNS}, m.score AS score FROM (SELECT r.id, r.score FROM (\
             SELECT t.id AS id, -bm25(resource_search, 4.0, 1.0) AS score \
             FROM resource_search JOIN resource_translations t \
             INDEXED BY resource_translations_found ON t.id = resource_search.rowid \
             JOIN resource_entries e ON e.id = t.entry_id WHERE resource_search MATCH "
        ));
        sql.bind_text(&full_text_query(Backend::Sqlite, lookup));
        push_filter(&mut sql, filter);
        if let Some(at_most) = ranked_at_most(lookup, RANKED_AT_MOST_ON_SQLITE) {
            sql.push(" LIMIT ");
            sql.bind_i64(at_most);
        }
        sql.push(") r ORDER BY r.score DESC, r.id LIMIT ");
        sql.bind_i64(limit);
        sql.push(
            ") m JOIN resource_translations t ON t.id = m.id \
                  JOIN resource_entries e ON e.id = t.entry_id ORDER BY m.score DESC, t.id",
        );
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(hit_of)
            .collect()
    }

    /// On PostgreSQL: the best `candidates` matches a reader may see, ranked on the index
    /// alone, then filtered on their entries; and how many matches were ranked (unknown
    /// when none passed).
    async fn postgres_lookup(
        &self,
        lookup: &Lookup,
        filter: &ResourceFilter,
        limit: i64,
        candidates: i64,
    ) -> Result<(Vec<ResourceHit>, Option<i64>), StoreError> {
        // Titles alone have an index of their own.
        let index = match lookup {
            Lookup::AnyInTitle(_) => "resource_title_search",
            Lookup::Any(_) | Lookup::All(_) => "resource_search",
        };
        // `q` is read twice: not materialised, so that the planner sees the query itself.
        let mut sql = SqlBuilder::new("WITH q AS NOT MATERIALIZED (SELECT to_tsquery('simple', ");
        sql.bind_text(&full_text_query(Backend::Postgres, lookup));
        let at_most = ranked_at_most(lookup, RANKED_AT_MOST_ON_POSTGRES);
        // Where only the first found are ranked, the entries' filter comes before: after,
        // it could find none of what it wants among them.
        let entries_first = at_most.is_some() && filters_entries(filter);
        let joins = if entries_first {
            " JOIN resource_translations t ON t.id = s.translation_id \
             JOIN resource_entries e ON e.id = t.entry_id"
        } else {
            ""
        };
        sql.push(&format!(
            ") AS query), matched AS (SELECT s.translation_id, s.terms FROM {index} s \
             CROSS JOIN q{joins} WHERE s.terms @@ q.query"
        ));
        push_reader_filter(&mut sql, filter, "s.visibility", "s");
        if entries_first {
            push_entry_filter(&mut sql, filter);
        }
        if let Some(at_most) = at_most {
            sql.push(" LIMIT ");
            sql.bind_i64(at_most);
        }
        sql.push(&format!(
            ") SELECT {HIT_COLUMNS}, m.score AS score, m.considered AS considered \
             FROM (SELECT c.id, c.score, COUNT(*) OVER () AS considered FROM (\
             SELECT matched.translation_id AS id, \
             CAST(ts_rank_cd(matched.terms, q.query) AS DOUBLE PRECISION) AS score \
             FROM matched, q ORDER BY score DESC, id LIMIT "
        ));
        sql.bind_i64(candidates);
        sql.push(
            ") c) m JOIN resource_translations t ON t.id = m.id \
             JOIN resource_entries e ON e.id = t.entry_id WHERE 1 = 1",
        );
        push_entry_filter(&mut sql, filter);
        sql.push(" ORDER BY m.score DESC, t.id LIMIT ");
        sql.bind_i64(limit);
        let rows = sql.fetch_all(&self.pool).await?;
        let considered = match rows.first() {
            Some(row) => Some(row.try_get::<i64, _>("considered")?),
            None => None,
        };
        let hits = rows.iter().map(hit_of).collect::<Result<_, _>>()?;
        Ok((hits, considered))
    }

    /// The translations `filter` lets through, the latest changed first, at most `limit`
    /// after skipping `offset`.
    pub async fn list_resources(
        &self,
        filter: &ResourceFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ResourceHit>, StoreError> {
        if filter.visibilities.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::new(&format!(
            "SELECT {HIT_COLUMNS}, CAST(0 AS DOUBLE PRECISION) AS score FROM resource_translations t \
             JOIN resource_entries e ON e.id = t.entry_id WHERE 1 = 1"
        ));
        push_filter(&mut sql, filter);
        sql.push(" ORDER BY t.updated_at DESC, t.id DESC LIMIT ");
        sql.bind_i64(limit);
        sql.push(" OFFSET ");
        sql.bind_i64(offset);
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(hit_of)
            .collect()
    }

    async fn insert_translation(
        &self,
        transaction: &mut Transaction<'static, Any>,
        entry: i64,
        text: &TranslationText,
        author: &str,
        now: Timestamp,
        counts: &mut TermCountChanges,
    ) -> Result<i64, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO resource_translations (entry_id, language, title, body, state, \
             revision, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7) \
             RETURNING id",
        )
        .bind(entry)
        .bind(&text.language)
        .bind(&text.title)
        .bind(&text.body)
        .bind(TranslationState::Draft.as_str())
        .bind(author)
        .bind(seconds(now))
        .fetch_one(&mut **transaction)
        .await?;
        insert_revision(transaction, id, 1, text, author, now).await?;
        self.index_translation(transaction, id, text, counts)
            .await?;
        Ok(id)
    }

    /// The next revision of `current`: its text, kept among the revisions, and indexed.
    async fn write_revision(
        &self,
        transaction: &mut Transaction<'static, Any>,
        current: &Translation,
        text: &TranslationText,
        author: &str,
        now: Timestamp,
        counts: &mut TermCountChanges,
    ) -> Result<(), StoreError> {
        let revision = current.revision + 1;
        sqlx::query(
            "UPDATE resource_translations SET title = $1, body = $2, revision = $3, \
             updated_by = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(&text.title)
        .bind(&text.body)
        .bind(revision)
        .bind(author)
        .bind(seconds(now))
        .bind(current.id)
        .execute(&mut **transaction)
        .await?;
        insert_revision(transaction, current.id, revision, text, author, now).await?;
        self.index_translation(transaction, current.id, text, counts)
            .await
    }

    /// (Re)writes the index's row of translation `id`, and adds to `counts` how the term
    /// counts change with it (written by `write_term_counts` before the transaction commits).
    pub(crate) async fn index_translation(
        &self,
        transaction: &mut Transaction<'static, Any>,
        id: i64,
        text: &TranslationText,
        counts: &mut TermCountChanges,
    ) -> Result<(), StoreError> {
        // The old terms first, while the index still holds them; on PostgreSQL the terms
        // as its parser cut them into the stored vector.
        let (old, new): (Option<String>, String) = match self.backend {
            Backend::Sqlite => {
                let old: Option<(String, String)> =
                    sqlx::query_as("SELECT title, body FROM resource_search WHERE rowid = $1")
                        .bind(id)
                        .fetch_optional(&mut **transaction)
                        .await?;
                (
                    old.map(|(title, body)| format!("{title} {body}")),
                    format!("{} {}", text.title_terms, text.body_terms),
                )
            }
            Backend::Postgres => {
                sqlx::query_as(
                    "SELECT (SELECT array_to_string(tsvector_to_array(terms), ' ') \
                     FROM resource_search WHERE translation_id = $1), \
                     array_to_string(tsvector_to_array(to_tsvector('simple', $2) \
                     || to_tsvector('simple', $3)), ' ')",
                )
                .bind(id)
                .bind(&text.title_terms)
                .bind(&text.body_terms)
                .fetch_one(&mut **transaction)
                .await?
            }
        };
        counts.replace(old.as_deref().unwrap_or_default(), &new);
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("DELETE FROM resource_search WHERE rowid = $1")
                    .bind(id)
                    .execute(&mut **transaction)
                    .await?;
                sqlx::query("INSERT INTO resource_search (rowid, title, body) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(&text.title_terms)
                    .bind(&text.body_terms)
                    .execute(&mut **transaction)
                    .await?;
            }
            Backend::Postgres => {
                // With the columns the filters read (see refresh_search_filters); the
                // titles' index holds the title's terms alone.
                let title = "setweight(to_tsvector('simple', $2), 'A')";
                let whole = format!("{title} || setweight(to_tsvector('simple', $3), 'B')");
                for (index, terms) in [
                    ("resource_search", whole.as_str()),
                    ("resource_title_search", title),
                ] {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO {index} (translation_id, terms, language, state, \
                         visibility) SELECT t.id, {terms}, t.language, t.state, e.visibility \
                         FROM resource_translations t JOIN resource_entries e \
                         ON e.id = t.entry_id WHERE t.id = $1 \
                         ON CONFLICT (translation_id) DO UPDATE SET terms = excluded.terms, \
                         language = excluded.language, state = excluded.state, \
                         visibility = excluded.visibility"
                    )))
                    .bind(id)
                    .bind(&text.title_terms)
                    .bind(&text.body_terms)
                    .execute(&mut **transaction)
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Writes what `counts` gathered, once per term, in the terms' order: two writers that
    /// meet on the same terms wait for each other rather than deadlock.
    pub(crate) async fn write_term_counts(
        &self,
        transaction: &mut Transaction<'static, Any>,
        counts: TermCountChanges,
    ) -> Result<(), StoreError> {
        let change: BTreeMap<String, i64> = counts
            .0
            .into_iter()
            .filter(|(_, step)| *step != 0)
            .collect();
        if change.is_empty() {
            return Ok(());
        }
        let change = serde_json::to_string(&change)
            .map_err(|error| StoreError::Corrupt(format!("term counts: {error}")))?;
        let rows = match self.backend {
            // `WHERE true`: SQLite would read the `ON` of `ON CONFLICT` as a join's.
            Backend::Sqlite => "SELECT key, value FROM json_each($1) WHERE true ORDER BY key",
            Backend::Postgres => {
                "SELECT key, CAST(value AS BIGINT) FROM json_each_text(CAST($1 AS json)) \
                 WHERE true ORDER BY key"
            }
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO resource_term_counts (term, doc) {rows} \
             ON CONFLICT (term) DO UPDATE SET doc = resource_term_counts.doc + excluded.doc"
        )))
        .bind(change)
        .execute(&mut **transaction)
        .await?;
        Ok(())
    }

    /// On PostgreSQL, rewrites what the search's indexes keep of entry `entry`'s
    /// translations for the filters (their language and state, the entry's visibility),
    /// after a write that may have changed them. SQLite's search reads them from an index
    /// of the translations that holds the whole text.
    async fn refresh_search_filters(
        &self,
        transaction: &mut Transaction<'static, Any>,
        entry: i64,
    ) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(());
        }
        // Row by row: a statement that joins the indexes to the translations was planned,
        // on statistics taken before an import, as a scan of every indexed title.
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT t.id, t.language, t.state, e.visibility FROM resource_translations t \
             JOIN resource_entries e ON e.id = t.entry_id WHERE t.entry_id = $1",
        )
        .bind(entry)
        .fetch_all(&mut **transaction)
        .await?;
        for (id, language, state, visibility) in rows {
            for index in ["resource_search", "resource_title_search"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {index} SET language = $2, state = $3, visibility = $4 \
                     WHERE translation_id = $1 AND (language, state, visibility) <> ($2, $3, $4)"
                )))
                .bind(id)
                .bind(&language)
                .bind(&state)
                .bind(&visibility)
                .execute(&mut **transaction)
                .await?;
            }
        }
        Ok(())
    }

    async fn locked_translation(
        &self,
        transaction: &mut Transaction<'static, Any>,
        id: i64,
        language: &str,
    ) -> Result<Translation, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TRANSLATION_COLUMNS} FROM resource_translations t \
             WHERE t.entry_id = $1 AND t.language = $2{}",
            self.for_update()
        )))
        .bind(id)
        .bind(language)
        .fetch_optional(&mut **transaction)
        .await?
        .ok_or(StoreError::NotFound)?;
        translation_of(&row)
    }
}

/// Entry `only`, or every entry, with their releases, tags and languages: four statements
/// however many entries (read entry by entry, an export of 100,000 made 400,000).
async fn entries(
    connection: &mut AnyConnection,
    only: Option<i64>,
) -> Result<Vec<Entry>, StoreError> {
    let of_only = |column: &str| match only {
        Some(_) => format!(" WHERE {column} = $1"),
        None => String::new(),
    };
    let bound = |sql: String| {
        let query = sqlx::query(sqlx::AssertSqlSafe(sql));
        match only {
            Some(id) => query.bind(id),
            None => query,
        }
    };
    let rows = bound(format!(
        "SELECT id, key, kind, product_line, visibility, url, created_by, created_at, \
         updated_at FROM resource_entries{} ORDER BY id",
        of_only("id")
    ))
    .fetch_all(&mut *connection)
    .await?;
    // An entry's releases and tags: the second column of `table`, by entry.
    let mut listed = async |table: &str, column: &str| {
        let mut by_entry: HashMap<i64, Vec<String>> = HashMap::new();
        for row in bound(format!(
            "SELECT entry_id, {column} AS listed FROM {table}{} ORDER BY entry_id, {column}",
            of_only("entry_id")
        ))
        .fetch_all(&mut *connection)
        .await?
        {
            by_entry
                .entry(row.try_get("entry_id")?)
                .or_default()
                .push(row.try_get("listed")?);
        }
        Ok::<_, StoreError>(by_entry)
    };
    let mut releases = listed("resource_releases", "version").await?;
    let mut tags = listed("resource_tags", "tag").await?;
    let mut translations: HashMap<i64, Vec<Translation>> = HashMap::new();
    for row in bound(format!(
        "SELECT {TRANSLATION_COLUMNS} FROM resource_translations t{} ORDER BY t.id",
        of_only("t.entry_id")
    ))
    .fetch_all(&mut *connection)
    .await?
    {
        let translation = translation_of(&row)?;
        translations
            .entry(translation.entry_id)
            .or_default()
            .push(translation);
    }
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            Ok(Entry {
                id,
                key: row.try_get("key")?,
                kind: parse(row.try_get("kind")?, EntryKind::parse, "kind")?,
                product_line: row.try_get("product_line")?,
                releases: releases.remove(&id).unwrap_or_default(),
                visibility: parse(row.try_get("visibility")?, Visibility::parse, "visibility")?,
                tags: tags.remove(&id).unwrap_or_default(),
                url: row.try_get("url")?,
                created_by: row.try_get("created_by")?,
                created_at: instant(row.try_get("created_at")?)?,
                updated_at: instant(row.try_get("updated_at")?)?,
                translations: translations.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

/// About how many texts a search ranks at most (see `search::lookups`): ranking, not
/// matching, is what a full-text search spends its time on (measured with
/// `bench/resource_search.sh`). SQLite's bm25 reads only its index, a few microseconds a
/// text; PostgreSQL's ts_rank_cd reads each text's whole `tsvector` from the table, about
/// twice that when the table is cached and more when it is not.
const RANKED_AT_MOST_ON_SQLITE: u64 = 2_000;
const RANKED_AT_MOST_ON_POSTGRES: u64 = 1_000;

/// How many of the texts `lookup` finds are ranked at most, when the lookup itself does not
/// bound them: a lookup in titles comes when even the rarest word is too common ("server"
/// stands in one title of twelve), and ranking every title with it took a search past 20
/// ms. The first `budget` the database finds (after the reader's and the entries' filters)
/// are ranked, in the order the index hands them (about the order they were written): a
/// better title past them is not shown. What is given up is small: on PostgreSQL such
/// titles' ranks tie (one word once in a title), on SQLite they differ by the length of
/// the whole text.
fn ranked_at_most(lookup: &Lookup, budget: u64) -> Option<i64> {
    match lookup {
        Lookup::AnyInTitle(_) => Some(i64::try_from(budget).unwrap_or(i64::MAX)),
        Lookup::Any(_) | Lookup::All(_) => None,
    }
}

/// How the term counts (`resource_term_counts`: in how many translations each term stands)
/// change with the translations one transaction indexes, gathered and written once before it
/// commits. Written with each translation instead, an import of thousands of translations
/// updated a common term's row once for each of them, and PostgreSQL keeps every version of
/// a row updated in one transaction until it commits: each update walked past all the
/// earlier ones (46 entries a second at 100,000).
#[derive(Default)]
pub(crate) struct TermCountChanges(BTreeMap<String, i64>);

impl TermCountChanges {
    /// A translation's terms went from `old` to `new` (space-separated, repeats allowed).
    fn replace(&mut self, old: &str, new: &str) {
        let old: BTreeSet<&str> = old.split_whitespace().collect();
        let new: BTreeSet<&str> = new.split_whitespace().collect();
        for term in old.difference(&new) {
            *self.0.entry((*term).to_string()).or_default() -= 1;
        }
        for term in new.difference(&old) {
            *self.0.entry((*term).to_string()).or_default() += 1;
        }
    }
}

const HIT_COLUMNS: &str = "e.kind, e.product_line, e.visibility, e.url, t.id, t.entry_id, \
     t.language, t.title, t.body, t.state, t.revision, t.updated_by, t.updated_at, \
     t.published_at";

/// `lookup` in the full-text query language of `backend`: FTS5's quoted terms on SQLite
/// (a title is its index's column `title`), a `tsquery` of quoted lexemes on PostgreSQL
/// (titles have an index of their own there). The analysis keeps no quote or operator in a
/// term, so none is read as syntax.
pub(crate) fn full_text_query(backend: Backend, lookup: &Lookup) -> String {
    let any = |terms: &[String]| -> String {
        let quoted: Vec<String> = match backend {
            Backend::Sqlite => terms.iter().map(|term| format!("\"{term}\"")).collect(),
            Backend::Postgres => terms.iter().map(|term| format!("'{term}'")).collect(),
        };
        quoted.join(match backend {
            Backend::Sqlite => " OR ",
            Backend::Postgres => " | ",
        })
    };
    match lookup {
        Lookup::Any(terms) => any(terms),
        Lookup::All(words) => {
            let words: Vec<String> = words
                .iter()
                .map(|word| format!("({})", any(word)))
                .collect();
            words.join(match backend {
                Backend::Sqlite => " AND ",
                Backend::Postgres => " & ",
            })
        }
        Lookup::AnyInTitle(terms) => match backend {
            Backend::Sqlite => format!("title : ({})", any(terms)),
            Backend::Postgres => any(terms),
        },
    }
}

/// The conditions of `filter`, each `AND`ed to the statement (translations `t`, their
/// entries `e`).
fn push_filter(sql: &mut SqlBuilder, filter: &ResourceFilter) {
    push_reader_filter(sql, filter, "e.visibility", "t");
    push_entry_filter(sql, filter);
}

/// The conditions of `filter` on who reads: the entry's visibility (the column
/// `visibility`), the translation's state and language (those of `translation`).
fn push_reader_filter(
    sql: &mut SqlBuilder,
    filter: &ResourceFilter,
    visibility: &str,
    translation: &str,
) {
    sql.push(&format!(" AND {visibility} IN ("));
    for (index, visibility) in filter.visibilities.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.bind_text(visibility.as_str());
    }
    sql.push(")");
    if filter.published_only {
        sql.push(&format!(" AND {translation}.state = "));
        sql.bind_text(TranslationState::Published.as_str());
    } else if let Some(state) = filter.state {
        sql.push(&format!(" AND {translation}.state = "));
        sql.bind_text(state.as_str());
    }
    if !filter.languages.is_empty() {
        sql.push(&format!(" AND {translation}.language IN ("));
        for (index, language) in filter.languages.iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.bind_text(language);
        }
        sql.push(")");
    }
}

/// Whether `filter` reads anything of an entry but its visibility.
fn filters_entries(filter: &ResourceFilter) -> bool {
    filter.product_line.is_some()
        || filter.release.is_some()
        || filter.kind.is_some()
        || filter.tag.is_some()
}

/// The conditions of `filter` on the entry (`e`) but its visibility.
fn push_entry_filter(sql: &mut SqlBuilder, filter: &ResourceFilter) {
    if let Some(line) = &filter.product_line {
        sql.push(" AND e.product_line = ");
        sql.bind_text(line);
    }
    if let Some(release) = &filter.release {
        sql.push(
            " AND (NOT EXISTS (SELECT 1 FROM resource_releases r WHERE r.entry_id = e.id) \
             OR EXISTS (SELECT 1 FROM resource_releases r WHERE r.entry_id = e.id AND r.version = ",
        );
        sql.bind_text(release);
        sql.push("))");
    }
    if let Some(kind) = filter.kind {
        sql.push(" AND e.kind = ");
        sql.bind_text(kind.as_str());
    }
    if let Some(tag) = &filter.tag {
        sql.push(" AND EXISTS (SELECT 1 FROM resource_tags g WHERE g.entry_id = e.id AND g.tag = ");
        sql.bind_text(tag);
        sql.push(")");
    }
}

/// A new entry (with `key`, when it has one); its id.
async fn insert_entry(
    transaction: &mut Transaction<'static, Any>,
    key: Option<&str>,
    entry: &EntryFields,
    author: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO resource_entries (key, kind, product_line, visibility, url, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(key)
    .bind(entry.kind.as_str())
    .bind(entry.product_line.as_deref())
    .bind(entry.visibility.as_str())
    .bind(entry.url.as_deref())
    .bind(author)
    .bind(seconds(now))
    .fetch_one(&mut **transaction)
    .await?;
    write_releases_and_tags(transaction, id, entry).await?;
    Ok(id)
}

/// Replaces what entry `id`'s languages share (and its key, when one is given).
async fn replace_entry(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    key: Option<&str>,
    entry: &EntryFields,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE resource_entries SET key = COALESCE($1, key), kind = $2, product_line = $3, \
         visibility = $4, url = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(key)
    .bind(entry.kind.as_str())
    .bind(entry.product_line.as_deref())
    .bind(entry.visibility.as_str())
    .bind(entry.url.as_deref())
    .bind(seconds(now))
    .bind(id)
    .execute(&mut **transaction)
    .await?;
    for table in ["resource_releases", "resource_tags"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE entry_id = $1"
        )))
        .bind(id)
        .execute(&mut **transaction)
        .await?;
    }
    write_releases_and_tags(transaction, id, entry).await
}

/// Moves translation `id` to `state`; publishing it dates its publication.
async fn set_state(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    published_at: Option<Timestamp>,
    state: TranslationState,
    author: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let published_at = if state == TranslationState::Published {
        Some(now)
    } else {
        published_at
    };
    sqlx::query(
        "UPDATE resource_translations SET state = $1, updated_by = $2, updated_at = $3, \
         published_at = $4 WHERE id = $5",
    )
    .bind(state.as_str())
    .bind(author)
    .bind(seconds(now))
    .bind(published_at.map(seconds))
    .bind(id)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

async fn write_releases_and_tags(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    entry: &EntryFields,
) -> Result<(), StoreError> {
    for version in &entry.releases {
        sqlx::query("INSERT INTO resource_releases (entry_id, version) VALUES ($1, $2)")
            .bind(id)
            .bind(version)
            .execute(&mut **transaction)
            .await?;
    }
    for tag in &entry.tags {
        sqlx::query("INSERT INTO resource_tags (entry_id, tag) VALUES ($1, $2)")
            .bind(id)
            .bind(tag)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

async fn insert_revision(
    transaction: &mut Transaction<'static, Any>,
    translation: i64,
    revision: i64,
    text: &TranslationText,
    author: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO resource_revisions (translation_id, revision, title, body, author, \
         written_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(translation)
    .bind(revision)
    .bind(&text.title)
    .bind(&text.body)
    .bind(author)
    .bind(seconds(now))
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

async fn touch_entry(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE resource_entries SET updated_at = $1 WHERE id = $2")
        .bind(seconds(now))
        .bind(id)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

fn parse<T>(text: String, parse: fn(&str) -> Option<T>, what: &str) -> Result<T, StoreError> {
    parse(&text).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} \"{text}\"")))
}

fn translation_of(row: &AnyRow) -> Result<Translation, StoreError> {
    Ok(Translation {
        id: row.try_get("id")?,
        entry_id: row.try_get("entry_id")?,
        language: row.try_get("language")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        state: parse(row.try_get("state")?, TranslationState::parse, "state")?,
        revision: row.try_get("revision")?,
        updated_by: row.try_get("updated_by")?,
        updated_at: instant(row.try_get("updated_at")?)?,
        published_at: row
            .try_get::<Option<i64>, _>("published_at")?
            .map(instant)
            .transpose()?,
    })
}

fn hit_of(row: &AnyRow) -> Result<ResourceHit, StoreError> {
    Ok(ResourceHit {
        entry_id: row.try_get("entry_id")?,
        kind: parse(row.try_get("kind")?, EntryKind::parse, "kind")?,
        product_line: row.try_get("product_line")?,
        visibility: parse(row.try_get("visibility")?, Visibility::parse, "visibility")?,
        url: row.try_get("url")?,
        translation: translation_of(row)?,
        score: row.try_get("score")?,
    })
}

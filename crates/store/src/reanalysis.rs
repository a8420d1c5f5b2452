//! When the search's analysis of words changes (caredesk_domain::resources::search), the
//! terms already indexed no longer meet those a new query is cut into. The migration that
//! brings the change lists what to analyse again: the tickets' texts through their backlog
//! (`tickets::search`), the resource center's translations and the community's questions
//! in `search_reanalysis`, one row per kind with the next id to read. `Store::migrate`
//! works through them once, a batch a transaction, before the desk answers anyone.

use caredesk_domain::resources::search;
use sqlx::{Any, Row, Transaction};

use crate::resources::{TermCountChanges, TranslationText};
use crate::{Store, StoreError};

/// How many translations, or questions with their answers, one transaction analyses again.
pub const REANALYSIS_BATCH: i64 = 500;

/// What `search_reanalysis` lists, by its `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Resources,
    Community,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Resources => "resources",
            Kind::Community => "community",
        }
    }
}

impl Store {
    /// Indexes again, with today's analysis, the translations and questions a migration
    /// listed, `batch` a transaction; returns how many were read. Instances starting
    /// together on one PostgreSQL database take the batches in turn.
    pub async fn reanalyse_search_texts(&self, batch: i64) -> Result<u64, StoreError> {
        let batch = batch.max(1);
        let mut read = 0;
        for kind in [Kind::Resources, Kind::Community] {
            loop {
                let mut transaction = self.begin_write().await?;
                let next: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT next_id FROM search_reanalysis WHERE kind = $1{}",
                    self.for_update()
                )))
                .bind(kind.name())
                .fetch_optional(&mut *transaction)
                .await?;
                let Some(next) = next else { break };
                let texts = self
                    .texts_analysed_again(&mut transaction, kind, next, batch)
                    .await?;
                let mut counts = TermCountChanges::default();
                for (id, text) in &texts {
                    match kind {
                        Kind::Resources => {
                            self.index_translation(&mut transaction, *id, text, &mut counts)
                                .await?
                        }
                        Kind::Community => {
                            self.reindex_question(&mut transaction, *id, text).await?
                        }
                    }
                }
                self.write_term_counts(&mut transaction, counts).await?;
                let (count, last) = (texts.len() as i64, texts.last().map(|(id, _)| *id));
                match last {
                    Some(last) if count == batch => {
                        sqlx::query("UPDATE search_reanalysis SET next_id = $1 WHERE kind = $2")
                            .bind(last + 1)
                            .bind(kind.name())
                            .execute(&mut *transaction)
                            .await?;
                    }
                    _ => {
                        sqlx::query("DELETE FROM search_reanalysis WHERE kind = $1")
                            .bind(kind.name())
                            .execute(&mut *transaction)
                            .await?;
                    }
                }
                transaction.commit().await?;
                read += count as u64;
                tracing::info!(
                    kind = kind.name(),
                    read,
                    "indexing the search's texts again with its new analysis"
                );
            }
        }
        Ok(read)
    }

    /// The texts of `kind` from id `next` on, at most `batch`, each with its terms as
    /// today's analysis makes them.
    async fn texts_analysed_again(
        &self,
        transaction: &mut Transaction<'static, Any>,
        kind: Kind,
        next: i64,
        batch: i64,
    ) -> Result<Vec<(i64, TranslationText)>, StoreError> {
        let table = match kind {
            Kind::Resources => "resource_translations",
            Kind::Community => "community_questions",
        };
        // Locked: a review or a revision written meanwhile by another instance would
        // otherwise be indexed over with the text, state and visibility read here.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, language, title, body FROM {table} WHERE id >= $1 ORDER BY id LIMIT $2{}",
            self.for_update()
        )))
        .bind(next)
        .bind(batch)
        .fetch_all(&mut **transaction)
        .await?;
        let mut texts = Vec::with_capacity(rows.len());
        for row in &rows {
            let language: String = row.try_get("language")?;
            let title: String = row.try_get("title")?;
            let body: String = row.try_get("body")?;
            let (title_terms, body_terms) = search::indexed_terms(&title, &body, &language);
            let text = TranslationText {
                language,
                title,
                body,
                title_terms,
                body_terms,
            };
            texts.push((row.try_get("id")?, text));
        }
        Ok(texts)
    }

    /// Question `id`, analysed again as `text`: its terms and its answers' kept, then
    /// indexed together.
    async fn reindex_question(
        &self,
        transaction: &mut Transaction<'static, Any>,
        id: i64,
        text: &TranslationText,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE community_questions SET title_terms = $1, body_terms = $2 WHERE id = $3",
        )
        .bind(&text.title_terms)
        .bind(&text.body_terms)
        .bind(id)
        .execute(&mut **transaction)
        .await?;
        let answers: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, body FROM community_answers WHERE question_id = $1")
                .bind(id)
                .fetch_all(&mut **transaction)
                .await?;
        for (answer, body) in answers {
            sqlx::query("UPDATE community_answers SET terms = $1 WHERE id = $2")
                .bind(search::markdown_terms(&body, &text.language))
                .bind(answer)
                .execute(&mut **transaction)
                .await?;
        }
        self.index_question(transaction, id).await
    }
}

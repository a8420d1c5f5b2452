//! Community questions and answers (`caredesk_domain::resources::community`): the questions,
//! their answers, votes and history, and the search index of questions. The terms indexed
//! come analysed from the caller, as for the resource center's entries; a question is
//! indexed with the terms of its answers that are shown, in the transaction that changes them.

use caredesk_domain::notify::NoticeKind;
use caredesk_domain::resources::community::{AnswerNotice, HistoryStep, Participant};
use caredesk_domain::resources::search::Lookup;
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::resources::full_text_query;
use crate::{Backend, SqlBuilder, Store, StoreError, instant, seconds};

/// A question as its asker wrote it, with its terms for the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewQuestion {
    pub customer_id: i64,
    pub contact_id: i64,
    pub product_line: Option<String>,
    pub release: Option<String>,
    pub language: String,
    pub title: String,
    pub body: String,
    pub title_terms: String,
    pub body_terms: String,
}

/// A question with all of its answers and history, hidden ones included: the desk decides
/// who reads what.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredQuestion {
    pub id: i64,
    pub customer_id: i64,
    pub contact_id: i64,
    pub asker_name: String,
    pub product_line: Option<String>,
    pub release: Option<String>,
    pub language: String,
    pub title: String,
    pub body: String,
    pub accepted_answer_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub hidden_reason: Option<String>,
    pub created_at: Timestamp,
    pub active_at: Timestamp,
    pub answers: Vec<StoredAnswer>,
    pub history: Vec<StoredStep>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoredAnswer {
    pub id: i64,
    pub author: Participant,
    pub author_name: String,
    pub body: String,
    pub votes: i64,
    pub verified_by: Option<String>,
    pub verified_at: Option<Timestamp>,
    pub hidden_reason: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredStep {
    pub answer_id: Option<i64>,
    pub step: HistoryStep,
    /// Who: a contact or a member of staff (staff with their role now).
    pub actor: Participant,
    pub actor_name: String,
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// Which questions a reader may find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuestionFilter {
    /// Hidden questions too: all of them (staff), or this contact's (their own).
    pub hidden: HiddenQuestions,
    /// Any of these languages (none: every language).
    pub languages: Vec<String>,
    pub product_line: Option<String>,
    /// Questions about this release, or about no release in particular.
    pub release: Option<String>,
    /// Only questions with an accepted or a verified answer.
    pub solved_only: bool,
    /// Only this contact's questions.
    pub asked_by: Option<i64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HiddenQuestions {
    #[default]
    None,
    OfContact(i64),
    All,
}

/// A question found, for lists and results.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionHit {
    pub id: i64,
    pub product_line: Option<String>,
    pub release: Option<String>,
    pub language: String,
    pub title: String,
    pub body: String,
    /// Answers shown.
    pub answers: i64,
    pub accepted: bool,
    pub verified: bool,
    pub hidden: bool,
    pub created_at: Timestamp,
    pub active_at: Timestamp,
}

const HIT_COLUMNS: &str = "q.id, q.product_line, q.version, q.language, q.title, q.body, \
     q.hidden_reason, q.created_at, q.active_at, q.accepted_answer_id, \
     (SELECT COUNT(*) FROM community_answers a WHERE a.question_id = q.id \
      AND a.hidden_reason IS NULL) AS shown_answers, \
     (SELECT COUNT(*) FROM community_answers a WHERE a.question_id = q.id \
      AND a.hidden_reason IS NULL AND a.verified_at IS NOT NULL) AS verified_answers";

impl Store {
    /// Writes a new question, indexed, with the first step of its history; its number.
    pub async fn ask_question(
        &self,
        question: &NewQuestion,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut transaction = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO community_questions (customer_id, contact_id, product_line, version, \
             language, title, body, title_terms, body_terms, created_at, active_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(question.customer_id)
        .bind(question.contact_id)
        .bind(&question.product_line)
        .bind(&question.release)
        .bind(&question.language)
        .bind(&question.title)
        .bind(&question.body)
        .bind(&question.title_terms)
        .bind(&question.body_terms)
        .bind(seconds(now))
        .fetch_one(&mut *transaction)
        .await?;
        let asker = Participant::Contact {
            id: question.contact_id,
        };
        append_step(
            &mut transaction,
            id,
            None,
            HistoryStep::Asked,
            asker,
            None,
            now,
        )
        .await?;
        self.index_question(&mut transaction, id).await?;
        transaction.commit().await?;
        Ok(id)
    }

    /// Question `id` with every answer and step.
    pub async fn community_question(&self, id: i64) -> Result<StoredQuestion, StoreError> {
        let row = sqlx::query(
            "SELECT q.id, q.customer_id, q.contact_id, c.name AS asker_name, q.product_line, \
             q.version, q.language, q.title, q.body, q.accepted_answer_id, q.ticket_id, \
             q.hidden_reason, q.created_at, q.active_at FROM community_questions q \
             JOIN contacts c ON c.id = q.contact_id WHERE q.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let answers = sqlx::query(
            "SELECT a.id, a.contact_id, a.staff_id, s.role AS staff_role, \
             COALESCE(c.name, s.name) AS author_name, a.body, a.votes, v.name AS verifier, \
             a.verified_at, a.hidden_reason, a.created_at FROM community_answers a \
             LEFT JOIN contacts c ON c.id = a.contact_id LEFT JOIN staff s ON s.id = a.staff_id \
             LEFT JOIN staff v ON v.id = a.verified_by WHERE a.question_id = $1 ORDER BY a.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(answer_of)
        .collect::<Result<Vec<_>, _>>()?;
        let history = sqlx::query(
            "SELECT h.answer_id, h.step, h.contact_id, h.staff_id, s.role AS staff_role, \
             COALESCE(c.name, s.name) AS actor_name, h.reason, h.at FROM community_history h \
             LEFT JOIN contacts c ON c.id = h.contact_id LEFT JOIN staff s ON s.id = h.staff_id \
             WHERE h.question_id = $1 ORDER BY h.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(step_of)
        .collect::<Result<Vec<_>, _>>()?;
        Ok(StoredQuestion {
            id: row.try_get("id")?,
            customer_id: row.try_get("customer_id")?,
            contact_id: row.try_get("contact_id")?,
            asker_name: row.try_get("asker_name")?,
            product_line: row.try_get("product_line")?,
            release: row.try_get("version")?,
            language: row.try_get("language")?,
            title: row.try_get("title")?,
            body: row.try_get("body")?,
            accepted_answer_id: row.try_get("accepted_answer_id")?,
            ticket_id: row.try_get("ticket_id")?,
            hidden_reason: row.try_get("hidden_reason")?,
            created_at: instant(row.try_get("created_at")?)?,
            active_at: instant(row.try_get("active_at")?)?,
            answers,
            history,
        })
    }

    /// Adds `author`'s answer to question `question` (with its terms for the index) and,
    /// with `notice`, the asker's notice of it, in one transaction; the answer's number.
    pub async fn add_answer(
        &self,
        question: i64,
        author: Participant,
        body: &str,
        terms: &str,
        notice: Option<&AnswerNotice>,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut transaction = self.begin_write().await?;
        let locked = self.lock_question(&mut transaction, question).await?;
        if locked.hidden {
            return Err(hidden_now());
        }
        let asker = locked.asker;
        let (contact, staff) = ids_of(author);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO community_answers (question_id, contact_id, staff_id, body, terms, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(question)
        .bind(contact)
        .bind(staff)
        .bind(body)
        .bind(terms)
        .bind(seconds(now))
        .fetch_one(&mut *transaction)
        .await?;
        append_step(
            &mut transaction,
            question,
            Some(id),
            HistoryStep::Answered,
            author,
            None,
            now,
        )
        .await?;
        touch(&mut transaction, question, now).await?;
        self.index_question(&mut transaction, question).await?;
        if let Some(notice) = notice {
            let details = serde_json::to_string(notice)
                .map_err(|error| StoreError::Corrupt(format!("an answer's notice: {error}")))?;
            sqlx::query(
                "INSERT INTO outbox (event_seq, kind, recipient, contact_id, details, \
                 not_before, created_at) VALUES (0, $1, 'contact', $2, $3, $4, $4)",
            )
            .bind(NoticeKind::CommunityAnswer.as_str())
            .bind(asker)
            .bind(details)
            .bind(seconds(now))
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        if notice.is_some() {
            self.outbox_written.notify_one();
        }
        Ok(id)
    }

    /// Answer `answer` becomes question `question`'s accepted one (in place of any other).
    pub async fn accept_answer(
        &self,
        question: i64,
        answer: i64,
        actor: Participant,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_question(&mut transaction, question).await?;
        // Checked again under the lock: neither may have been hidden meanwhile.
        let changed = sqlx::query(
            "UPDATE community_questions SET accepted_answer_id = $1, active_at = $2 \
             WHERE id = $3 AND hidden_reason IS NULL AND EXISTS (SELECT 1 FROM \
             community_answers a WHERE a.id = $1 AND a.question_id = $3 \
             AND a.hidden_reason IS NULL)",
        )
        .bind(answer)
        .bind(seconds(now))
        .bind(question)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(hidden_now());
        }
        append_step(
            &mut transaction,
            question,
            Some(answer),
            HistoryStep::Accepted,
            actor,
            None,
            now,
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Member of staff `staff` vouches for answer `answer` of question `question`.
    pub async fn verify_answer(
        &self,
        question: i64,
        answer: i64,
        staff: Participant,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        let locked = self.lock_question(&mut transaction, question).await?;
        if locked.hidden {
            return Err(hidden_now());
        }
        let changed = sqlx::query(
            "UPDATE community_answers SET verified_by = $1, verified_at = $2 \
             WHERE id = $3 AND question_id = $4 AND verified_at IS NULL \
             AND hidden_reason IS NULL",
        )
        .bind(match staff {
            Participant::Staff { id, .. } => Some(id),
            Participant::Contact { .. } => None,
        })
        .bind(seconds(now))
        .bind(answer)
        .bind(question)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::Conflict(
                "the answer is verified already".into(),
            ));
        }
        append_step(
            &mut transaction,
            question,
            Some(answer),
            HistoryStep::Verified,
            staff,
            None,
            now,
        )
        .await?;
        touch(&mut transaction, question, now).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Gives (`up`) or takes back `voter`'s vote for answer `answer`; its votes after.
    pub async fn vote(
        &self,
        answer: i64,
        voter: &str,
        up: bool,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut transaction = self.begin_write().await?;
        // One counter per answer: its row is held while it is counted again.
        let hidden: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT hidden_reason FROM community_answers WHERE id = $1{}",
            self.for_update()
        )))
        .bind(answer)
        .fetch_optional(&mut *transaction)
        .await?
        .ok_or(StoreError::NotFound)?;
        if up && hidden.is_some() {
            return Err(hidden_now());
        }
        if up {
            sqlx::query(
                "INSERT INTO community_votes (answer_id, voter, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (answer_id, voter) DO NOTHING",
            )
            .bind(answer)
            .bind(voter)
            .bind(seconds(now))
            .execute(&mut *transaction)
            .await?;
        } else {
            sqlx::query("DELETE FROM community_votes WHERE answer_id = $1 AND voter = $2")
                .bind(answer)
                .bind(voter)
                .execute(&mut *transaction)
                .await?;
        }
        let votes: i64 = sqlx::query_scalar(
            "UPDATE community_answers SET votes = (SELECT COUNT(*) FROM community_votes v \
             WHERE v.answer_id = $1) WHERE id = $1 RETURNING votes",
        )
        .bind(answer)
        .fetch_optional(&mut *transaction)
        .await?
        .ok_or(StoreError::NotFound)?;
        transaction.commit().await?;
        Ok(votes)
    }

    /// The answers of question `question` that `voter` voted for.
    pub async fn votes_of(&self, question: i64, voter: &str) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT v.answer_id FROM community_votes v JOIN community_answers a \
             ON a.id = v.answer_id WHERE a.question_id = $1 AND v.voter = $2 ORDER BY v.answer_id",
        )
        .bind(question)
        .bind(voter)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Hides (with `hidden`, the moderator's reason) or shows again question `question`, or
    /// one of its answers; a hidden answer is no longer the accepted one. The step is kept
    /// with `reason`.
    pub async fn moderate(
        &self,
        question: i64,
        answer: Option<i64>,
        hidden: Option<&str>,
        actor: Participant,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        // Held while its index row is written again, so that an answer written meanwhile
        // neither brings a hidden answer's words back nor loses its own.
        self.lock_question(&mut transaction, question).await?;
        let changed = match answer {
            Some(answer) => {
                let changed = sqlx::query(
                    "UPDATE community_answers SET hidden_reason = $1 \
                     WHERE id = $2 AND question_id = $3",
                )
                .bind(hidden)
                .bind(answer)
                .bind(question)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
                if hidden.is_some() {
                    sqlx::query(
                        "UPDATE community_questions SET accepted_answer_id = NULL \
                         WHERE id = $1 AND accepted_answer_id = $2",
                    )
                    .bind(question)
                    .bind(answer)
                    .execute(&mut *transaction)
                    .await?;
                }
                changed
            }
            None => sqlx::query("UPDATE community_questions SET hidden_reason = $1 WHERE id = $2")
                .bind(hidden)
                .bind(question)
                .execute(&mut *transaction)
                .await?
                .rows_affected(),
        };
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let step = if hidden.is_some() {
            HistoryStep::Hidden
        } else {
            HistoryStep::Shown
        };
        append_step(
            &mut transaction,
            question,
            answer,
            step,
            actor,
            Some(reason),
            now,
        )
        .await?;
        self.index_question(&mut transaction, question).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Records that question `question` became ticket `ticket`: `false` when it had become
    /// one already.
    pub async fn link_question_to_ticket(
        &self,
        question: i64,
        ticket: i64,
        actor: Participant,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE community_questions SET ticket_id = $1 WHERE id = $2 AND ticket_id IS NULL",
        )
        .bind(ticket)
        .bind(question)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if changed == 0 {
            transaction.rollback().await?;
            return Ok(false);
        }
        append_step(
            &mut transaction,
            question,
            None,
            HistoryStep::TicketOpened,
            actor,
            None,
            now,
        )
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// The questions `filter` lets through that match any of `terms`, best first.
    pub async fn search_questions(
        &self,
        terms: &[String],
        filter: &QuestionFilter,
        limit: i64,
    ) -> Result<Vec<QuestionHit>, StoreError> {
        let terms: Vec<String> = terms
            .iter()
            .filter(|term| !term.is_empty())
            .cloned()
            .collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = match self.backend {
            Backend::Sqlite => {
                let mut sql = SqlBuilder::new(&format!(
                    "SELECT {HIT_COLUMNS}, -bm25(community_search, 4.0, 1.0) AS score \
                     FROM community_search JOIN community_questions q \
                     ON q.id = community_search.rowid WHERE community_search MATCH "
                ));
                sql.bind_text(&full_text_query(
                    Backend::Sqlite,
                    &Lookup::Any(terms.clone()),
                ));
                sql
            }
            Backend::Postgres => {
                let mut sql = SqlBuilder::new(&format!(
                    "SELECT {HIT_COLUMNS}, CAST(ts_rank_cd(s.terms, k.query) AS DOUBLE PRECISION) \
                     AS score FROM community_search s \
                     JOIN community_questions q ON q.id = s.question_id \
                     CROSS JOIN (SELECT to_tsquery('simple', "
                ));
                sql.bind_text(&full_text_query(
                    Backend::Postgres,
                    &Lookup::Any(terms.clone()),
                ));
                sql.push(") AS query) k WHERE s.terms @@ k.query");
                sql
            }
        };
        push_question_filter(&mut sql, filter);
        sql.push(" ORDER BY score DESC, q.id DESC LIMIT ");
        sql.bind_i64(limit);
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(question_hit_of)
            .collect()
    }

    /// The questions `filter` lets through, the latest active first.
    pub async fn list_questions(
        &self,
        filter: &QuestionFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<QuestionHit>, StoreError> {
        let mut sql = SqlBuilder::new(&format!(
            "SELECT {HIT_COLUMNS} FROM community_questions q WHERE 1 = 1"
        ));
        push_question_filter(&mut sql, filter);
        sql.push(" ORDER BY q.active_at DESC, q.id DESC LIMIT ");
        sql.bind_i64(limit);
        sql.push(" OFFSET ");
        sql.bind_i64(offset);
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(question_hit_of)
            .collect()
    }

    /// Holds question `id` for the rest of `transaction` (PostgreSQL; SQLite's write
    /// transaction holds everything already): who asked it, and whether it is hidden now.
    async fn lock_question(
        &self,
        transaction: &mut Transaction<'static, Any>,
        id: i64,
    ) -> Result<LockedQuestion, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT contact_id, hidden_reason FROM community_questions WHERE id = $1{}",
            self.for_update()
        )))
        .bind(id)
        .fetch_optional(&mut **transaction)
        .await?
        .ok_or(StoreError::NotFound)?;
        let hidden: Option<String> = row.try_get("hidden_reason")?;
        Ok(LockedQuestion {
            asker: row.try_get("contact_id")?,
            hidden: hidden.is_some(),
        })
    }

    /// (Re)writes the index's row of question `id`: its title's terms, and its body's with
    /// those of its answers that are shown.
    pub(crate) async fn index_question(
        &self,
        transaction: &mut Transaction<'static, Any>,
        id: i64,
    ) -> Result<(), StoreError> {
        let row =
            sqlx::query("SELECT title_terms, body_terms FROM community_questions WHERE id = $1")
                .bind(id)
                .fetch_one(&mut **transaction)
                .await?;
        let title: String = row.try_get("title_terms")?;
        let mut body: String = row.try_get("body_terms")?;
        let answers: Vec<String> = sqlx::query_scalar(
            "SELECT terms FROM community_answers WHERE question_id = $1 \
             AND hidden_reason IS NULL ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut **transaction)
        .await?;
        for terms in answers {
            body.push(' ');
            body.push_str(&terms);
        }
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("DELETE FROM community_search WHERE rowid = $1")
                    .bind(id)
                    .execute(&mut **transaction)
                    .await?;
                sqlx::query(
                    "INSERT INTO community_search (rowid, title, body) VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(&title)
                .bind(&body)
                .execute(&mut **transaction)
                .await?;
            }
            Backend::Postgres => {
                sqlx::query(
                    "INSERT INTO community_search (question_id, terms) VALUES ($1, \
                     setweight(to_tsvector('simple', $2), 'A') || \
                     setweight(to_tsvector('simple', $3), 'B')) \
                     ON CONFLICT (question_id) DO UPDATE SET terms = excluded.terms",
                )
                .bind(id)
                .bind(&title)
                .bind(&body)
                .execute(&mut **transaction)
                .await?;
            }
        }
        Ok(())
    }
}

struct LockedQuestion {
    asker: i64,
    hidden: bool,
}

/// A question or an answer hidden between the caller's look and its write.
fn hidden_now() -> StoreError {
    StoreError::Conflict("this is hidden: show it again first".into())
}

async fn append_step(
    transaction: &mut Transaction<'static, Any>,
    question: i64,
    answer: Option<i64>,
    step: HistoryStep,
    actor: Participant,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let (contact, staff) = ids_of(actor);
    sqlx::query(
        "INSERT INTO community_history (question_id, answer_id, step, contact_id, staff_id, \
         reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(question)
    .bind(answer)
    .bind(step.as_str())
    .bind(contact)
    .bind(staff)
    .bind(reason)
    .bind(seconds(now))
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

async fn touch(
    transaction: &mut Transaction<'static, Any>,
    question: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE community_questions SET active_at = $1 WHERE id = $2")
        .bind(seconds(now))
        .bind(question)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

fn push_question_filter(sql: &mut SqlBuilder, filter: &QuestionFilter) {
    match filter.hidden {
        HiddenQuestions::None => {
            sql.push(" AND q.hidden_reason IS NULL");
        }
        HiddenQuestions::OfContact(contact) => {
            sql.push(" AND (q.hidden_reason IS NULL OR q.contact_id = ");
            sql.bind_i64(contact);
            sql.push(")");
        }
        HiddenQuestions::All => {}
    }
    if !filter.languages.is_empty() {
        sql.push(" AND q.language IN (");
        for (index, language) in filter.languages.iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.bind_text(language);
        }
        sql.push(")");
    }
    if let Some(line) = &filter.product_line {
        sql.push(" AND q.product_line = ");
        sql.bind_text(line);
    }
    if let Some(release) = &filter.release {
        sql.push(" AND (q.version IS NULL OR q.version = ");
        sql.bind_text(release);
        sql.push(")");
    }
    if filter.solved_only {
        sql.push(
            " AND (q.accepted_answer_id IS NOT NULL OR EXISTS (SELECT 1 FROM \
             community_answers a WHERE a.question_id = q.id AND a.hidden_reason IS NULL \
             AND a.verified_at IS NOT NULL))",
        );
    }
    if let Some(contact) = filter.asked_by {
        sql.push(" AND q.contact_id = ");
        sql.bind_i64(contact);
    }
}

fn question_hit_of(row: &AnyRow) -> Result<QuestionHit, StoreError> {
    let accepted: Option<i64> = row.try_get("accepted_answer_id")?;
    let hidden: Option<String> = row.try_get("hidden_reason")?;
    let verified: i64 = row.try_get("verified_answers")?;
    Ok(QuestionHit {
        id: row.try_get("id")?,
        product_line: row.try_get("product_line")?,
        release: row.try_get("version")?,
        language: row.try_get("language")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        answers: row.try_get("shown_answers")?,
        accepted: accepted.is_some(),
        verified: verified > 0,
        hidden: hidden.is_some(),
        created_at: instant(row.try_get("created_at")?)?,
        active_at: instant(row.try_get("active_at")?)?,
    })
}

/// The contact's and the staff member's columns of `who`.
fn ids_of(who: Participant) -> (Option<i64>, Option<i64>) {
    match who {
        Participant::Contact { id } => (Some(id), None),
        Participant::Staff { id, .. } => (None, Some(id)),
    }
}

/// Who a row's `contact_id` or `staff_id` (with `staff_role`) names.
fn participant_of(row: &AnyRow) -> Result<Participant, StoreError> {
    let contact: Option<i64> = row.try_get("contact_id")?;
    let staff: Option<i64> = row.try_get("staff_id")?;
    match (contact, staff) {
        (Some(id), None) => Ok(Participant::Contact { id }),
        (None, Some(id)) => {
            let role: Option<String> = row.try_get("staff_role")?;
            let role = role
                .as_deref()
                .and_then(caredesk_domain::ticket::Role::parse)
                .ok_or_else(|| StoreError::Corrupt(format!("staff {id} has no known role")))?;
            Ok(Participant::Staff { id, role })
        }
        _ => Err(StoreError::Corrupt(
            "a community post or step of no author, or of two".into(),
        )),
    }
}

fn answer_of(row: &AnyRow) -> Result<StoredAnswer, StoreError> {
    let author = participant_of(row)?;
    let verified_at: Option<i64> = row.try_get("verified_at")?;
    Ok(StoredAnswer {
        id: row.try_get("id")?,
        author,
        author_name: row.try_get("author_name")?,
        body: row.try_get("body")?,
        votes: row.try_get("votes")?,
        verified_by: row.try_get("verifier")?,
        verified_at: verified_at.map(instant).transpose()?,
        hidden_reason: row.try_get("hidden_reason")?,
        created_at: instant(row.try_get("created_at")?)?,
    })
}

fn step_of(row: &AnyRow) -> Result<StoredStep, StoreError> {
    let step: String = row.try_get("step")?;
    Ok(StoredStep {
        answer_id: row.try_get("answer_id")?,
        step: HistoryStep::parse(&step)
            .ok_or_else(|| StoreError::Corrupt(format!("\"{step}\" is no step of a question")))?,
        actor: participant_of(row)?,
        actor_name: row.try_get("actor_name")?,
        reason: row.try_get("reason")?,
        at: instant(row.try_get("at")?)?,
    })
}

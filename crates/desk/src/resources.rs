//! The resource center (caredesk_domain::resources): staff write entries and their
//! translations, reviewers publish them, and everyone searches what they may read, the
//! way the pages, the API and the command line all do.
//!
//! Search is the database's full-text index over terms analysed here (stems of the
//! translation's language, Japanese in character pairs); a reader only ever gets what they
//! may read, so a count of results reveals nothing either.

use caredesk_domain::intake::{CatalogRelease, supported_versions};
use caredesk_domain::resources::search::{self, Fragment, plain_text};
use caredesk_domain::resources::{
    EntryFields, EntryKind, Reader, ReviewAction, TITLE_MAX, TranslationFields, TranslationState,
    Visibility, comment_problems, decide_review, entry_problems, missed_search_key,
    normalised_tags, outdated, translation_problems,
};
use caredesk_domain::ticket::{EventData, Role};
use caredesk_store::{
    Entry, FeedbackSummary, MissedSearch, ResourceFilter, ResourceHit, ReviewUpdateError, Revision,
    ShownBefore, TicketsHelped, Translation, TranslationText,
};

use crate::{Caller, Desk, DeskError, FieldProblem};

/// Who writes: anyone on the staff.
const WRITERS: [Role; 4] = [
    Role::Advisor,
    Role::CustomerSuccessManager,
    Role::SupportManager,
    Role::Admin,
];

/// Longest snippet of a search hit, in characters.
const SNIPPET_WIDTH: usize = 220;

/// Writes a new entry with its first language, as a draft.
pub async fn create_entry(
    desk: &Desk,
    caller: &Caller,
    fields: EntryFields,
    first: TranslationFields,
) -> Result<Entry, DeskError> {
    caller.require_role(&WRITERS)?;
    let mut problems = checked_entry(desk, &fields).await?;
    problems.extend(checked_translation(desk, fields.kind, &first));
    refuse_any(problems)?;
    Ok(desk
        .store
        .create_entry(
            &new_entry(fields),
            &indexed(first),
            &caller.key(),
            desk.clock.now(),
        )
        .await?)
}

/// Replaces what every language of entry `id` shares (kind, product line, releases,
/// visibility, tags, link).
pub async fn update_entry(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    fields: EntryFields,
) -> Result<Entry, DeskError> {
    caller.require_role(&WRITERS)?;
    let entry = desk.store.entry(id).await?;
    let mut problems = checked_entry(desk, &fields).await?;
    if fields.kind != entry.kind && fields.kind == EntryKind::Article {
        // An article needs a text in each language; a link may have said nothing.
        for translation in &entry.translations {
            if translation.body.trim().is_empty() {
                problems.push(FieldProblem::of(
                    "kind",
                    caredesk_domain::reason::Reason::invalid(format!(
                        "the {} translation has no text to make an article of",
                        translation.language
                    )),
                ));
            }
        }
    }
    refuse_any(problems)?;
    Ok(desk
        .store
        .update_entry(id, &new_entry(fields), desk.clock.now())
        .await?)
}

/// Adds a language to entry `id`, as a draft.
pub async fn add_translation(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    fields: TranslationFields,
) -> Result<Translation, DeskError> {
    caller.require_role(&WRITERS)?;
    let entry = desk.store.entry(id).await?;
    refuse_any(checked_translation(desk, entry.kind, &fields))?;
    Ok(desk
        .store
        .add_translation(id, &indexed(fields), &caller.key(), desk.clock.now())
        .await?)
}

/// A new revision of a language of entry `id`, only if `expected_revision` (when given) is
/// still the latest: two writers never overwrite each other unknowingly.
pub async fn revise_translation(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    fields: TranslationFields,
    expected_revision: Option<i64>,
) -> Result<Translation, DeskError> {
    caller.require_role(&WRITERS)?;
    let entry = desk.store.entry(id).await?;
    refuse_any(checked_translation(desk, entry.kind, &fields))?;
    Ok(desk
        .store
        .revise_translation(
            id,
            &indexed(fields),
            expected_revision,
            &caller.key(),
            desk.clock.now(),
        )
        .await?)
}

/// Takes a step in a translation's review (submit, publish, send back, archive, restore).
pub async fn review(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    language: &str,
    action: ReviewAction,
) -> Result<Translation, DeskError> {
    // Refused before anything is looked up: a customer learns nothing of what exists.
    caller.require_role(&WRITERS)?;
    let Some(role) = caller.role() else {
        return Err(DeskError::Forbidden(
            "reviews are taken by people on the staff".into(),
        ));
    };
    desk.store
        .review_translation(id, language, &caller.key(), desk.clock.now(), |state| {
            decide_review(state, role, action)
        })
        .await
        .map_err(|error| match error {
            ReviewUpdateError::Refused(refusal) => DeskError::from(refusal),
            ReviewUpdateError::Store(store) => DeskError::from(store),
        })
}

/// Entry `id` as `reader` may read it: only the translations they may read; not found when
/// there is none (a reader cannot tell an entry they may not read from no entry).
pub async fn entry_for(desk: &Desk, reader: Option<&Caller>, id: i64) -> Result<Entry, DeskError> {
    let reader = reader_of(reader);
    let mut entry = desk.store.entry(id).await?;
    entry
        .translations
        .retain(|translation| reader.may_read(entry.visibility, translation.state));
    if entry.translations.is_empty() {
        return Err(DeskError::NotFound);
    }
    Ok(entry)
}

/// The longest part of what a customer typed that a deflection keeps.
pub const TYPED_KEPT: usize = 2_000;

/// A customer's contact says the `language` translation of entry `id` solved their problem
/// while they were writing a ticket: recorded, with what they had typed (its first
/// [`TYPED_KEPT`] characters), instead of a ticket. Only an entry they may read.
pub async fn record_deflection(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    language: &str,
    typed: &str,
) -> Result<i64, DeskError> {
    let Caller::Contact {
        id: contact,
        customer_id,
    } = *caller
    else {
        return Err(DeskError::Forbidden(
            "a deflection is a customer's: their problem, solved without a ticket".into(),
        ));
    };
    let entry = entry_for(desk, Some(caller), id).await?;
    if !entry
        .translations
        .iter()
        .any(|translation| translation.language == language)
    {
        return Err(DeskError::NotFound);
    }
    let typed: String = typed.trim().chars().take(TYPED_KEPT).collect();
    Ok(desk
        .store
        .record_deflection(id, language, customer_id, contact, &typed, desk.clock.now())
        .await?)
}

/// A reader says whether the `language` translation of entry `id` helped, with an optional
/// comment for its writers. Anyone who may read it, signed in or not.
pub async fn give_feedback(
    desk: &Desk,
    reader: Option<&Caller>,
    id: i64,
    language: &str,
    helpful: bool,
    comment: Option<&str>,
) -> Result<(), DeskError> {
    let entry = entry_for(desk, reader, id).await?;
    if !entry
        .translations
        .iter()
        .any(|translation| translation.language == language)
    {
        return Err(DeskError::NotFound);
    }
    let comment = comment.map(str::trim).filter(|comment| !comment.is_empty());
    if let Some(reason) = comment.and_then(comment_problems) {
        return Err(DeskError::Invalid(vec![FieldProblem::of(
            "comment", reason,
        )]));
    }
    let who = reader.map_or_else(|| "anyone".to_string(), Caller::key);
    Ok(desk
        .store
        .record_feedback(id, language, helpful, comment, &who, desk.clock.now())
        .await?)
}

/// What readers said of entry `id`, for its writers.
pub async fn feedback(desk: &Desk, caller: &Caller, id: i64) -> Result<FeedbackSummary, DeskError> {
    caller.require_role(&WRITERS)?;
    desk.store.entry(id).await?;
    Ok(desk.store.feedback_of(id).await?)
}

/// The searches of readers that found nothing, the most frequent first: what the center
/// lacks. For staff.
pub async fn missed_searches(
    desk: &Desk,
    caller: &Caller,
    limit: i64,
) -> Result<Vec<MissedSearch>, DeskError> {
    caller.require_role(&WRITERS)?;
    Ok(desk.store.missed_searches(limit).await?)
}

/// Whether `entry` asks for a review: it names releases of its product line, and none of
/// them is still supported (POLICY.md §2: the most recent releases of the catalog).
pub async fn is_outdated(desk: &Desk, entry: &Entry) -> Result<bool, DeskError> {
    let Some(line) = &entry.product_line else {
        return Ok(false);
    };
    if entry.releases.is_empty() {
        return Ok(false);
    }
    let catalog: Vec<CatalogRelease> = desk
        .store
        .releases_of(line)
        .await?
        .iter()
        .map(crate::catalog::catalog_release)
        .collect();
    Ok(outdated(
        &entry.releases,
        &supported_versions(&desk.policy(), &catalog),
    ))
}

/// How many tickets entry `id` was linked from, and how many of those were solved; for
/// staff.
pub async fn tickets_helped(
    desk: &Desk,
    caller: &Caller,
    id: i64,
) -> Result<TicketsHelped, DeskError> {
    caller.require_role(&WRITERS)?;
    Ok(desk.store.tickets_helped(id).await?)
}

/// What the resource center suggested before ticket `ticket` was sent, for staff.
pub async fn shown_before(
    desk: &Desk,
    caller: &Caller,
    ticket: i64,
) -> Result<Vec<ShownBefore>, DeskError> {
    caller.require_role(&WRITERS)?;
    desk.store.ticket(ticket, caller.scope()).await?;
    Ok(desk.store.suggestions_shown(ticket).await?)
}

/// Starts an article from ticket `ticket`'s accepted solution: a draft for customers (never
/// published by this), in the ticket's language and product line, titled by its subject,
/// its text the problem as the customer described it and the solution the customer
/// accepted. The writer removes the customer's names and data before asking for a review.
pub async fn draft_from_ticket(
    desk: &Desk,
    caller: &Caller,
    ticket: i64,
) -> Result<Entry, DeskError> {
    caller.require_role(&WRITERS)?;
    let record = desk.store.ticket(ticket, caller.scope()).await?;
    let timeline = desk.store.timeline(ticket, caller.scope()).await?;
    // The proposal the customer accepted: the last one before the acceptance.
    let mut proposed: Option<&str> = None;
    let mut accepted: Option<&str> = None;
    for event in &timeline {
        match &event.data {
            EventData::SolutionProposed { body, .. } => proposed = Some(body),
            EventData::SolutionAccepted { .. } => accepted = proposed,
            _ => {}
        }
    }
    let Some(solution) = accepted else {
        return Err(DeskError::Conflict {
            detail: "the customer has accepted no solution on this ticket yet".into(),
            state: None,
            allowed_actions: None,
        });
    };
    let catalog = desk.store.releases_of(&record.product_line).await?;
    let releases = if catalog
        .iter()
        .any(|release| release.version == record.version)
    {
        vec![record.version.clone()]
    } else {
        Vec::new()
    };
    let title: String = record.subject.chars().take(TITLE_MAX).collect();
    let body = format!(
        "## {}\n\n{}\n\n## {}\n\n{}\n",
        problem_heading(&record.language),
        record.description.trim(),
        solution_heading(&record.language),
        solution.trim()
    );
    create_entry(
        desk,
        caller,
        EntryFields {
            kind: EntryKind::Article,
            product_line: Some(record.product_line.clone()),
            releases,
            visibility: Visibility::Customers,
            tags: vec![format!("ticket-{ticket}")],
            url: None,
        },
        TranslationFields {
            language: record.language.clone(),
            title: if title.trim().is_empty() {
                format!("#{ticket}")
            } else {
                title
            },
            body,
        },
    )
    .await
}

/// The headings of an article made from a ticket, in the ticket's language.
fn problem_heading(language: &str) -> &'static str {
    match language {
        "fr" => "Problème",
        "es" => "Problema",
        "de" => "Problem",
        "nl" => "Probleem",
        "ja" => "問題",
        _ => "Problem",
    }
}

fn solution_heading(language: &str) -> &'static str {
    match language {
        "fr" => "Solution",
        "es" => "Solución",
        "de" => "Lösung",
        "nl" => "Oplossing",
        "ja" => "解決策",
        _ => "Solution",
    }
}

/// Every revision of a translation, for staff.
pub async fn revisions(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    language: &str,
) -> Result<Vec<Revision>, DeskError> {
    caller.require_role(&WRITERS)?;
    Ok(desk.store.revisions(id, language).await?)
}

/// What changed between two revisions, line by line.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RevisionDiff {
    pub from: i64,
    pub to: i64,
    pub title_from: String,
    pub title_to: String,
    pub lines: Vec<DiffLine>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DiffLine {
    /// "same", "added" or "removed".
    pub change: &'static str,
    pub text: String,
}

/// The difference between revisions `from` and `to` of a translation, for staff.
pub async fn compare(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    language: &str,
    from: i64,
    to: i64,
) -> Result<RevisionDiff, DeskError> {
    let revisions = revisions(desk, caller, id, language).await?;
    let find = |number: i64, field: &str| {
        revisions
            .iter()
            .find(|revision| revision.revision == number)
            .ok_or_else(|| {
                DeskError::invalid(
                    field.to_string(),
                    format!("no revision {number}; the latest is {}", revisions.len()),
                )
            })
    };
    let (old, new) = (find(from, "from")?, find(to, "to")?);
    let lines = similar::TextDiff::from_lines(&old.body, &new.body)
        .iter_all_changes()
        .map(|change| DiffLine {
            change: match change.tag() {
                similar::ChangeTag::Equal => "same",
                similar::ChangeTag::Insert => "added",
                similar::ChangeTag::Delete => "removed",
            },
            text: change.value().trim_end_matches('\n').to_string(),
        })
        .collect();
    Ok(RevisionDiff {
        from,
        to,
        title_from: old.title.clone(),
        title_to: new.title.clone(),
        lines,
    })
}

/// What someone looks for, and where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceQuery {
    /// The words typed; empty lists instead of searching.
    pub text: String,
    /// Only this language (none: every language of the policy).
    pub language: Option<String>,
    pub product_line: Option<String>,
    pub release: Option<String>,
    pub kind: Option<EntryKind>,
    pub tag: Option<String>,
    /// Staff only: translations in this state (readers get published ones).
    pub state: Option<TranslationState>,
    /// One result per entry, in this language when the entry has it (a page's reader's),
    /// else its best-ranked language; none: every matching translation.
    pub one_per_entry_in: Option<String>,
    /// A search someone made (not a suggestion while they type): when it finds nothing for
    /// a reader other than staff, it is counted among the searches that found nothing.
    pub count_if_missed: bool,
    pub limit: i64,
    pub offset: i64,
}

/// How deep a search of words, or a listing of one result per entry, pages: its first
/// 1,000 results (a page after them is empty). Each later page reads the earlier ones
/// again.
pub const SEARCH_DEPTH: i64 = 1_000;

/// Which of a ranking's results the page at `offset` shows: how many of the best it skips
/// and how many it shows after them, within the first `SEARCH_DEPTH`; `None` past them.
pub(crate) fn ranked_page(offset: i64, limit: i64) -> Option<(i64, i64)> {
    let skipped = offset.clamp(0, SEARCH_DEPTH);
    let shown = limit.min(SEARCH_DEPTH - skipped);
    (shown > 0).then_some((skipped, shown))
}

/// `hits` without the first `skipped`.
pub(crate) fn skip<T>(mut hits: Vec<T>, skipped: i64) -> Vec<T> {
    hits.drain(..usize::try_from(skipped).unwrap_or(0).min(hits.len()));
    hits
}

/// A translation found, with the lines of its text that match.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub hit: ResourceHit,
    pub snippet: Vec<Fragment>,
}

/// What `reader` may read that matches `query`, best first (or, without words, the latest
/// changed first).
pub async fn search(
    desk: &Desk,
    reader: Option<&Caller>,
    query: &ResourceQuery,
) -> Result<Vec<Found>, DeskError> {
    let reader = reader_of(reader);
    let filter = ResourceFilter {
        visibilities: reader.visibilities().to_vec(),
        published_only: !reader.sees_unpublished(),
        languages: query.language.iter().cloned().collect(),
        product_line: query.product_line.clone(),
        release: query.release.clone(),
        kind: query.kind,
        tag: query.tag.as_ref().map(|tag| tag.trim().to_lowercase()),
        state: query.state.filter(|_| reader.sees_unpublished()),
    };
    let policy = desk.policy();
    let languages: Vec<&str> = match &query.language {
        Some(language) => vec![language.as_str()],
        None => policy
            .languages
            .supported
            .iter()
            .map(String::as_str)
            .collect(),
    };
    let wanted = search::query_terms(&query.text, &languages);
    let searched = !query.text.trim().is_empty();
    // A ranking has no cursor, and one result per entry is counted after the entries'
    // languages are put together: a later page finds the earlier ones again and skips
    // them. Such results end after the first SEARCH_DEPTH; a plain listing pages in SQL.
    let skipping = searched || query.one_per_entry_in.is_some();
    let page = if skipping {
        ranked_page(query.offset, query.limit)
    } else {
        Some((0, query.limit)).filter(|(_, shown)| *shown > 0)
    };
    let Some((skipped, shown)) = page else {
        return Ok(Vec::new());
    };
    let read = shown.saturating_add(skipped);
    // Room for an entry's other languages before one is kept per entry.
    let fetched = if query.one_per_entry_in.is_some() {
        read.saturating_mul(4).min(4 * (SEARCH_DEPTH + 100))
    } else {
        read
    };
    let mut hits = if searched {
        desk.store
            .search_resources(
                &search::query_words(&query.text, &languages),
                &filter,
                fetched,
            )
            .await?
    } else {
        let offset = if skipping { 0 } else { query.offset };
        desk.store.list_resources(&filter, fetched, offset).await?
    };
    if let Some(preferred) = &query.one_per_entry_in {
        hits = one_per_entry(hits, preferred);
    }
    let mut hits = skip(hits, skipped);
    // A search of words that found nothing, with no filter to blame, is counted for the
    // writers. Beside the answer: a failure to count never fails the search.
    let unfiltered = query.product_line.is_none()
        && query.release.is_none()
        && query.kind.is_none()
        && query.tag.is_none();
    if hits.is_empty()
        && query.count_if_missed
        && query.offset == 0
        && unfiltered
        && !wanted.is_empty()
        && !reader.sees_unpublished()
        && let Some(key) = missed_search_key(&query.text)
    {
        let language = query
            .language
            .as_deref()
            .or(query.one_per_entry_in.as_deref())
            .unwrap_or_default();
        if let Err(error) = desk
            .store
            .record_missed_search(&key, language, desk.clock.now())
            .await
        {
            tracing::warn!(%error, "a search that found nothing was not counted");
        }
    }
    hits.truncate(usize::try_from(query.limit).unwrap_or(0));
    Ok(hits
        .into_iter()
        .map(|hit| {
            let text = plain_text(&hit.translation.body);
            let snippet = search::snippet(&text, &hit.translation.language, &wanted, SNIPPET_WIDTH);
            Found { hit, snippet }
        })
        .collect())
}

/// The hits, one per entry where the best of its languages ranked, in `preferred` when it
/// has that language among them.
fn one_per_entry(hits: Vec<ResourceHit>, preferred: &str) -> Vec<ResourceHit> {
    let mut kept: Vec<ResourceHit> = Vec::with_capacity(hits.len());
    for hit in hits {
        match kept.iter_mut().find(|kept| kept.entry_id == hit.entry_id) {
            Some(kept) => {
                if hit.translation.language == preferred && kept.translation.language != preferred {
                    *kept = ResourceHit {
                        score: kept.score,
                        ..hit
                    };
                }
            }
            None => kept.push(hit),
        }
    }
    kept
}

fn reader_of(caller: Option<&Caller>) -> Reader {
    match caller {
        None => Reader::Anyone,
        // The desk's operator reads everything.
        Some(Caller::System) => Reader::Staff,
        Some(caller) => Reader::of(caller.role()),
    }
}

async fn checked_entry(desk: &Desk, fields: &EntryFields) -> Result<Vec<FieldProblem>, DeskError> {
    let catalog: Vec<String> = match &fields.product_line {
        Some(line) => desk
            .store
            .releases_of(line)
            .await?
            .into_iter()
            .map(|release| release.version)
            .collect(),
        None => Vec::new(),
    };
    Ok(entry_problems(&desk.policy(), fields, &catalog)
        .into_iter()
        .map(|(field, reason)| FieldProblem::of(field, reason))
        .collect())
}

fn checked_translation(
    desk: &Desk,
    kind: EntryKind,
    fields: &TranslationFields,
) -> Vec<FieldProblem> {
    translation_problems(&desk.policy(), kind, fields)
        .into_iter()
        .map(|(field, reason)| FieldProblem::of(field, reason))
        .collect()
}

fn refuse_any(problems: Vec<FieldProblem>) -> Result<(), DeskError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DeskError::Invalid(problems))
    }
}

/// What the languages share, as kept: releases and tags once each, tags lower-cased, the
/// link trimmed.
pub(crate) fn new_entry(fields: EntryFields) -> EntryFields {
    EntryFields {
        kind: fields.kind,
        product_line: fields.product_line,
        releases: once_each(fields.releases),
        visibility: fields.visibility,
        tags: normalised_tags(&fields.tags),
        url: fields.url.map(|url| url.trim().to_string()),
    }
}

/// The releases in the order given, each once.
fn once_each(releases: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(releases.len());
    for release in releases {
        if !kept.contains(&release) {
            kept.push(release);
        }
    }
    kept
}

/// A translation as stored: trimmed, with its terms for the index.
pub(crate) fn indexed(fields: TranslationFields) -> TranslationText {
    let title = fields.title.trim().to_string();
    let (title_terms, body_terms) = search::indexed_terms(&title, &fields.body, &fields.language);
    TranslationText {
        language: fields.language,
        title,
        body: fields.body,
        title_terms,
        body_terms,
    }
}

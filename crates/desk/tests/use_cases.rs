//! The desk's use cases without HTTP: the rules that moved here from the handlers, on
//! SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use caredesk_desk::intake::{OpenTicket, Opened, open_ticket};
use caredesk_desk::ticket_search;
use caredesk_desk::tickets::{NewFile, act};
use caredesk_desk::{Caller, Clock, Desk, DeskError, DeskLimits};
use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::{Command, ContactMedium, Role};
use caredesk_mail::MessageIds;
use caredesk_store::{NewContact, NewContract, NewCustomer, NewProduct, NewStaff, Scope, Store};
use caredesk_testkit::TestDatabase;
use jiff::civil::date;

macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = caredesk_testkit::TestDatabase::sqlite().await;
                    super::$test(&test).await;
                    test.finish().await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = caredesk_testkit::TestDatabase::postgres().await;
                    super::$test(&test).await;
                    test.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    intake_refuses_what_the_policy_and_the_caller_do_not_allow,
    a_retried_form_opens_one_ticket,
    an_action_and_its_files_are_one_transaction,
    the_resource_center_is_written_reviewed_and_searched,
    resource_files_round_trip_and_a_bad_one_writes_nothing,
    the_community_asks_answers_accepts_verifies_and_moderates,
    staff_find_tickets_by_the_words_written_in_them,
    texts_indexed_before_an_analysis_change_are_analysed_again,
    pages_of_one_result_per_entry_neither_repeat_nor_skip,
    term_counts_follow_every_write_of_the_resource_center,
    a_filter_on_entries_finds_what_the_best_matches_lack,
    a_word_the_databases_cut_differently_is_found,
    the_upkeep_forgets_old_searches_that_found_nothing,
    a_word_in_more_titles_than_are_ranked_is_found_in_titles,
    a_product_is_activated_within_its_licence,
    a_customer_signs_in_once_with_its_one_time_password,
    tickets_planned_for_a_release_learn_it_is_published,
    an_update_is_requested_for_a_line_without_online_update_manager,
);

fn desk_on(store: &Store) -> Desk {
    Desk {
        store: store.clone(),
        current_policy: caredesk_desk::CurrentPolicy::new(Policy::built_in().unwrap()),
        // Monday 23 November 2026, 10:00 in Amsterdam: the EMEA office is open.
        clock: Clock::manual("2026-11-23T09:00:00Z".parse().unwrap()),
        mail_ids: MessageIds::new("desk.example"),
        limits: DeskLimits::default(),
        client_address: None,
        activation_keys: Default::default(),
        update_cache: Default::default(),
    }
}

/// A gold customer in EMEA with a contact, a contract and a registered product.
async fn customer(desk: &Desk, number: &str) -> Caller {
    let now = desk.clock.now();
    let store = &desk.store;
    let customer = store
        .create_customer(
            &NewCustomer {
                number: number.into(),
                name: format!("Customer {number}"),
                region: "emea".into(),
                language: "en".into(),
            },
            now,
        )
        .await
        .unwrap();
    let contact = store
        .create_contact(
            &NewContact {
                customer_id: customer.id,
                name: "Contact".into(),
                email: format!("contact@{}.example", number.to_lowercase()),
                phone: "+31 20 555 0100".into(),
                language: "en".into(),
                designated: true,
                password_hash: None,
            },
            now,
        )
        .await
        .unwrap();
    store
        .create_contract(
            &NewContract {
                customer_id: customer.id,
                program: "gold".into(),
                starts_on: date(2026, 1, 1),
                ends_on: date(2027, 12, 31),
                eula_accepted: true,
            },
            now,
        )
        .await
        .unwrap();
    store
        .register_product(
            &NewProduct {
                customer_id: customer.id,
                product_line: "ol-connect".into(),
                version: "2026.1".into(),
                serial: format!("SN-{number}"),
                licence: Default::default(),
            },
            now,
        )
        .await
        .unwrap();
    Caller::Contact {
        id: contact.id,
        customer_id: customer.id,
    }
}

async fn advisor(desk: &Desk) -> Caller {
    let member = desk
        .store
        .create_staff(
            &NewStaff {
                email: "advisor@desk.example".into(),
                name: "Advisor".into(),
                role: Role::Advisor,
                region: Some("emea".into()),
                languages: vec!["en".into()],
                password_hash: None,
            },
            desk.clock.now(),
        )
        .await
        .unwrap();
    Caller::Staff {
        id: member.id,
        role: member.role,
    }
}

fn form(number: &str) -> OpenTicket {
    OpenTicket {
        channel: "portal".into(),
        severity: "P3".into(),
        product_line: "ol-connect".into(),
        version: "2026.1".into(),
        serial: format!("SN-{number}"),
        subject: "Invoices stopped printing".into(),
        description: "No invoice leaves the print queue.".into(),
        business_impact: "Invoices are late".into(),
        ..OpenTicket::default()
    }
}

/// The fields a refusal names.
fn refused_fields(error: DeskError) -> Vec<String> {
    match error {
        DeskError::Invalid(problems) => problems.into_iter().map(|p| p.field).collect(),
        other => panic!("expected invalid fields, got {other:?}"),
    }
}

async fn intake_refuses_what_the_policy_and_the_caller_do_not_allow(test: &TestDatabase) {
    let desk = desk_on(&test.store);
    let acme = customer(&desk, "ACME").await;
    let other = customer(&desk, "OTHER").await;
    let staff = advisor(&desk).await;
    let Caller::Contact {
        customer_id: other_id,
        ..
    } = other
    else {
        unreachable!()
    };

    // A contact opens tickets for its own organisation only.
    let foreign = OpenTicket {
        customer_id: Some(other_id),
        ..form("ACME")
    };
    let error = open_ticket(&desk, &acme, &foreign, None).await.unwrap_err();
    assert!(matches!(error, DeskError::Forbidden(_)), "{error:?}");

    // Staff must say whose ticket it is; customers come through the portal; subjects are
    // given and short.
    let error = open_ticket(&desk, &staff, &form("ACME"), None)
        .await
        .unwrap_err();
    assert_eq!(refused_fields(error), ["customer_id"]);
    let by_phone = OpenTicket {
        channel: "phone".into(),
        ..form("ACME")
    };
    let error = open_ticket(&desk, &acme, &by_phone, None)
        .await
        .unwrap_err();
    assert_eq!(refused_fields(error), ["channel"]);
    let untitled = OpenTicket {
        subject: " ".into(),
        description: String::new(),
        ..form("ACME")
    };
    let error = open_ticket(&desk, &acme, &untitled, None)
        .await
        .unwrap_err();
    assert_eq!(refused_fields(error), ["subject", "description"]);
    let long = OpenTicket {
        subject: "x".repeat(201),
        ..form("ACME")
    };
    let error = open_ticket(&desk, &acme, &long, None).await.unwrap_err();
    assert_eq!(refused_fields(error), ["subject"]);
    // Another organisation's serial is not this customer's.
    let error = open_ticket(&desk, &acme, &form("OTHER"), None)
        .await
        .unwrap_err();
    assert_eq!(refused_fields(error), ["serial"]);

    assert!(
        desk.store
            .tickets_of(other_id, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing refused was written"
    );
    // Staff naming the customer open it, as a phone ticket.
    let phoned = OpenTicket {
        customer_id: Some(other_id),
        channel: "phone".into(),
        ..form("OTHER")
    };
    let Opened::Ticket(created) = open_ticket(&desk, &staff, &phoned, None).await.unwrap() else {
        panic!("a ticket was expected");
    };
    assert_eq!(created.ticket.customer_id, other_id);
    assert_eq!(created.ticket.channel, "phone");
}

async fn a_retried_form_opens_one_ticket(test: &TestDatabase) {
    let desk = desk_on(&test.store);
    let acme = customer(&desk, "ACME").await;
    let key = Some("form-1".to_string());
    let Opened::Ticket(first) = open_ticket(&desk, &acme, &form("ACME"), key.clone())
        .await
        .unwrap()
    else {
        panic!("a ticket was expected");
    };
    assert!(!first.replayed);
    let Opened::Ticket(again) = open_ticket(&desk, &acme, &form("ACME"), key.clone())
        .await
        .unwrap()
    else {
        panic!("a ticket was expected");
    };
    assert!(again.replayed);
    assert_eq!(again.ticket.id, first.ticket.id);
    // The same key for another request is a conflict, not a second ticket.
    let changed = OpenTicket {
        subject: "Something else".into(),
        ..form("ACME")
    };
    let error = open_ticket(&desk, &acme, &changed, key).await.unwrap_err();
    assert!(matches!(error, DeskError::Conflict { .. }), "{error:?}");
}

async fn an_action_and_its_files_are_one_transaction(test: &TestDatabase) {
    let desk = desk_on(&test.store);
    let acme = customer(&desk, "ACME").await;
    let staff = advisor(&desk).await;
    let Opened::Ticket(created) = open_ticket(&desk, &acme, &form("ACME"), None)
        .await
        .unwrap()
    else {
        panic!("a ticket was expected");
    };
    let id = created.ticket.id;
    let file = NewFile {
        name: "settings.xml".into(),
        content_type: "application/xml".into(),
        content: b"<settings/>".to_vec(),
    };

    // Refused (a customer cannot accept what was never proposed): neither event nor file.
    let refused = act(
        &desk,
        &acme,
        id,
        Command::AcceptSolution {
            note: "thanks".into(),
        },
        None,
        std::slice::from_ref(&file),
    )
    .await;
    assert!(
        matches!(refused, Err(DeskError::Conflict { .. })),
        "{refused:?}"
    );
    assert!(
        desk.store
            .attachments_of(id, Scope::All)
            .await
            .unwrap()
            .is_empty()
    );

    // Done: the file is on the reply it came with.
    desk.clock.advance(jiff::SignedDuration::from_mins(5));
    let acted = act(
        &desk,
        &staff,
        id,
        Command::Reply {
            body: "Please apply the attached settings.".into(),
            via: ContactMedium::Reply,
        },
        None,
        &[file],
    )
    .await
    .unwrap();
    let reply = acted
        .timeline
        .iter()
        .rev()
        .find(|event| event.actor == staff.actor())
        .unwrap();
    let files = desk.store.attachments_of(id, Scope::All).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].event_seq, Some(i64::from(reply.seq)));
    assert_eq!(files[0].filename, "settings.xml");
    // The customer sees it: the reply is public.
    let seen = desk.store.attachments_of(id, acme.scope()).await.unwrap();
    assert_eq!(seen.len(), 1);
}

/// Staff write an entry in two languages, a reviewer publishes one; readers find only what
/// their visibility and its state allow, by the stem of any word, with the matching words
/// marked; revisions are kept, compared and guarded against a stale edit.
async fn the_resource_center_is_written_reviewed_and_searched(test: &TestDatabase) {
    use caredesk_desk::resources::{
        ResourceQuery, add_translation, compare, create_entry, entry_for, review,
        revise_translation, revisions, search,
    };
    use caredesk_domain::resources::{
        EntryFields, EntryKind, ReviewAction, TranslationFields, TranslationState, Visibility,
    };
    use caredesk_store::NewRelease;

    let desk = desk_on(&test.store);
    for (position, version) in [(1, "2024.2"), (2, "2025.1")] {
        desk.store
            .add_release(&NewRelease {
                product_line: "ol-connect".into(),
                version: version.into(),
                kind: "major".into(),
                released_on: date(2025, 1, position as i8),
                download_url: None,
                sha256: None,
                notes: Default::default(),
            })
            .await
            .unwrap();
    }
    let writer = Caller::Staff {
        id: 1,
        role: Role::Advisor,
    };
    let reviewer = Caller::Staff {
        id: 2,
        role: Role::SupportManager,
    };
    let customer = Caller::Contact {
        id: 5,
        customer_id: 3,
    };
    let fields = |visibility| EntryFields {
        kind: EntryKind::Article,
        product_line: Some("ol-connect".into()),
        releases: vec!["2025.1".into()],
        visibility,
        tags: vec!["Printing".into()],
        url: None,
    };
    let english = TranslationFields {
        language: "en".into(),
        title: "Jobs stop printing after an update".into(),
        body: "After updating, restart the **print spooler** and the Connect service.\n\n\
               Printed jobs then leave the queue."
            .into(),
    };

    // Field rules, every one at once.
    let Err(DeskError::Invalid(problems)) = create_entry(
        &desk,
        &writer,
        EntryFields {
            releases: vec!["1999.9".into()],
            ..fields(Visibility::Public)
        },
        TranslationFields {
            title: " ".into(),
            ..english.clone()
        },
    )
    .await
    else {
        panic!("an unknown release and an empty title are refused");
    };
    let named: Vec<&str> = problems
        .iter()
        .map(|problem| problem.field.as_str())
        .collect();
    assert_eq!(named, ["releases", "title"]);

    let entry = create_entry(&desk, &writer, fields(Visibility::Public), english.clone())
        .await
        .unwrap();
    assert_eq!(entry.tags, ["printing"]);
    assert_eq!(entry.translations[0].state, TranslationState::Draft);
    let id = entry.id;
    add_translation(
        &desk,
        &writer,
        id,
        TranslationFields {
            language: "fr".into(),
            title: "Les travaux ne s'impriment plus après une mise à jour".into(),
            body: "Redémarrez le spouleur d'impression.".into(),
        },
    )
    .await
    .unwrap();

    // A draft is nobody's to read but staff's.
    assert!(matches!(
        entry_for(&desk, None, id).await,
        Err(DeskError::NotFound)
    ));
    let query = |text: &str| ResourceQuery {
        text: text.into(),
        limit: 10,
        ..ResourceQuery::default()
    };
    assert!(
        search(&desk, None, &query("printing"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        search(&desk, Some(&writer), &query("printing"))
            .await
            .unwrap()
            .len(),
        1
    );

    // The writer submits; only a reviewer publishes.
    review(&desk, &writer, id, "en", ReviewAction::Submit)
        .await
        .unwrap();
    assert!(matches!(
        review(&desk, &writer, id, "en", ReviewAction::Publish).await,
        Err(DeskError::Forbidden(_))
    ));
    let published = review(&desk, &reviewer, id, "en", ReviewAction::Publish)
        .await
        .unwrap();
    assert_eq!(published.state, TranslationState::Published);
    assert!(matches!(
        review(&desk, &reviewer, id, "en", ReviewAction::Publish).await,
        Err(DeskError::Conflict { .. })
    ));

    // Anyone finds it by any form of a word, the words marked; the French draft stays hidden.
    let found = search(&desk, None, &query("printed spoolers"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].hit.translation.language, "en");
    let marked: Vec<&str> = found[0]
        .snippet
        .iter()
        .filter(|fragment| fragment.matched)
        .map(|fragment| fragment.text.as_str())
        .collect();
    assert_eq!(marked, ["print spooler", "Printed"]);
    let read = entry_for(&desk, None, id).await.unwrap();
    assert_eq!(read.translations.len(), 1);
    // Filters: another release, another language, another kind find nothing.
    for narrowed in [
        ResourceQuery {
            release: Some("2024.2".into()),
            ..query("printing")
        },
        ResourceQuery {
            language: Some("fr".into()),
            ..query("printing")
        },
        ResourceQuery {
            kind: Some(EntryKind::Course),
            ..query("printing")
        },
    ] {
        assert!(
            search(&desk, None, &narrowed).await.unwrap().is_empty(),
            "{narrowed:?}"
        );
    }

    // An internal entry never reaches a customer, by search or by number.
    let internal = create_entry(
        &desk,
        &writer,
        fields(Visibility::Internal),
        TranslationFields {
            title: "Printing: the engineering workaround".into(),
            ..english.clone()
        },
    )
    .await
    .unwrap();
    review(&desk, &reviewer, internal.id, "en", ReviewAction::Publish)
        .await
        .unwrap();
    let customer_sees = search(&desk, Some(&customer), &query("printing"))
        .await
        .unwrap();
    assert_eq!(customer_sees.len(), 1);
    assert_eq!(customer_sees[0].hit.entry_id, id);
    assert!(matches!(
        entry_for(&desk, Some(&customer), internal.id).await,
        Err(DeskError::NotFound)
    ));
    assert_eq!(
        search(&desk, Some(&reviewer), &query("printing"))
            .await
            .unwrap()
            .len(),
        2,
        "staff find the internal entry too"
    );
    // What the search filters on follows the entry's visibility and the text's state.
    let customer_finds = |desk: Desk| async move {
        search(&desk, Some(&customer), &query("printing"))
            .await
            .unwrap()
            .len()
    };
    caredesk_desk::resources::update_entry(&desk, &writer, id, fields(Visibility::Internal))
        .await
        .unwrap();
    assert_eq!(customer_finds(desk.clone()).await, 0, "made internal");
    caredesk_desk::resources::update_entry(&desk, &writer, id, fields(Visibility::Public))
        .await
        .unwrap();
    assert_eq!(customer_finds(desk.clone()).await, 1, "public again");
    review(&desk, &reviewer, id, "en", ReviewAction::Archive)
        .await
        .unwrap();
    assert_eq!(customer_finds(desk.clone()).await, 0, "archived");
    review(&desk, &reviewer, id, "en", ReviewAction::Restore)
        .await
        .unwrap();
    review(&desk, &reviewer, id, "en", ReviewAction::Publish)
        .await
        .unwrap();
    assert_eq!(customer_finds(desk.clone()).await, 1, "published again");

    // Japanese is found by any two characters of a word.
    let japanese = create_entry(
        &desk,
        &writer,
        fields(Visibility::Public),
        TranslationFields {
            language: "ja".into(),
            title: "ラベルの印刷が遅い".into(),
            body: "プリンターを再起動してください。".into(),
        },
    )
    .await
    .unwrap();
    review(&desk, &reviewer, japanese.id, "ja", ReviewAction::Publish)
        .await
        .unwrap();
    let found = search(&desk, None, &query("再起動")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].hit.entry_id, japanese.id);

    // A revision goes live at once, is kept, and a stale one is refused.
    let revised = revise_translation(
        &desk,
        &writer,
        id,
        TranslationFields {
            body: "Restart the print spooler.\n\nThen resubmit the jobs.".into(),
            ..english.clone()
        },
        Some(1),
    )
    .await
    .unwrap();
    assert_eq!(
        (revised.revision, revised.state),
        (2, TranslationState::Published)
    );
    assert!(matches!(
        revise_translation(&desk, &writer, id, english.clone(), Some(1)).await,
        Err(DeskError::StaleVersion(_))
    ));
    assert_eq!(
        search(&desk, None, &query("resubmit")).await.unwrap().len(),
        1
    );
    assert!(
        search(&desk, None, &query("queue"))
            .await
            .unwrap()
            .is_empty(),
        "the old text is gone from the index"
    );
    let kept = revisions(&desk, &writer, id, "en").await.unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].author, "staff:1");
    let diff = compare(&desk, &writer, id, "en", 1, 2).await.unwrap();
    assert!(
        diff.lines
            .iter()
            .any(|line| line.change == "added" && line.text == "Then resubmit the jobs.")
    );
    assert!(diff.lines.iter().any(|line| line.change == "removed"));
    assert!(matches!(
        revisions(&desk, &customer, id, "en").await,
        Err(DeskError::Forbidden(_))
    ));
}

/// Files in, files out: an import writes every entry and language (found again by key on a
/// second import, which changes only what changed), an export gives the same files back, on
/// this database and on another; one bad file among good ones is told by file, line and
/// field, and nothing is written.
async fn resource_files_round_trip_and_a_bad_one_writes_nothing(test: &TestDatabase) {
    use caredesk_desk::resource_files::{export_files, import_files};
    use caredesk_desk::resources::{ResourceQuery, search};

    let desk = desk_on(&test.store);
    let file = |key: &str, language: &str, title: &str, extra: &str, body: &str| {
        (
            format!("{key}.{language}.md"),
            format!(
                "+++\nkey = \"{key}\"\nlanguage = \"{language}\"\ntitle = \"{title}\"\n\
                 kind = \"article\"\nproduct_line = \"ol-connect\"\nvisibility = \"public\"\n\
                 tags = [\"printing\", \"spooler\"]\n{extra}state = \"published\"\n+++\n{body}"
            ),
        )
    };
    let files = vec![
        file(
            "spooler",
            "en",
            "Jobs stop printing",
            "",
            "Restart the **spooler**.\n",
        ),
        file(
            "spooler",
            "fr",
            "Les travaux ne s'impriment plus",
            "",
            "Redémarrez le spouleur.\n",
        ),
        file(
            "fonts",
            "en",
            "Fonts are missing in PDF output",
            "",
            "Embed the fonts.\n\nNo trailing newline",
        ),
    ];
    let operator = Caller::System;
    let done = import_files(&desk, &operator, &files)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((done.entries_created, done.translations_written), (2, 3));
    let found = search(
        &desk,
        None,
        &ResourceQuery {
            text: "spouleur".into(),
            limit: 5,
            ..ResourceQuery::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1, "imported and published entries are found");

    let mut expected = files.clone();
    expected.sort();
    let exported = export_files(&desk, &operator).await.unwrap();
    assert_eq!(exported, expected, "the files as they went in");
    let again = import_files(&desk, &operator, &exported)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            again.entries_created,
            again.entries_updated,
            again.translations_unchanged
        ),
        (0, 2, 3)
    );

    // Elsewhere, the same files make the same entries.
    let other = TestDatabase::sqlite().await;
    let elsewhere = desk_on(&other.store);
    import_files(&elsewhere, &operator, &exported)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(export_files(&elsewhere, &operator).await.unwrap(), exported);
    other.finish().await;

    // One bad file: nothing from any file is written.
    let mut bad = vec![file("new-one", "en", "A new article", "", "Text.\n")];
    bad.push(file(
        "broken",
        "en",
        "Broken",
        "releases = [\"1999.9\"]\n",
        "Text.\n",
    ));
    bad.push(file("broken", "de", "Kaputt", "", ""));
    let problems = import_files(&desk, &operator, &bad)
        .await
        .unwrap()
        .unwrap_err();
    let told: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        told,
        [
            "broken.de.md:1: releases: differs from broken.en.md: the languages of one key share it",
            "broken.de.md:11: body: must not be empty",
            "broken.en.md:9: releases: \"1999.9\" is not a release of the product line",
        ],
        "{told:?}"
    );
    assert_eq!(
        export_files(&desk, &operator).await.unwrap(),
        exported,
        "nothing written"
    );
    // A file with a NUL is told by line; a file written on Windows (BOM, CRLF) is read.
    let mut windows = file(
        "windows",
        "en",
        "Written on Windows",
        "",
        "Line one.\r\nLine two.\r\n",
    );
    windows.1 = format!("\u{feff}{}", windows.1.replace('\n', "\r\n"));
    let nul = (
        "nul.en.md".to_string(),
        format!("{}\0", file("nul", "en", "Nul", "", "x\n").1),
    );
    let problems = import_files(&desk, &operator, &[windows.clone(), nul])
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        (problems[0].file.as_str(), problems[0].line),
        ("nul.en.md", 12)
    );
    import_files(&desk, &operator, &[windows])
        .await
        .unwrap()
        .unwrap();

    // An entry written over the API gets its key when exported, and an import finds it.
    let written = caredesk_desk::resources::create_entry(
        &desk,
        &operator,
        caredesk_domain::resources::EntryFields {
            kind: caredesk_domain::resources::EntryKind::Article,
            product_line: None,
            releases: vec![],
            visibility: caredesk_domain::resources::Visibility::Internal,
            tags: vec![],
            url: None,
        },
        caredesk_domain::resources::TranslationFields {
            language: "en".into(),
            title: "Written on the pages".into(),
            body: "Text.".into(),
        },
    )
    .await
    .unwrap();
    let exported = export_files(&desk, &operator).await.unwrap();
    let name = format!("entry-{}.en.md", written.id);
    assert!(exported.iter().any(|(file, _)| *file == name), "{name}");
    let again = import_files(&desk, &operator, &exported)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.entries_created, 0,
        "every entry found again by its key"
    );

    // Staff who do not review may not import.
    let advisor = Caller::Staff {
        id: 1,
        role: Role::Advisor,
    };
    assert!(matches!(
        import_files(&desk, &advisor, &files).await,
        Err(DeskError::Forbidden(_))
    ));
}

async fn staff_member(desk: &Desk, email: &str, role: Role) -> Caller {
    let member = desk
        .store
        .create_staff(
            &NewStaff {
                email: email.into(),
                name: format!("Staff {email}"),
                role,
                region: Some("emea".into()),
                languages: vec!["en".into()],
                password_hash: None,
            },
            desk.clock.now(),
        )
        .await
        .unwrap();
    Caller::Staff {
        id: member.id,
        role: member.role,
    }
}

async fn the_community_asks_answers_accepts_verifies_and_moderates(test: &TestDatabase) {
    use caredesk_desk::community::{
        QuestionQuery, TicketFromQuestion, accept, answer, ask, moderate, open_ticket_from,
        question_for, search_questions, verify, vote,
    };
    use caredesk_domain::resources::community::{HistoryStep, ModerationAction, QuestionFields};

    let desk = desk_on(&test.store);
    let acme = customer(&desk, "ACME").await;
    let globex = customer(&desk, "GLOBEX").await;
    let advisor = advisor(&desk).await;
    let manager = staff_member(&desk, "manager@desk.example", Role::SupportManager).await;
    let fields = QuestionFields {
        title: "Spooler stops at night".into(),
        body: "Every night the **spooler** stops and invoices wait until morning.".into(),
        product_line: Some("ol-connect".into()),
        release: None,
        language: "en".into(),
    };

    // Contacts ask; staff do not; every faulty field is named at once.
    assert!(matches!(
        ask(&desk, &advisor, fields.clone()).await,
        Err(DeskError::Forbidden(_))
    ));
    let faulty = QuestionFields {
        title: " ".into(),
        body: String::new(),
        product_line: Some("teapot".into()),
        release: None,
        language: "xx".into(),
    };
    let mut refused = refused_fields(ask(&desk, &acme, faulty).await.unwrap_err());
    refused.sort();
    assert_eq!(refused, ["body", "language", "product_line", "title"]);
    let question = ask(&desk, &acme, fields).await.unwrap();
    assert!(question.yours);
    assert_eq!(question.asked_by, "Contact");
    let id = question.id;

    // Nobody signed out reads it or finds it.
    assert!(matches!(
        question_for(&desk, None, id).await,
        Err(DeskError::NotFound)
    ));
    let spooler = QuestionQuery {
        text: "spooler".into(),
        limit: 10,
        ..QuestionQuery::default()
    };
    assert!(
        search_questions(&desk, None, &spooler)
            .await
            .unwrap()
            .is_empty()
    );

    // Another customer and staff answer; the asker hears of each, not of their own.
    let peer = answer(
        &desk,
        &globex,
        id,
        "Restart the **Connect** service after the backup.",
    )
    .await
    .unwrap();
    let peer_answer = peer.answers[0].id;
    assert!(!peer.yours && peer.answers[0].yours && !peer.answers[0].by_staff);
    let staffed = answer(
        &desk,
        &advisor,
        id,
        "The nightly backup locks the spool folder.",
    )
    .await
    .unwrap();
    let staff_answer = staffed.answers[1].id;
    assert!(staffed.answers[1].by_staff);
    answer(&desk, &acme, id, "Thanks, trying it tonight.")
        .await
        .unwrap();
    assert!(matches!(
        answer(&desk, &globex, id, "  ").await,
        Err(DeskError::Invalid(_))
    ));
    let told: Vec<_> = desk
        .store
        .notices_in("pending", 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|notice| notice.kind.as_str() == "community_answer")
        .collect();
    assert_eq!(told.len(), 2, "{told:?}");
    let Caller::Contact { id: asker, .. } = acme else {
        unreachable!()
    };
    assert!(told.iter().all(|notice| {
        notice.contact_id == Some(asker)
            && notice.ticket_id.is_none()
            && notice
                .details
                .as_deref()
                .is_some_and(|details| details.contains("Spooler stops"))
    }));

    // Only the asker or staff accept; a peer's vote counts once, never for oneself.
    assert!(matches!(
        accept(&desk, &globex, id, peer_answer).await,
        Err(DeskError::Forbidden(_))
    ));
    let accepted = accept(&desk, &acme, id, peer_answer).await.unwrap();
    assert_eq!(accepted.accepted_answer_id, Some(peer_answer));
    assert!(matches!(
        vote(&desk, &globex, id, peer_answer, true).await,
        Err(DeskError::Forbidden(_))
    ));
    vote(&desk, &acme, id, peer_answer, true).await.unwrap();
    let voted = vote(&desk, &acme, id, peer_answer, true).await.unwrap();
    assert_eq!((voted.answers[0].votes, voted.answers[0].voted), (1, true));
    let unvoted = vote(&desk, &acme, id, peer_answer, false).await.unwrap();
    assert_eq!(
        (unvoted.answers[0].votes, unvoted.answers[0].voted),
        (0, false)
    );

    // Staff verify, customers do not.
    assert!(matches!(
        verify(&desk, &acme, id, staff_answer).await,
        Err(DeskError::Forbidden(_))
    ));
    let verified = verify(&desk, &advisor, id, staff_answer).await.unwrap();
    assert_eq!(verified.answers[1].verified_by.as_deref(), Some("Advisor"));
    assert!(matches!(
        verify(&desk, &manager, id, staff_answer).await,
        Err(DeskError::Conflict { .. })
    ));

    // Words of an answer find the question; solved ones only, too.
    let backup = QuestionQuery {
        text: "locks backups".into(),
        solved_only: true,
        limit: 10,
        ..QuestionQuery::default()
    };
    let found = search_questions(&desk, Some(&globex), &backup)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].hit.id, id);
    assert!(found[0].hit.accepted && found[0].hit.verified);
    assert_eq!(found[0].hit.answers, 3);

    // Moderators hide with a reason: gone for others, kept for the asker and staff, and in
    // the history.
    assert!(matches!(
        moderate(&desk, &advisor, id, None, ModerationAction::Hide, "spam").await,
        Err(DeskError::Forbidden(_))
    ));
    assert!(matches!(
        moderate(&desk, &manager, id, None, ModerationAction::Hide, " ").await,
        Err(DeskError::Invalid(_))
    ));
    moderate(
        &desk,
        &manager,
        id,
        None,
        ModerationAction::Hide,
        "names a customer's server",
    )
    .await
    .unwrap();
    assert!(matches!(
        question_for(&desk, Some(&globex), id).await,
        Err(DeskError::NotFound)
    ));
    assert!(matches!(
        answer(&desk, &globex, id, "More?").await,
        Err(DeskError::NotFound)
    ));
    assert!(
        search_questions(&desk, Some(&globex), &spooler)
            .await
            .unwrap()
            .is_empty()
    );
    let listed = QuestionQuery {
        limit: 10,
        ..QuestionQuery::default()
    };
    assert!(
        search_questions(&desk, Some(&globex), &listed)
            .await
            .unwrap()
            .is_empty()
    );
    let own = question_for(&desk, Some(&acme), id).await.unwrap();
    assert_eq!(
        own.hidden_reason.as_deref(),
        Some("names a customer's server")
    );
    assert!(own.history.is_empty(), "the history is the staff's");
    let seen = question_for(&desk, Some(&manager), id).await.unwrap();
    let hidden = seen
        .history
        .iter()
        .find(|step| step.step == HistoryStep::Hidden)
        .unwrap();
    assert_eq!(hidden.reason.as_deref(), Some("names a customer's server"));
    moderate(
        &desk,
        &manager,
        id,
        None,
        ModerationAction::Show,
        "edited by the asker",
    )
    .await
    .unwrap();
    assert_eq!(
        search_questions(&desk, Some(&globex), &spooler)
            .await
            .unwrap()
            .len(),
        1
    );

    // A hidden answer is no longer the accepted one, nor read by others.
    moderate(
        &desk,
        &manager,
        id,
        Some(peer_answer),
        ModerationAction::Hide,
        "wrong advice",
    )
    .await
    .unwrap();
    let after = question_for(&desk, Some(&acme), id).await.unwrap();
    assert_eq!(after.accepted_answer_id, None);
    assert!(after.answers.iter().all(|answer| answer.id != peer_answer));
    let author = question_for(&desk, Some(&globex), id).await.unwrap();
    assert_eq!(
        author.answers[0].hidden_reason.as_deref(),
        Some("wrong advice")
    );
    // The store checks again under its lock what the desk checked before: a hidden answer
    // is neither accepted, nor verified, nor voted for, whatever raced with the hiding.
    let now = desk.clock.now();
    let asker_id = match acme {
        Caller::Contact { id, .. } => id,
        _ => unreachable!(),
    };
    let as_asker = caredesk_domain::resources::community::Participant::Contact { id: asker_id };
    assert!(matches!(
        desk.store
            .accept_answer(id, peer_answer, as_asker, now)
            .await,
        Err(caredesk_store::StoreError::Conflict(_))
    ));
    assert!(matches!(
        desk.store.vote(peer_answer, "contact:999", true, now).await,
        Err(caredesk_store::StoreError::Conflict(_))
    ));

    // The asker turns it into a ticket once; nobody else does, nor learns its number.
    let form = TicketFromQuestion {
        severity: "P3".into(),
        business_impact: "Invoices are late every morning".into(),
        serial: "SN-ACME".into(),
        version: Some("2026.1".into()),
        ..TicketFromQuestion::default()
    };
    assert!(matches!(
        open_ticket_from(&desk, &globex, id, &form).await,
        Err(DeskError::Forbidden(_))
    ));
    let Opened::Ticket(created) = open_ticket_from(&desk, &acme, id, &form).await.unwrap() else {
        panic!("a ticket")
    };
    assert_eq!(created.ticket.subject, "Spooler stops at night");
    assert!(created.ticket.description.contains("the **spooler** stops"));
    assert!(
        created
            .ticket
            .description
            .contains(&format!("/community/questions/{id}"))
    );
    assert!(matches!(
        open_ticket_from(&desk, &acme, id, &form).await,
        Err(DeskError::Conflict { .. })
    ));
    let mine = question_for(&desk, Some(&acme), id).await.unwrap();
    assert_eq!(mine.ticket_id, Some(created.ticket.id));
    let theirs = question_for(&desk, Some(&globex), id).await.unwrap();
    assert_eq!(theirs.ticket_id, None);
}

/// Staff find a ticket by any form of the words of its subject and description, or of a
/// message or an internal note written since, the latest written first, a page at a time;
/// a ticket is found by a text that holds every word; customers cannot search this way.
async fn staff_find_tickets_by_the_words_written_in_them(test: &TestDatabase) {
    let desk = desk_on(&test.store);
    let acme = customer(&desk, "ACME").await;
    let globex = customer(&desk, "GLOBEX").await;
    let staff = advisor(&desk).await;
    let opened = |caller: Caller, subject: &'static str, description: &'static str| {
        let desk = desk.clone();
        async move {
            let number = if caller == acme { "ACME" } else { "GLOBEX" };
            let form = OpenTicket {
                subject: subject.into(),
                description: description.into(),
                ..form(number)
            };
            match open_ticket(&desk, &caller, &form, None).await.unwrap() {
                Opened::Ticket(created) => created.ticket.id,
                other => panic!("a ticket was expected, got {other:?}"),
            }
        }
    };
    let invoices = opened(
        acme,
        "Invoices stopped printing",
        "No invoice leaves the print queue since the update.",
    )
    .await;
    desk.clock.advance(jiff::SignedDuration::from_mins(5));
    let letters = opened(globex, "Mail merge fails", "The letters come out empty.").await;
    desk.clock.advance(jiff::SignedDuration::from_mins(5));
    act(
        &desk,
        &staff,
        letters,
        Command::Note {
            body: "Their PostScript driver is damaged; the queue holds the letters.".into(),
        },
        None,
        &[],
    )
    .await
    .unwrap();
    let search = |query: &'static str, before: Option<i64>, limit: usize| {
        let desk = desk.clone();
        async move { ticket_search::search(&desk, &staff, query, before, limit).await }
    };
    let ids = |found: &ticket_search::TicketsFound| -> Vec<i64> {
        found.tickets.iter().map(|found| found.ticket.id).collect()
    };

    // Another form of the words of a subject and a description.
    let found = search("printed INVOICES", None, 20).await.unwrap();
    assert_eq!(ids(&found), vec![invoices]);
    let hit = &found.tickets[0];
    assert_eq!((hit.kind, hit.seq, hit.public), ("created", 1, true));
    let marked: Vec<&str> = hit
        .snippet
        .iter()
        .filter(|piece| piece.matched)
        .map(|piece| piece.text.as_str())
        .collect();
    assert_eq!(
        marked,
        vec!["Invoices", "printing", "invoice", "print"],
        "{:?}",
        hit.snippet
    );
    // Words too common to be indexed in one of the languages are not needed.
    let found = search("the invoices of the printer", None, 20)
        .await
        .unwrap();
    assert_eq!(ids(&found), vec![invoices]);
    assert_eq!(found.next, None);

    // An internal note, marked as such.
    let found = search("postscript drivers", None, 20).await.unwrap();
    assert_eq!(ids(&found), vec![letters]);
    assert_eq!(found.tickets[0].kind, "internal_note");
    assert!(!found.tickets[0].public);

    // Every word in one text: the invoices' queue, the letters' queue, not both at once.
    assert!(
        search("invoice driver", None, 20)
            .await
            .unwrap()
            .tickets
            .is_empty()
    );
    // The latest written first, a page at a time.
    let first = search("queue", None, 1).await.unwrap();
    assert_eq!(ids(&first), vec![letters]);
    assert!(first.next.is_some());
    let second = search("queue", first.next, 1).await.unwrap();
    assert_eq!(ids(&second), vec![invoices]);
    assert_eq!(second.next, None);

    // Nothing to look for, and too much.
    assert!(search("   ", None, 20).await.unwrap().tickets.is_empty());
    assert!(
        search("the and of", None, 20)
            .await
            .unwrap()
            .tickets
            .is_empty()
    );
    assert_eq!(
        refused_fields(search("", None, 20).await.unwrap_err()),
        vec!["q"]
    );
    let long = "word ".repeat(101);
    let refused = ticket_search::search(&desk, &staff, &long, None, 20).await;
    assert_eq!(refused_fields(refused.unwrap_err()), vec!["q"]);
    // Internal notes are searched: customers have their own search, by number and subject.
    let refused = ticket_search::search(&desk, &acme, "queue", None, 20).await;
    assert!(
        matches!(refused, Err(DeskError::Forbidden(_))),
        "{refused:?}"
    );

    // Texts written before the search existed are indexed when the store next starts.
    caredesk_testkit::forget_ticket_search(&test.url).await;
    assert!(search("queue", None, 20).await.unwrap().tickets.is_empty());
    desk.store.migrate().await.unwrap();
    let found = search("queue", None, 20).await.unwrap();
    assert_eq!(ids(&found), vec![letters, invoices]);
    // And once only.
    desk.store.migrate().await.unwrap();
    assert_eq!(search("queue", None, 20).await.unwrap(), found);
    // A batch at a time: every event read once, the same texts found.
    caredesk_testkit::forget_ticket_search(&test.url).await;
    let events = desk.store.contents().await.unwrap().events;
    let read = desk.store.index_earlier_ticket_texts(2).await.unwrap();
    assert_eq!(read, u64::try_from(events).unwrap());
    assert_eq!(search("queue", None, 20).await.unwrap(), found);
    assert_eq!(desk.store.index_earlier_ticket_texts(2).await.unwrap(), 0);
}

/// Texts indexed before the search's analysis changed are analysed again when the store
/// next starts, once: a French word typed without its accents then finds an article, a
/// question's answer and a ticket that wrote it with them.
async fn texts_indexed_before_an_analysis_change_are_analysed_again(test: &TestDatabase) {
    use caredesk_desk::community::{QuestionQuery, answer, ask, search_questions};
    use caredesk_desk::resources::{ResourceQuery, create_entry, review, search};
    use caredesk_domain::resources::community::QuestionFields;
    use caredesk_domain::resources::{ReviewAction, TranslationFields};

    let desk = desk_on(&test.store);
    let acme = customer(&desk, "ACME").await;
    let staff = advisor(&desk).await;
    let manager = staff_member(&desk, "manager@desk.example", Role::SupportManager).await;
    let article = create_entry(
        &desk,
        &staff,
        public_article(),
        TranslationFields {
            language: "fr".into(),
            title: "Impressions bloquées dans la file".into(),
            body: "Redémarrez le spouleur.".into(),
        },
    )
    .await
    .unwrap();
    review(&desk, &staff, article.id, "fr", ReviewAction::Submit)
        .await
        .unwrap();
    review(&desk, &manager, article.id, "fr", ReviewAction::Publish)
        .await
        .unwrap();
    let question = ask(
        &desk,
        &acme,
        QuestionFields {
            title: "Le spouleur s'arrête la nuit".into(),
            body: "Tout s'arrête chaque nuit.".into(),
            product_line: None,
            release: None,
            language: "fr".into(),
        },
    )
    .await
    .unwrap();
    answer(
        &desk,
        &staff,
        question.id,
        "Les tâches restent **bloquées** : redémarrez.",
    )
    .await
    .unwrap();
    let ticket = match open_ticket(
        &desk,
        &acme,
        &OpenTicket {
            subject: "Factures bloquées".into(),
            ..form("ACME")
        },
        None,
    )
    .await
    .unwrap()
    {
        Opened::Ticket(created) => created.ticket.id,
        other => panic!("a ticket was expected, got {other:?}"),
    };
    let found = |desk: Desk| async move {
        let articles = search(
            &desk,
            None,
            &ResourceQuery {
                text: "bloquee".into(),
                limit: 10,
                ..ResourceQuery::default()
            },
        )
        .await
        .unwrap();
        let questions = search_questions(
            &desk,
            Some(&acme),
            &QuestionQuery {
                text: "bloquee".into(),
                limit: 10,
                ..QuestionQuery::default()
            },
        )
        .await
        .unwrap();
        let tickets = ticket_search::search(&desk, &staff, "bloquee", None, 20)
            .await
            .unwrap();
        (
            articles
                .iter()
                .map(|found| found.hit.entry_id)
                .collect::<Vec<_>>(),
            questions
                .iter()
                .map(|found| found.hit.id)
                .collect::<Vec<_>>(),
            tickets
                .tickets
                .iter()
                .map(|found| found.ticket.id)
                .collect::<Vec<_>>(),
        )
    };
    let everything = (vec![article.id], vec![question.id], vec![ticket]);
    assert_eq!(found(desk.clone()).await, everything);

    caredesk_testkit::forget_search_analysis(&test.url).await;
    assert_eq!(found(desk.clone()).await, (vec![], vec![], vec![]));
    desk.store.migrate().await.unwrap();
    assert_eq!(found(desk.clone()).await, everything);
    // Once only; and a batch at a time, each text read once.
    assert_eq!(desk.store.reanalyse_search_texts(1).await.unwrap(), 0);
    caredesk_testkit::forget_search_analysis(&test.url).await;
    assert_eq!(desk.store.reanalyse_search_texts(1).await.unwrap(), 2);
    desk.store.migrate().await.unwrap();
    assert_eq!(found(desk.clone()).await, everything);
}

/// The resource center's page lists one result per entry, whatever its languages: its
/// pages, listed or searched, give each entry once, in order, then nothing.
async fn pages_of_one_result_per_entry_neither_repeat_nor_skip(test: &TestDatabase) {
    use caredesk_desk::resources::{ResourceQuery, add_translation, create_entry, review, search};
    use caredesk_domain::resources::{ReviewAction, TranslationFields};

    let desk = desk_on(&test.store);
    let staff = advisor(&desk).await;
    let manager = staff_member(&desk, "manager@desk.example", Role::SupportManager).await;
    let mut entries = Vec::new();
    for (title, languages) in [
        ("Spooler one", &["en", "fr", "de"][..]),
        ("Spooler two", &["en"][..]),
        ("Spooler three", &["en", "nl"][..]),
    ] {
        let translation = |language: &str| TranslationFields {
            language: language.into(),
            title: format!("{title} {language}"),
            body: "Restart the spooler.".into(),
        };
        let entry = create_entry(&desk, &staff, public_article(), translation(languages[0]))
            .await
            .unwrap();
        for language in &languages[1..] {
            add_translation(&desk, &staff, entry.id, translation(language))
                .await
                .unwrap();
        }
        for language in languages {
            review(&desk, &staff, entry.id, language, ReviewAction::Submit)
                .await
                .unwrap();
            review(&desk, &manager, entry.id, language, ReviewAction::Publish)
                .await
                .unwrap();
        }
        entries.push(entry.id);
    }
    for text in ["", "spooler"] {
        let mut paged = Vec::new();
        for offset in 0..4 {
            let page = search(
                &desk,
                None,
                &ResourceQuery {
                    text: text.into(),
                    one_per_entry_in: Some("en".into()),
                    limit: 1,
                    offset,
                    ..ResourceQuery::default()
                },
            )
            .await
            .unwrap();
            assert!(page.len() <= 1, "{text:?} at {offset}");
            paged.extend(page.iter().map(|found| found.hit.entry_id));
        }
        let mut sorted = paged.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, entries, "{text:?}: {paged:?}");
    }
}

/// The search plans its lookups on how many translations hold each term: the counts follow
/// every way a translation is written (created, added, revised, imported many at once,
/// imported again unchanged).
async fn term_counts_follow_every_write_of_the_resource_center(test: &TestDatabase) {
    use caredesk_desk::resource_files::import_files;
    use caredesk_desk::resources::{create_entry, revise_translation};
    use caredesk_domain::resources::TranslationFields;
    use caredesk_domain::resources::search;

    let desk = desk_on(&test.store);
    let staff = advisor(&desk).await;
    async fn counts(desk: &Desk) -> Vec<u64> {
        let words: Vec<Vec<String>> = [
            ("spooler", "en"),
            ("queue", "en"),
            ("fonts", "en"),
            ("imprimante", "fr"),
        ]
        .iter()
        .map(|(word, language)| search::terms(word, language))
        .collect();
        let frequencies = desk.store.resource_term_frequencies(&words).await.unwrap();
        words
            .iter()
            .map(|terms| frequencies.get(&terms[0]).copied().unwrap_or(0))
            .collect()
    }
    let written = create_entry(
        &desk,
        &staff,
        public_article(),
        TranslationFields {
            language: "en".into(),
            title: "Spooler stalls".into(),
            body: "The spooler holds the queue.".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(counts(&desk).await, [1, 1, 0, 0], "each text once");
    caredesk_desk::resources::add_translation(
        &desk,
        &staff,
        written.id,
        TranslationFields {
            language: "fr".into(),
            title: "Imprimante bloquée".into(),
            body: "Redémarrez l'imprimante.".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(counts(&desk).await, [1, 1, 0, 1], "a language added");

    let file = |key: &str, title: &str| {
        (
            format!("{key}.en.md"),
            format!(
                "+++\nkey = \"{key}\"\nlanguage = \"en\"\ntitle = \"{title}\"\n\
                 kind = \"article\"\nvisibility = \"public\"\nstate = \"published\"\n+++\n\
                 Restart the spooler.\n"
            ),
        )
    };
    let files: Vec<(String, String)> = (0..5)
        .map(|number| file(&format!("spooler-{number}"), "Jobs wait in the queue"))
        .collect();
    import_files(&desk, &Caller::System, &files)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counts(&desk).await, [6, 6, 0, 1], "five imported at once");
    import_files(&desk, &Caller::System, &files)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        counts(&desk).await,
        [6, 6, 0, 1],
        "imported again unchanged"
    );
    let mut changed = files.clone();
    changed[0] = file("spooler-0", "Fonts are missing");
    changed[1] = file("spooler-1", "Fonts and the queue");
    import_files(&desk, &Caller::System, &changed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        counts(&desk).await,
        [6, 5, 2, 1],
        "two revised by an import"
    );

    revise_translation(
        &desk,
        &staff,
        written.id,
        TranslationFields {
            language: "en".into(),
            title: "Printing stalls".into(),
            body: "Nothing moves.".into(),
        },
        None,
    )
    .await
    .unwrap();
    assert_eq!(counts(&desk).await, [5, 4, 2, 1], "revised alone");
}

/// A filter on what entries hold (here the product line) finds its texts however many
/// better ranked texts it leaves out (PostgreSQL ranks the best candidates first, then every
/// match when too few candidates pass); an import that changes an entry's visibility
/// changes what the search lets a reader see.
async fn a_filter_on_entries_finds_what_the_best_matches_lack(test: &TestDatabase) {
    use caredesk_desk::resource_files::import_files;
    use caredesk_desk::resources::{ResourceQuery, search};

    let desk = desk_on(&test.store);
    let file = |key: &str, line: &str, visibility: &str, title: &str, body: &str| {
        (
            format!("{key}.en.md"),
            format!(
                "+++\nkey = \"{key}\"\nlanguage = \"en\"\ntitle = \"{title}\"\n\
                 kind = \"article\"\nproduct_line = \"{line}\"\nvisibility = \"{visibility}\"\n\
                 state = \"published\"\n+++\n{body}\n"
            ),
        )
    };
    let mut files: Vec<(String, String)> = (0..120)
        .map(|number| {
            file(
                &format!("connect-{number}"),
                "ol-connect",
                "public",
                "Spooler stalls: restart the spooler",
                "Restart the spooler service, then the spooler queue.",
            )
        })
        .collect();
    let lonely = |visibility: &str| {
        file(
            "suite-spooler",
            "planetpress-suite",
            visibility,
            "Jobs wait",
            "Check the spooler.",
        )
    };
    files.push(lonely("public"));
    import_files(&desk, &Caller::System, &files)
        .await
        .unwrap()
        .unwrap();
    let query = ResourceQuery {
        text: "spooler".into(),
        product_line: Some("planetpress-suite".into()),
        limit: 1,
        ..ResourceQuery::default()
    };
    let found = search(&desk, None, &query).await.unwrap();
    assert_eq!(found.len(), 1, "ranked below 120 texts of another line");
    assert_eq!(found[0].hit.translation.title, "Jobs wait");

    import_files(&desk, &Caller::System, &[lonely("internal")])
        .await
        .unwrap()
        .unwrap();
    assert!(
        search(&desk, None, &query).await.unwrap().is_empty(),
        "made internal"
    );
    assert_eq!(
        search(&desk, Some(&Caller::System), &query)
            .await
            .unwrap()
            .len(),
        1,
        "staff still find it"
    );
}

/// PostgreSQL's parser cuts some of the terms it indexes apart or leaves characters out
/// ("x²" is its lexeme "x", "½" none): the search still plans on what the index holds.
async fn a_word_the_databases_cut_differently_is_found(test: &TestDatabase) {
    use caredesk_desk::resources::{ResourceQuery, create_entry, search};
    use caredesk_domain::resources::TranslationFields;

    let desk = desk_on(&test.store);
    let staff = advisor(&desk).await;
    create_entry(
        &desk,
        &staff,
        public_article(),
        TranslationFields {
            language: "en".into(),
            title: "Scaling a page".into(),
            body: "Enter the area in m² (½ of the sheet).".into(),
        },
    )
    .await
    .unwrap();
    let found = |text: &str| {
        let desk = &desk;
        let query = ResourceQuery {
            text: text.into(),
            limit: 10,
            ..ResourceQuery::default()
        };
        async move {
            search(desk, Some(&Caller::System), &query)
                .await
                .unwrap()
                .into_iter()
                .map(|found| found.hit.translation.title)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("m²").await, ["Scaling a page"]);
    assert_eq!(found("area m²").await, ["Scaling a page"]);
    assert_eq!(found("½ sheet").await, ["Scaling a page"]);
    assert!(found("km²").await.is_empty());
}

/// The writers' list of searches that found nothing keeps what customers looked for in
/// the last 90 days, the most frequent first, and never grows without end.
async fn the_upkeep_forgets_old_searches_that_found_nothing(test: &TestDatabase) {
    let desk = desk_on(&test.store);
    let now = desk.clock.now();
    let days_ago = |days: i64| now - jiff::SignedDuration::from_hours(days * 24);
    for (query, days) in [("spooler", 91), ("font", 89), ("font", 3), ("licence", 1)] {
        desk.store
            .record_missed_search(query, "en", days_ago(days))
            .await
            .unwrap();
    }
    let listed = |desk: &Desk| {
        let store = desk.store.clone();
        async move {
            store
                .missed_searches(10)
                .await
                .unwrap()
                .into_iter()
                .map(|missed| (missed.query, missed.times))
                .collect::<Vec<_>>()
        }
    };
    caredesk_desk::sweep::upkeep(&desk).await.unwrap();
    assert_eq!(
        listed(&desk).await,
        [("font".to_string(), 2), ("licence".to_string(), 1)],
        "last made 91 days ago"
    );
    let forgotten = desk
        .store
        .purge_missed_searches(days_ago(90), 1)
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
    assert_eq!(
        listed(&desk).await,
        [("font".to_string(), 2)],
        "the most frequent"
    );
}

/// A word in more texts than a search ranks (2,000 on SQLite, 1,000 on PostgreSQL) is
/// looked for in titles, and when even its titles are too many, the first found of them
/// (after the filters) are ranked: the search still answers, best first among them, page
/// after page; a better title past them is not ranked, a filter finds its own.
async fn a_word_in_more_titles_than_are_ranked_is_found_in_titles(test: &TestDatabase) {
    use caredesk_desk::resource_files::import_files;
    use caredesk_desk::resources::{ResourceQuery, search};

    let desk = desk_on(&test.store);
    let file = |key: &str, line: &str, title: &str| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!("product_line = \"{line}\"\n")
        };
        (
            format!("{key}.en.md"),
            format!(
                "+++\nkey = \"{key}\"\nlanguage = \"en\"\ntitle = \"{title}\"\n\
                 kind = \"article\"\n{line}visibility = \"public\"\n\
                 state = \"published\"\n+++\nThe spooler keeps {key}.\n"
            ),
        )
    };
    let files: Vec<(String, String)> = (0..2_050)
        .map(|number| {
            file(
                &format!("note-{number}"),
                "",
                &format!("Spooler note {number}"),
            )
        })
        .collect();
    import_files(&desk, &Caller::System, &files)
        .await
        .unwrap()
        .unwrap();
    // Written after the others: past the first found.
    import_files(
        &desk,
        &Caller::System,
        &[
            file("spooler-twice", "", "Spooler spooler"),
            file("suite-spooler", "planetpress-suite", "Spooler of the suite"),
        ],
    )
    .await
    .unwrap()
    .unwrap();
    let page = |offset: i64, line: Option<&str>| {
        let desk = &desk;
        let query = ResourceQuery {
            text: "spooler".into(),
            product_line: line.map(str::to_string),
            limit: 30,
            offset,
            ..ResourceQuery::default()
        };
        async move {
            search(desk, None, &query)
                .await
                .unwrap()
                .into_iter()
                .map(|found| found.hit.translation.title)
                .collect::<Vec<_>>()
        }
    };
    // An import writes its files in their names' order ("note-10" before "note-2").
    let mut numbers: Vec<String> = (0..2_050).map(|number| number.to_string()).collect();
    numbers.sort();
    let titles: Vec<String> = numbers
        .iter()
        .map(|number| format!("Spooler note {number}"))
        .collect();
    assert_eq!(
        page(0, None).await,
        titles[..30],
        "equal ranks, the first written first; the title with the word twice, written \
         last, is not ranked"
    );
    assert_eq!(page(30, None).await, titles[30..60]);
    assert_eq!(
        page(0, Some("planetpress-suite")).await,
        ["Spooler of the suite"],
        "the filter chooses among every title, not among the first found"
    );
}

/// What an article of no product line that anyone may read shares across its languages.
fn public_article() -> caredesk_domain::resources::EntryFields {
    use caredesk_domain::resources::{EntryFields, EntryKind, Visibility};
    EntryFields {
        kind: EntryKind::Article,
        product_line: None,
        releases: Vec::new(),
        visibility: Visibility::Public,
        tags: Vec::new(),
        url: None,
    }
}

/// A contact activates its organisation's product: the code is signed for that serial and
/// machine and allows what care and licence allow; the same machine gets the same code, a
/// machine past the licence's installations is refused until one is deactivated; another
/// organisation cannot see the serial; the key outlives the process.
/// Publishes `releases` (version, kind) of `product_line` straight into the catalog.
async fn add_releases(desk: &Desk, product_line: &str, releases: &[(&str, &str)]) {
    for (version, kind) in releases {
        desk.store
            .add_release(&caredesk_store::NewRelease {
                product_line: product_line.into(),
                version: (*version).into(),
                kind: (*kind).into(),
                released_on: date(2026, 1, 1),
                download_url: None,
                sha256: None,
                notes: Default::default(),
            })
            .await
            .unwrap();
    }
}

/// A product `serial` of `product_line` registered to `customer_id`, licensed for `version`.
async fn licensed_product(
    desk: &Desk,
    customer_id: i64,
    product_line: &str,
    version: &str,
    serial: &str,
) {
    desk.store
        .register_product(
            &NewProduct {
                customer_id,
                product_line: product_line.into(),
                version: version.into(),
                serial: serial.into(),
                licence: caredesk_store::LicenceTerms {
                    licensed_version: Some(version.into()),
                    ..Default::default()
                },
            },
            desk.clock.now(),
        )
        .await
        .unwrap();
}

async fn a_product_is_activated_within_its_licence(test: &TestDatabase) {
    use caredesk_desk::activation::{ActivationForm, Activator, activate, deactivate};
    use caredesk_domain::activation::check_code;
    use caredesk_store::LicenceTerms;

    let desk = desk_on(&test.store);
    add_releases(
        &desk,
        "ol-connect",
        &[
            ("2025.1", "major"),
            ("2025.2", "minor"),
            ("2026.1", "major"),
            ("2026.2", "minor"),
        ],
    )
    .await;
    let contact = customer(&desk, "ACT").await;
    let Caller::Contact { customer_id, .. } = contact else {
        unreachable!()
    };
    licensed_product(&desk, customer_id, "ol-connect", "2025.2", "OLC-LIC").await;
    let owner = Activator::Caller(contact);
    let form = |machine: &str| ActivationForm {
        serial: " OLC-LIC ".into(),
        machine_id: machine.into(),
    };

    let granted = activate(&desk, &owner, form("MACHINE-0001")).await.unwrap();
    assert!(granted.new);
    let public = desk
        .activation_keys
        .verifying_key(&desk.store, desk.clock.now())
        .await
        .unwrap();
    let claims = check_code(&granted.activation.code, &public, "OLC-LIC", "MACHINE-0001").unwrap();
    // Gold care is valid: every release of the line.
    assert_eq!(claims.highest_version, "2026.2");
    assert_eq!(granted.activation.activated_by, contact.key());

    let again = activate(&desk, &owner, form("MACHINE-0001")).await.unwrap();
    assert!(!again.new);
    assert_eq!(again.activation.code, granted.activation.code);
    let refused = activate(&desk, &owner, form("MACHINE-0002")).await;
    assert!(
        matches!(&refused, Err(DeskError::Conflict { detail, .. }) if detail.contains("all 1 installations of OLC-LIC")),
        "{refused:?}"
    );

    // Every faulty field at once; another organisation's serial reads as nobody's.
    let stranger = Activator::Caller(customer(&desk, "OTHER").await);
    let fields = |result: Result<_, DeskError>| match result {
        Err(DeskError::Invalid(problems)) => problems
            .into_iter()
            .map(|problem| format!("{}: {}", problem.field, problem.message))
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let theirs = fields(activate(&desk, &stranger, form("MACHINE-0003")).await);
    let nobodys = fields(
        activate(
            &desk,
            &stranger,
            ActivationForm {
                serial: "OLC-NOBODY".into(),
                machine_id: "MACHINE-0003".into(),
            },
        )
        .await,
    );
    assert_eq!(
        theirs,
        ["serial: OLC-LIC is not a product registered to this customer"]
    );
    assert_eq!(
        nobodys,
        ["serial: OLC-NOBODY is not a product registered to this customer"]
    );
    let both = fields(
        activate(
            &desk,
            &owner,
            ActivationForm {
                serial: String::new(),
                machine_id: "short".into(),
            },
        )
        .await,
    );
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(both[0].starts_with("serial:") && both[1].starts_with("machine_id:"));

    // Deactivated by its owner (not by a stranger), the place is free for the new machine.
    assert!(matches!(
        deactivate(&desk, &stranger, granted.activation.id).await,
        Err(DeskError::NotFound)
    ));
    let freed = deactivate(&desk, &owner, granted.activation.id)
        .await
        .unwrap();
    assert_eq!(
        freed.deactivated_by.as_deref(),
        Some(contact.key().as_str())
    );
    let moved = activate(&desk, &owner, form("MACHINE-0002")).await.unwrap();
    assert!(moved.new);

    // Without valid care, only the licensed major version's updates.
    desk.store
        .register_product(
            &NewProduct {
                customer_id,
                product_line: "ol-connect".into(),
                version: "2025.1".into(),
                serial: "OLC-LATER".into(),
                licence: LicenceTerms {
                    licensed_version: Some("2025.1".into()),
                    installations: Some(2),
                    ..LicenceTerms::default()
                },
            },
            desk.clock.now(),
        )
        .await
        .unwrap();
    let in_2029 = Desk {
        clock: Clock::manual("2029-01-10T09:00:00Z".parse().unwrap()),
        ..desk.clone()
    };
    let lapsed = activate(
        &in_2029,
        &owner,
        ActivationForm {
            serial: "OLC-LATER".into(),
            machine_id: "MACHINE-0009".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(lapsed.activation.highest_version, "2025.2");

    // A restarted desk reads the same key: earlier codes still verify.
    let restarted = desk_on(&test.store);
    let public_again = restarted
        .activation_keys
        .verifying_key(&restarted.store, restarted.clock.now())
        .await
        .unwrap();
    assert_eq!(public_again, public);
    assert!(
        check_code(
            &moved.activation.code,
            &public_again,
            "OLC-LIC",
            "MACHINE-0002"
        )
        .is_ok()
    );
}

/// The activation manager's sign-in: an unknown number and a wrong password get the same
/// answer; the right one, typed loosely, signs in once; a used or expired password says so
/// to whoever holds it; guessing is throttled.
async fn a_customer_signs_in_once_with_its_one_time_password(test: &TestDatabase) {
    use caredesk_desk::activation::{issue_password, sign_in};

    let desk = desk_on(&test.store);
    let Caller::Contact { customer_id, .. } = customer(&desk, "C-1001").await else {
        unreachable!()
    };
    let address = "192.0.2.44".parse().ok();
    let issued = issue_password(&desk, &Caller::System, customer_id)
        .await
        .unwrap();
    assert!(matches!(
        sign_in(&desk, "C-9999", &issued.password, address).await,
        Err(DeskError::WrongCredentials)
    ));
    assert!(matches!(
        sign_in(&desk, "C-1001", "AAAA-BBBB-CCCC-DDDD", address).await,
        Err(DeskError::WrongCredentials)
    ));
    let loosely = issued.password.to_lowercase().replace('-', " ");
    assert_eq!(
        sign_in(&desk, " C-1001 ", &loosely, address)
            .await
            .unwrap()
            .customer_id,
        customer_id
    );
    let used = sign_in(&desk, "C-1001", &issued.password, address).await;
    assert!(
        matches!(&used, Err(DeskError::Invalid(problems)) if problems[0].field == "password" && problems[0].message.contains("used already")),
        "{used:?}"
    );

    let reissued = issue_password(&desk, &Caller::System, customer_id)
        .await
        .unwrap();
    let too_late = Desk {
        clock: Clock::manual("2026-12-24T09:00:00Z".parse().unwrap()),
        ..desk.clone()
    };
    let expired = sign_in(&too_late, "C-1001", &reissued.password, address).await;
    assert!(
        matches!(&expired, Err(DeskError::Invalid(problems)) if problems[0].message.contains("expired")),
        "{expired:?}"
    );

    // Guesses at one customer number wait once the free attempts are spent, right or not.
    let free = desk.limits.sign_in.free_attempts_per_account;
    for _ in 0..free {
        let _ = sign_in(
            &desk,
            "C-1001",
            "WRONG-WRONG-WRONG",
            "198.51.100.1".parse().ok(),
        )
        .await;
    }
    assert!(matches!(
        sign_in(
            &desk,
            "C-1001",
            &reissued.password,
            "198.51.100.1".parse().ok()
        )
        .await,
        Err(DeskError::Throttled { .. })
    ));
}

async fn tickets_planned_for_a_release_learn_it_is_published(test: &TestDatabase) {
    use caredesk_desk::catalog::{ReleaseForm, publish, waiting_tickets};
    use caredesk_domain::ticket::{EventData, Resolution, TicketState};
    use caredesk_store::PlannedTicket;

    let desk = desk_on(&test.store);
    add_releases(&desk, "ol-connect", &[("2026.1", "major")]).await;
    let contact = customer(&desk, "PLAN").await;
    let advisor = advisor(&desk).await;
    let manager = staff_member(&desk, "manager@desk.example", Role::SupportManager).await;
    let mut planned = Vec::new();
    for release in ["2026.2", "2026.02", "2027.1"] {
        let p4 = OpenTicket {
            severity: "P4".into(),
            ..form("PLAN")
        };
        let Opened::Ticket(created) = open_ticket(&desk, &contact, &p4, None).await.unwrap() else {
            panic!("a ticket was expected");
        };
        let id = created.ticket.id;
        act(
            &desk,
            &advisor,
            id,
            Command::ProposeSolution {
                resolution: Resolution::PlannedForRelease {
                    release: release.into(),
                },
                body: "The fix ships with the next update.".into(),
            },
            None,
            &[],
        )
        .await
        .unwrap();
        planned.push(id);
    }
    let (fixed, slipped, later) = (planned[0], planned[1], planned[2]);
    // A release already in the catalog is proposed as the fix, not planned for.
    let refused = act(
        &desk,
        &advisor,
        later,
        Command::ProposeSolution {
            resolution: Resolution::PlannedForRelease {
                release: "2026.01".into(),
            },
            body: "The fix ships with 2026.1.".into(),
        },
        None,
        &[],
    )
    .await
    .unwrap_err();
    assert_eq!(refused_fields(refused), ["resolution.release"]);
    let waiting = waiting_tickets(&desk, &manager, Some("ol-connect"))
        .await
        .unwrap();
    assert_eq!(
        waiting
            .iter()
            .map(|ticket| (ticket.ticket_id, ticket.release.as_str()))
            .collect::<Vec<_>>(),
        [(fixed, "2026.2"), (slipped, "2026.02"), (later, "2027.1")]
    );
    assert!(matches!(
        waiting_tickets(&desk, &contact, None).await,
        Err(DeskError::Forbidden(_))
    ));

    let release = |version: &str, without_fix: Vec<i64>| ReleaseForm {
        product_line: "ol-connect".into(),
        version: version.into(),
        kind: "minor".into(),
        released_on: None,
        download_url: Some("https://downloads.example.com/olc-2026.2.exe".into()),
        sha256: Some("ab".repeat(32)),
        notes: [("en".to_string(), "Barcodes print again.".to_string())].into(),
        without_fix,
    };
    // A ticket named without its fix must be one planned for this very release: nothing is
    // published otherwise.
    let refused = publish(&desk, &manager, release("2026.2", vec![later]))
        .await
        .unwrap_err();
    assert_eq!(refused_fields(refused), ["without_fix"]);
    assert!(desk.store.releases_of("ol-connect").await.unwrap().len() == 1);

    let published = publish(&desk, &manager, release("2026.2", vec![slipped]))
        .await
        .unwrap();
    assert_eq!(
        published.planned_tickets,
        [
            PlannedTicket {
                ticket_id: fixed,
                fixed: true
            },
            PlannedTicket {
                ticket_id: slipped,
                fixed: false
            },
        ]
    );
    // With the fix: a proposal waiting for the customer, saying where to get the release.
    let ticket = desk.store.ticket(fixed, Scope::All).await.unwrap();
    assert_eq!(ticket.state, TicketState::SolutionProposed);
    let timeline = desk.store.timeline(fixed, Scope::All).await.unwrap();
    // Recorded as the manager who published the release.
    assert!(
        timeline
            .iter()
            .rev()
            .take(2)
            .all(|event| event.actor == manager.actor())
    );
    let last: Vec<&EventData> = timeline.iter().rev().take(2).map(|e| &e.data).collect();
    assert_eq!(
        last[1],
        &EventData::ReleasePublished {
            product_line: "ol-connect".into(),
            version: "2026.2".into(),
            fixed: true,
        }
    );
    let EventData::SolutionProposed { resolution, body } = last[0] else {
        panic!("{last:?}");
    };
    assert_eq!(resolution, &Resolution::PermanentFix);
    assert_eq!(
        body,
        &format!(
            "OL Connect 2026.2\nhttps://downloads.example.com/olc-2026.2.exe\nSHA-256: {}\n\nBarcodes print again.",
            "ab".repeat(32)
        )
    );
    // Without it: back with its advisor. The one planned for a later release still waits.
    let ticket = desk.store.ticket(slipped, Scope::All).await.unwrap();
    assert_eq!(ticket.state, TicketState::InProgress);
    let ticket = desk.store.ticket(later, Scope::All).await.unwrap();
    assert_eq!(ticket.state, TicketState::PlannedForRelease);
    assert_eq!(
        waiting_tickets(&desk, &manager, None)
            .await
            .unwrap()
            .iter()
            .map(|ticket| ticket.ticket_id)
            .collect::<Vec<_>>(),
        [later]
    );
    // The customer's consent closes the one with its fix.
    let accepted = act(
        &desk,
        &contact,
        fixed,
        Command::AcceptSolution {
            note: String::new(),
        },
        None,
        &[],
    )
    .await
    .unwrap();
    assert_eq!(accepted.ticket.state, TicketState::Closed);
}

async fn an_update_is_requested_for_a_line_without_online_update_manager(test: &TestDatabase) {
    use caredesk_desk::update_requests::{UpdateRequestForm, request_update};
    use caredesk_domain::intake::IntakeFlag;
    use caredesk_domain::ticket::clocks::{ClockContext, compute};

    let desk = desk_on(&test.store);
    add_releases(
        &desk,
        "planetpress-suite",
        &[("8.0", "major"), ("8.1", "minor"), ("9.0", "major")],
    )
    .await;
    let contact = customer(&desk, "UPD").await;
    let advisor = advisor(&desk).await;
    let Caller::Contact { customer_id, .. } = contact else {
        unreachable!()
    };
    licensed_product(&desk, customer_id, "planetpress-suite", "8.0", "PPS-UPD").await;
    let ask = |version: Option<&str>| UpdateRequestForm {
        customer_id: None,
        serial: " PPS-UPD ".into(),
        version: version.map(str::to_string),
        note: "Please send the installer to IT.".into(),
    };

    // Gold care: the upgrade is the newest offered, asked for by default.
    let created = request_update(&desk, &contact, &ask(None), None)
        .await
        .unwrap();
    assert!(!created.replayed);
    let ticket = &created.ticket;
    assert_eq!(ticket.severity, "P4");
    assert_eq!(ticket.channel, "portal");
    assert_eq!(ticket.region, "emea");
    assert_eq!(ticket.subject, "PlanetPress Suite 8.0 → 9.0 (PPS-UPD)");
    assert_eq!(ticket.description, "Please send the installer to IT.");
    let Caller::Staff { id: advisor_id, .. } = advisor else {
        unreachable!()
    };
    assert_eq!(ticket.assignee_id, Some(advisor_id));
    assert!(
        ticket.flags.contains(&IntakeFlag::UpdateRequest {
            serial: "PPS-UPD".into(),
            installed: "8.0".into(),
            requested: "9.0".into(),
        }),
        "{:?}",
        ticket.flags
    );
    // The default policy does not measure it: due times guide, nothing breaches.
    let context = ClockContext {
        program: &ticket.program,
        region: &ticket.region,
        product_line: &ticket.product_line,
    };
    let week_later = "2026-11-30T09:00:00Z".parse().unwrap();
    let clocks = compute(&desk.policy(), &context, &created.timeline, week_later).unwrap();
    assert!(clocks.first_response.due_at.is_some());
    assert!(!clocks.first_response.measured && !clocks.first_response.breached);

    // Asked again while open: the same request. The update is another one.
    let again = request_update(&desk, &contact, &ask(Some("9.0")), None)
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.ticket.id, ticket.id);
    let update = request_update(&desk, &contact, &ask(Some("8.01")), None)
        .await
        .unwrap();
    assert!(!update.replayed);
    assert_ne!(update.ticket.id, ticket.id);
    let overview = caredesk_desk::products::products_of(&desk, &contact, "en")
        .await
        .unwrap();
    let pps = overview
        .iter()
        .find(|product| product.product.serial == "PPS-UPD")
        .unwrap();
    assert_eq!(
        pps.update_requests,
        [
            ("9.0".to_string(), ticket.id),
            ("8.1".to_string(), update.ticket.id)
        ]
    );

    // Refusals name the field; nothing is opened.
    let reason = |error: DeskError| match error {
        DeskError::Invalid(problems) => problems
            .into_iter()
            .map(|problem| format!("{}: {}", problem.field, problem.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => panic!("{other:?}"),
    };
    let refused = reason(
        request_update(&desk, &contact, &ask(Some("7.0")), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        refused,
        "version: 7.0 is not offered to PPS-UPD: ask for 9.0 or 8.1"
    );
    let online = UpdateRequestForm {
        serial: "SN-UPD".into(),
        ..ask(None)
    };
    assert!(
        reason(
            request_update(&desk, &contact, &online, None)
                .await
                .unwrap_err()
        )
        .starts_with("serial: OL Connect has an online update manager")
    );
    let stranger = customer(&desk, "STRANGER").await;
    assert_eq!(
        reason(
            request_update(&desk, &stranger, &ask(None), None)
                .await
                .unwrap_err()
        ),
        "serial: PPS-UPD is not a registered product of this customer"
    );
    assert_eq!(
        reason(
            request_update(&desk, &advisor, &ask(None), None)
                .await
                .unwrap_err()
        ),
        "customer_id: must not be empty"
    );
    let control = UpdateRequestForm {
        note: "bell\u{7}".into(),
        ..ask(Some("8.1"))
    };
    let refused = reason(
        request_update(&desk, &contact, &control, None)
            .await
            .unwrap_err(),
    );
    assert!(refused.starts_with("note: "), "{refused}");
    // Staff take a request for a customer, on the phone.
    let by_phone = request_update(
        &desk,
        &advisor,
        &UpdateRequestForm {
            customer_id: Some(customer_id),
            ..ask(Some("9.0"))
        },
        None,
    )
    .await
    .unwrap();
    assert!(by_phone.replayed, "the open request answers");
    let open = desk
        .store
        .open_tickets_of_serial(customer_id, "PPS-UPD")
        .await
        .unwrap();
    assert_eq!(open.len(), 2);
}

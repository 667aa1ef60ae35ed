//! The partner hub's pages as HTML (maud), laid out with the NHS.UK design system's classes. No
//! JavaScript: every action is a link or a form, so the pages work on any browser a GP practice
//! or council office has.

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use doorstep_model::news2::News2Assessment;
use doorstep_model::shared::SharedStatus;
use doorstep_model::{ConsentBasis, ResponseOutcome, SharedKind, ThreadSide, Urgency, routing};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::commissioning::Feed;
use crate::sharing::{ActivityLine, Inbox, InboxFilter, ItemPage, WebCaller, WebError};
use crate::storage::WebRole;
use crate::trends::{self, Count, Trends};

pub fn uk_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London).format("%-d %b %Y, %H:%M").to_string()
}

fn uk_time_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map(uk_time).unwrap_or_default()
}

fn uk_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn layout(title: &str, caller: Option<&WebCaller>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Doorstep partner hub" }
                link rel="stylesheet" href="/assets/nhsuk.css";
                link rel="stylesheet" href="/assets/hub.css";
            }
            body {
                a.nhsuk-skip-link href="#main" { "Skip to main content" }
                header.nhsuk-header role="banner" {
                    div.nhsuk-header__container.nhsuk-width-container {
                        div.nhsuk-header__service {
                            a.nhsuk-header__service-logo href="/" {
                                span.nhsuk-header__service-name { "Doorstep partner hub" }
                            }
                        }
                        @if let Some(c) = caller {
                            div.nhsuk-header__account {
                                p.hub-header-user { (c.user.name) ", " (c.org.name) }
                                form.hub-inline-form method="post" action="/sign-out" {
                                    input type="hidden" name="csrf" value=(c.session.csrf);
                                    button.hub-link-button type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                    @if let Some(c) = caller {
                        nav.nhsuk-header__navigation aria-label="Menu" {
                            div.nhsuk-header__navigation-container.nhsuk-width-container {
                                ul.nhsuk-header__navigation-list {
                                    @for (href, label) in nav_links(c.user.role) {
                                        li.nhsuk-header__navigation-item {
                                            a.nhsuk-header__navigation-link href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                div.nhsuk-width-container {
                    main.nhsuk-main-wrapper id="main" role="main" { (body) }
                }
                footer role="contentinfo" {
                    div.nhsuk-footer {
                        div.nhsuk-width-container {
                            p.nhsuk-body-s {
                                "Everything here was shared by a care provider for a stated purpose, under the \
                                 person's recorded consent. Each time you open or answer an item it is logged."
                            }
                        }
                    }
                }
            }
        }
    }
}

fn nav_links(role: WebRole) -> &'static [(&'static str, &'static str)] {
    match role {
        WebRole::Partner => &[("/inbox", "Shared with us")],
        WebRole::Commissioner => &[("/trends", "Trends"), ("/impact", "What ideas led to")],
        WebRole::Manager => {
            &[("/activity", "Partner activity"), ("/feed", "Weekly feed"), ("/impact", "What ideas led to")]
        }
    }
}

fn error_summary(problem: &str) -> Markup {
    html! {
        div.nhsuk-error-summary aria-labelledby="error-summary-title" role="alert" tabindex="-1" {
            h2.nhsuk-error-summary__title id="error-summary-title" { "There is a problem" }
            div.nhsuk-error-summary__body { p { (problem) } }
        }
    }
}

pub fn error(status: StatusCode, e: &WebError) -> Markup {
    let (title, text) = match (status, e) {
        (StatusCode::NOT_FOUND, _) => (
            "Page not found",
            "This item does not exist or is not shared with your organisation. If you followed a link, the provider may \
             have stopped sharing it."
                .to_string(),
        ),
        (StatusCode::INTERNAL_SERVER_ERROR, _) => {
            ("Sorry, there is a problem with the service", "Try again later. Nothing you sent was lost.".to_string())
        }
        _ => ("There is a problem", e.to_string()),
    };
    layout(
        title,
        None,
        html! {
            h1 { (title) }
            p { (text) }
            p { a href="/" { "Go to your home page" } }
        },
    )
}

pub fn sign_in(csrf: &str, email: &str, problem: Option<&str>, notice: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            div.nhsuk-grid-row {
                div."nhsuk-grid-column-two-thirds" {
                    @if let Some(p) = problem { (error_summary(p)) }
                    @if let Some(n) = notice {
                        div.nhsuk-inset-text { p { (n) } }
                    }
                    h1 { "Sign in" }
                    p { "For NHS, council and commissioning staff who receive what home-care providers share." }
                    form method="post" action="/sign-in" novalidate {
                        input type="hidden" name="csrf" value=(csrf);
                        div.nhsuk-form-group {
                            label.nhsuk-label for="email" { "Email address" }
                            input.nhsuk-input id="email" name="email" type="email" autocomplete="username"
                                spellcheck="false" value=(email);
                        }
                        div.nhsuk-form-group {
                            label.nhsuk-label for="password" { "Password" }
                            input.nhsuk-input id="password" name="password" type="password"
                                autocomplete="current-password";
                        }
                        button.nhsuk-button type="submit" { "Sign in" }
                    }
                    p { a href="/forgotten-password" { "Forgotten your password?" } }
                }
            }
        },
    )
}

/// Who to ask for a new password: the hub sends no reset links (a link in a shared mailbox
/// would open someone's account to whoever reads it).
pub fn forgotten_password() -> Markup {
    layout(
        "Forgotten your password?",
        None,
        html! {
            div.nhsuk-grid-row {
                div."nhsuk-grid-column-two-thirds" {
                    a.nhsuk-back-link href="/sign-in" { "Back to sign in" }
                    h1 { "Forgotten your password?" }
                    p {
                        "Ask the person who gave you your account: usually your team's manager or your "
                        "organisation's Doorstep contact. They ask the team that runs this hub to set a new "
                        "password for you, and tell you it in person or by phone."
                    }
                    p {
                        "Doorstep does not send passwords or reset links by e-mail: team mailboxes are read "
                        "by many people."
                    }
                    div.nhsuk-inset-text {
                        p {
                            "If your account is locked after too many tries, wait "
                            (crate::sharing::LOCK_OUT_MINUTES)
                            " minutes and try again, or ask for a new password: setting one lifts the lock."
                        }
                    }
                    p { a href="/sign-in" { "Sign in" } }
                }
            }
        },
    )
}

fn urgency_tag(urgency: &str) -> Markup {
    let (class, urgency) = match urgency {
        "urgent" => ("nhsuk-tag nhsuk-tag--red", Urgency::Urgent),
        "soon" => ("nhsuk-tag nhsuk-tag--orange", Urgency::Soon),
        _ => ("nhsuk-tag nhsuk-tag--grey", Urgency::Routine),
    };
    html! { strong class=(class) { (urgency.label()) } }
}

fn status_tag(status: SharedStatus) -> Markup {
    let class = match status {
        SharedStatus::New => "nhsuk-tag nhsuk-tag--blue",
        SharedStatus::Answered(ResponseOutcome::Declined) | SharedStatus::Revoked => "nhsuk-tag nhsuk-tag--grey",
        SharedStatus::Answered(_) => "nhsuk-tag nhsuk-tag--green",
    };
    html! { strong class=(class) { (status.label()) } }
}

fn select(id: &str, label: &str, chosen: &str, options: &[(String, String)]) -> Markup {
    html! {
        div.nhsuk-form-group {
            label.nhsuk-label for=(id) { (label) }
            select.nhsuk-select id=(id) name=(id) {
                option value="" selected[chosen.is_empty()] { "All" }
                @for (value, text) in options {
                    option value=(value) selected[chosen == value] { (text) }
                }
            }
        }
    }
}

fn query_with_page(filter: &InboxFilter, page: usize) -> String {
    let pairs = [
        ("kind", &filter.kind),
        ("urgency", &filter.urgency),
        ("status", &filter.status),
        ("provider", &filter.provider),
        ("area", &filter.area),
    ];
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            q.append_pair(k, v);
        }
    }
    q.append_pair("page", &page.to_string());
    format!("/inbox?{}", q.finish())
}

pub fn inbox(caller: &WebCaller, filter: &InboxFilter, inbox: &Inbox) -> Markup {
    let kinds: Vec<(String, String)> = SharedKind::ALL.iter().map(|k| (k.code().into(), k.label().into())).collect();
    let urgencies: Vec<(String, String)> = [Urgency::Urgent, Urgency::Soon, Urgency::Routine]
        .iter()
        .map(|u| (u.code().into(), u.label().into()))
        .collect();
    let statuses: Vec<(String, String)> =
        SharedStatus::FILTERS.iter().map(|s| (s.code().into(), s.label().into())).collect();
    let providers: Vec<(String, String)> = inbox.providers.iter().map(|p| (p.clone(), p.clone())).collect();
    let areas: Vec<(String, String)> = inbox.areas.iter().map(|a| (a.clone(), a.clone())).collect();
    layout(
        "Shared with us",
        Some(caller),
        html! {
            h1 { "Shared with " (caller.org.name) }
            p.nhsuk-lede-text #inbox-counts {
                strong { (inbox.new) " new" } " · " strong { (inbox.urgent_new) " urgent" } " · "
                strong { (inbox.overdue.len()) " overdue" }
            }
            @if !inbox.overdue.is_empty() {
                div.nhsuk-warning-callout #overdue {
                    h2.nhsuk-warning-callout__label { "Overdue: please answer" }
                    ul.nhsuk-list {
                        @for row in &inbox.overdue {
                            li {
                                a href=(format!("/items/{}", row.id)) { (row.facts.summary) }
                                " from " (row.facts.provider_name) ". "
                                @if let Some(due) = row.due() { "Was due " (routing::due_words(due, inbox.now)) "." }
                            }
                        }
                    }
                }
            }
            p { (inbox.total) " item" @if inbox.total != 1 { "s" } " shown, most urgent and newest first" }
            @if inbox.rows.is_empty() {
                div.nhsuk-inset-text { p { "Nothing matches. Shared items appear here as soon as a provider shares them." } }
            } @else {
                table.nhsuk-table {
                    caption.nhsuk-table__caption."nhsuk-u-visually-hidden" { "Shared items" }
                    thead.nhsuk-table__head {
                        tr.nhsuk-table__row {
                            th.nhsuk-table__header scope="col" { "Item" }
                            th.nhsuk-table__header scope="col" { "Urgency" }
                            th.nhsuk-table__header scope="col" { "From" }
                            th.nhsuk-table__header scope="col" { "Area" }
                            th.nhsuk-table__header scope="col" { "Status" }
                            th.nhsuk-table__header scope="col" { "Shared" }
                        }
                    }
                    tbody.nhsuk-table__body {
                        @for row in &inbox.rows {
                            tr.nhsuk-table__row {
                                td.nhsuk-table__cell {
                                    a href=(format!("/items/{}", row.id)) { (row.facts.summary) }
                                    br;
                                    span.nhsuk-body-s {
                                        (SharedKind::from_code(&row.facts.kind).map(SharedKind::label).unwrap_or(""))
                                    }
                                }
                                td.nhsuk-table__cell { (urgency_tag(&row.facts.urgency)) }
                                td.nhsuk-table__cell { (row.facts.provider_name) }
                                td.nhsuk-table__cell { (row.facts.area) }
                                td.nhsuk-table__cell {
                                    (status_tag(SharedStatus::from_code(&row.facts.status).unwrap_or(SharedStatus::New)))
                                }
                                td.nhsuk-table__cell {
                                    (uk_time_ms(row.facts.shared_at))
                                    @if let Some(due) = row.due() {
                                        br;
                                        @if inbox.now > due {
                                            strong.nhsuk-body-s { "Overdue: was due " (routing::due_words(due, inbox.now)) }
                                        } @else {
                                            span.nhsuk-body-s { "Answer " (routing::due_words(due, inbox.now)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            details.nhsuk-details #filters open[filter.any()] {
                summary.nhsuk-details__summary { span.nhsuk-details__summary-text { "Filter the list" } }
                div.nhsuk-details__text {
                    form.hub-filters method="get" action="/inbox" {
                        (select("kind", "Kind", &filter.kind, &kinds))
                        (select("urgency", "Urgency", &filter.urgency, &urgencies))
                        (select("status", "Status", &filter.status, &statuses))
                        (select("provider", "Provider", &filter.provider, &providers))
                        (select("area", "Area", &filter.area, &areas))
                        div.nhsuk-form-group { button.nhsuk-button."nhsuk-button--secondary" type="submit" { "Apply filters" } }
                    }
                }
            }
            p { a href="/inbox.csv" { "Download all as CSV" } }
            @if inbox.pages > 1 {
                nav.nhsuk-pagination role="navigation" aria-label="Pages" {
                    ul.nhsuk-list.nhsuk-pagination__list {
                        @if inbox.page > 1 {
                            li.nhsuk-pagination-item--previous {
                                a.nhsuk-pagination__link."nhsuk-pagination__link--prev"
                                    href=(query_with_page(filter, inbox.page - 1)) {
                                    span.nhsuk-pagination__title { "Previous" }
                                    span.nhsuk-pagination__page { "Page " (inbox.page - 1) " of " (inbox.pages) }
                                }
                            }
                        }
                        @if inbox.page < inbox.pages {
                            li.nhsuk-pagination-item--next {
                                a.nhsuk-pagination__link."nhsuk-pagination__link--next"
                                    href=(query_with_page(filter, inbox.page + 1)) {
                                    span.nhsuk-pagination__title { "Next" }
                                    span.nhsuk-pagination__page { "Page " (inbox.page + 1) " of " (inbox.pages) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn consent_words(basis: ConsentBasis) -> &'static str {
    match basis {
        ConsentBasis::PersonConsented => "The person agreed to share (recorded by the provider)",
        ConsentBasis::BestInterests => "Best-interests decision or lasting power of attorney",
        ConsentBasis::NotIdentifiable => "Nothing identifying is shared",
        ConsentBasis::NotYetAsked => "Not yet asked",
    }
}

fn summary_row(key: &str, value: Markup) -> Markup {
    html! {
        div.nhsuk-summary-list__row {
            dt.nhsuk-summary-list__key { (key) }
            dd.nhsuk-summary-list__value { (value) }
        }
    }
}

fn sbard_heading(letter: &str, title: &str) -> Markup {
    html! { h2 { span.hub-sbard__letter aria-hidden="true" { (letter) } (title) } }
}

/// An item for someone busy: who it is about (or how to find out), what is asked of them and
/// by when, then the SBARD and the response form. `problem` re-shows the form after a refusal,
/// with what the partner chose and typed.
pub fn item(caller: &WebCaller, page: &ItemPage, forms: ItemForms<'_>) -> Markup {
    let item = &page.item;
    let sbard = item.sbard();
    let problem = forms.respond;
    let (chosen, typed) = problem.map(|(_, o, m)| (o, m)).unwrap_or(("", ""));
    let news2 = item.observations.as_ref().and_then(|o| o.news2());
    let due = (item.responses.is_empty() && item.revoked.is_none()).then(|| item.respond_by());
    let office = page
        .office
        .as_ref()
        .map(|(phone, hours)| if hours.trim().is_empty() { phone.clone() } else { format!("{phone} ({hours})") });
    layout(
        &item.summary,
        Some(caller),
        html! {
            a.nhsuk-back-link href="/inbox" { "Back to shared items" }
            @if let Some((p, _, _)) = problem { (error_summary(p)) }
            @if let Some((p, _)) = forms.message { (error_summary(p)) }
            @if let Some(notice) = forms.notice {
                div.nhsuk-inset-text role="status" { p { (notice) } }
            }
            (patient_banner(page, office.as_deref()))
            span.nhsuk-caption-l { (item.kind.label()) " from " (item.provider.name) }
            h1 { (item.summary) }
            p {
                (urgency_tag(item.urgency.code())) " " (status_tag(item.status()))
                @if let Some(due) = due {
                    " "
                    @if page.now > due {
                        strong.nhsuk-tag."nhsuk-tag--red" #due { "Overdue: was due " (routing::due_words(due, page.now)) }
                    } @else {
                        strong #due { "Answer " (routing::due_words(due, page.now)) }
                    }
                }
            }
            div.nhsuk-card."nhsuk-card--feature" #asked {
                div.nhsuk-card__content."nhsuk-card__content--feature" {
                    h2.nhsuk-card__heading."nhsuk-card__heading--feature" { "What we are asking you to do" }
                    @if item.suggested_action.trim().is_empty() {
                        p { "Nothing in particular: " (item.provider.name) " wanted you to know. " (item.purpose) }
                    } @else {
                        p.hub-pre { (item.suggested_action) }
                        p.nhsuk-body-s { "Why you: " (item.purpose) }
                    }
                    @if item.revoked.is_none() {
                        p { a href="#respond" { "Respond to this" } }
                    }
                }
            }
            dl.nhsuk-summary-list {
                (summary_row("Shared by", html! {
                    (item.provider.name) ", " (uk_time(item.shared_at))
                    @if let Some(office) = &office { br; "Office: " (office) }
                }))
                (summary_row("Raised by", html! { (page.raised_by()) }))
                (summary_row("Consent", html! { (consent_words(item.consent_basis)) }))
                @if !item.area.is_empty() { (summary_row("Area", html! { (item.area) })) }
                @if !item.out_of_area_reason.is_empty() {
                    (summary_row("Why you, out of area", html! { (item.out_of_area_reason) }))
                }
            }
            div.hub-sbard {
                (sbard_heading("S", "Situation"))
                p { (sbard.situation) }
                (sbard_heading("B", "Background"))
                @if let Some(p) = &item.person {
                    dl.nhsuk-summary-list {
                        @if !p.postcode.is_empty() { (summary_row("Postcode", html! { (p.postcode) })) }
                        @if !p.gp_practice.is_empty() { (summary_row("GP practice", html! { (p.gp_practice) })) }
                        @if !p.what_matters_to_me.is_empty() { (summary_row("What matters to them", html! { (p.what_matters_to_me) })) }
                    }
                }
                @if sbard.background.is_empty() { p { "No more background was given." } }
                @else { p.hub-pre { (sbard.background) } }
                (sbard_heading("A", "Assessment"))
                @if let Some(obs) = &item.observations {
                    p { "Seen at the visit on " (uk_time(obs.observed_at)) "." }
                    @if !obs.soft_signs.is_empty() {
                        h3 { "Soft signs" }
                        ul {
                            @for s in &obs.soft_signs {
                                li {
                                    (s.sign.label()) ": " (s.compared_to_usual.label().to_lowercase())
                                    @if !s.detail.trim().is_empty() { " – " (s.detail) }
                                }
                            }
                        }
                    }
                    @if let Some(n) = &news2 { (news2_table(n)) }
                } @else {
                    p { "No observations were shared with this item." }
                }
                (sbard_heading("R", "Recommendation"))
                @if sbard.recommendation.is_empty() { p { "No action was suggested." } }
                @else { p.hub-pre { (sbard.recommendation) } }
                (sbard_heading("D", "Decision"))
                @if item.responses.is_empty() {
                    p { "No response yet." }
                } @else {
                    ul.nhsuk-list {
                        @for r in &item.responses {
                            li {
                                strong { (r.outcome.label()) } " – " (r.by) ", " (uk_time(r.at))
                                @if !r.message.is_empty() { p.hub-pre { (r.message) } }
                                @match r.admission_likely_avoided {
                                    Some(true) => p { (r.by) " judged that an admission was likely avoided." },
                                    Some(false) => p { (r.by) " judged that acting on it did not avoid an admission." },
                                    None => {},
                                }
                            }
                        }
                    }
                }
            }
            @if item.revoked.is_none() {
                form #respond method="post" action=(format!("/items/{}/respond", item.id)) novalidate {
                    input type="hidden" name="csrf" value=(caller.session.csrf);
                    div.nhsuk-form-group {
                        fieldset.nhsuk-fieldset {
                            legend."nhsuk-fieldset__legend"."nhsuk-fieldset__legend--m" {
                                h2.nhsuk-fieldset__heading { "Your response" }
                            }
                            div.nhsuk-radios {
                                @for o in ResponseOutcome::ALL {
                                    div.nhsuk-radios__item {
                                        input.nhsuk-radios__input id=(format!("outcome-{}", o.code())) name="outcome"
                                            type="radio" value=(o.code()) checked[chosen == o.code()];
                                        label."nhsuk-label"."nhsuk-radios__label" for=(format!("outcome-{}", o.code())) {
                                            (o.label())
                                        }
                                    }
                                }
                            }
                        }
                    }
                    div.nhsuk-form-group {
                        fieldset.nhsuk-fieldset aria-describedby="avoided-hint" {
                            legend."nhsuk-fieldset__legend"."nhsuk-fieldset__legend--s" {
                                "If you took action: did acting on this likely avoid a hospital admission?"
                            }
                            div.nhsuk-hint id="avoided-hint" {
                                "Only kept with \"Action taken\". Your judgement, shared with the provider."
                            }
                            div.nhsuk-radios."nhsuk-radios--inline" {
                                @for (code, label) in [("yes", "Yes"), ("no", "No"), ("not_sure", "Not sure")] {
                                    div.nhsuk-radios__item {
                                        input.nhsuk-radios__input id=(format!("avoided-{code}")) name="avoided"
                                            type="radio" value=(code) checked[forms.avoided == code];
                                        label."nhsuk-label"."nhsuk-radios__label" for=(format!("avoided-{code}")) { (label) }
                                    }
                                }
                            }
                        }
                    }
                    div.nhsuk-form-group {
                        label.nhsuk-label for="message" { "Message for the provider and care worker" }
                        div.nhsuk-hint id="message-hint" {
                            "For example: \"Referral made to the falls team\" or \"OT visit booked Tuesday\". \
                             If you decline, say why."
                        }
                        textarea.nhsuk-textarea id="message" name="message" rows="5" aria-describedby="message-hint" {
                            (typed)
                        }
                    }
                    button.nhsuk-button type="submit" { "Send response" }
                }
            }
            (conversation(caller, page, forms.message.map_or("", |(_, typed)| typed)))
            h2.nhsuk-heading-s { "For IT systems" }
            p.nhsuk-body-s {
                "To load this item into a clinical or case system: "
                a href=(format!("/items/{}/fhir.json", item.id)) { "download it as FHIR R4 (JSON)" } "."
            }
        },
    )
}

/// What an item's page shows besides the item: a notice after a form was taken, or a form to
/// show again with its problem and what was typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemForms<'a> {
    pub notice: Option<&'a str>,
    /// The response form's problem, chosen outcome and typed message.
    pub respond: Option<(&'a str, &'a str, &'a str)>,
    /// The message form's problem and typed text.
    pub message: Option<(&'a str, &'a str)>,
    /// The response form's chosen "admission likely avoided" answer, kept after a problem.
    pub avoided: &'a str,
}

/// The conversation with the provider and the care worker, who has taken the item on, and the
/// forms to write and to take it on.
fn conversation(caller: &WebCaller, page: &ItemPage, typed: &str) -> Markup {
    let item = &page.item;
    html! {
        h2 #conversation { "Messages" }
        @if let Some(h) = &item.handled_by {
            p #handled-by { strong { "Being handled by " (h.by) } " since " (uk_time(h.at)) "." }
        }
        @if item.messages.is_empty() {
            p { "No messages yet. Ask " (item.provider.name) " or the care worker anything you need to know." }
        } @else {
            ul.nhsuk-list #messages {
                @for m in &item.messages {
                    li.hub-message {
                        p.nhsuk-body-s {
                            strong { (page.message_author(m)) }
                            @match m.side {
                                ThreadSide::Partner => { " (" (item.partner.name) ")" }
                                ThreadSide::Provider => { " (" (item.provider.name) ")" }
                            }
                            ", " (uk_time(m.at))
                        }
                        p.hub-pre { (m.text) }
                    }
                }
            }
        }
        @if item.revoked.is_none() {
            form method="post" action=(format!("/items/{}/messages", item.id)) novalidate {
                input type="hidden" name="csrf" value=(caller.session.csrf);
                div.nhsuk-form-group {
                    label.nhsuk-label for="text" { "Write to " (item.provider.name) " and the care worker" }
                    div.nhsuk-hint id="text-hint" { "They see it on their tablets at their next sync, and can answer here." }
                    textarea.nhsuk-textarea id="text" name="text" rows="3" aria-describedby="text-hint" { (typed) }
                }
                button.nhsuk-button."nhsuk-button--secondary" type="submit" { "Send message" }
            }
            @if item.handled_by.as_ref().is_none_or(|h| h.by != caller.user.name) {
                form method="post" action=(format!("/items/{}/handle", item.id)) {
                    input type="hidden" name="csrf" value=(caller.session.csrf);
                    button.nhsuk-button."nhsuk-button--secondary" #handle type="submit" { "I am handling this" }
                }
            }
        }
    }
}

/// Who the item is about, first, as NHS screens show a patient: name, date of birth, NHS number.
/// Without them, how to find out: the provider's phone and a reference to quote.
fn patient_banner(page: &ItemPage, office: Option<&str>) -> Markup {
    let item = &page.item;
    html! {
        div.hub-banner #patient-banner {
            @if let Some(p) = &item.person {
                p.hub-banner__name { (p.name) }
                dl.hub-banner__facts {
                    div { dt { "Born" } dd { (p.date_of_birth.map(uk_date).unwrap_or_else(|| "not known".into())) } }
                    div {
                        dt { "NHS number" }
                        dd { (p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "not known".into())) }
                    }
                }
            } @else {
                p.hub-banner__name { "Not identified" }
                p {
                    "Their details are not shared with your organisation. To find out who it is, "
                    @match office {
                        Some(office) => { "phone " (item.provider.name) " on " strong { (office) } }
                        None => { "contact " (item.provider.name) }
                    }
                    " and quote " strong { (page.reference()) } "."
                }
            }
        }
    }
}

fn news2_table(n: &News2Assessment) -> Markup {
    let scored = match n {
        News2Assessment::Scored(s) => Some(&s.parameters),
        News2Assessment::Incomplete { scored, .. } => Some(scored),
        News2Assessment::NotApplicable { .. } => None,
    };
    html! {
        h3 { (n.summary()) }
        @if let Some(params) = scored {
            table.nhsuk-table {
                caption.nhsuk-table__caption."nhsuk-u-visually-hidden" { "NEWS2 scores by parameter" }
                thead.nhsuk-table__head {
                    tr.nhsuk-table__row {
                        th.nhsuk-table__header scope="col" { "Reading" }
                        th.nhsuk-table__header scope="col" { "Score" }
                    }
                }
                tbody.nhsuk-table__body {
                    @for p in params {
                        tr.nhsuk-table__row {
                            td.nhsuk-table__cell { (p.parameter.label()) }
                            td.nhsuk-table__cell { (p.score) }
                        }
                    }
                }
            }
        }
    }
}

fn count_text(c: &Count) -> String {
    c.value.map_or_else(|| trends::TOO_FEW.to_string(), |v| v.to_string())
}

pub fn trends(caller: &WebCaller, t: &Trends) -> Markup {
    let day = |d: chrono::NaiveDate| d.format("%-d %B %Y").to_string();
    layout(
        "Trends",
        Some(caller),
        html! {
            h1 { "Trends across providers" }
            p.nhsuk-lede-text {
                "How many people carers noticed something about, week by week. Nothing here names a person."
            }
            @if t.scope.is_empty() {
                div.nhsuk-inset-text {
                    p {
                        (caller.org.name) " has no agreement with a care provider on this hub yet, so there is                          nothing to count. Ask the hub's operator to add one."
                    }
                }
            } @else {
                h2 { "What is counted" }
                ul.nhsuk-list.nhsuk-list--bullet {
                    @for (provider, districts) in &t.scope {
                        li {
                            (provider) ": "
                            @if districts.is_empty() { "all their people" } @else { "people in " (districts.join(", ")) }
                        }
                    }
                }
                details.nhsuk-details {
                    summary.nhsuk-details__summary { span.nhsuk-details__summary-text { "How the numbers are made safe" } }
                    div.nhsuk-details__text {
                        p {
                            "Each figure counts people, not visits or notes. A figure is shown only when it covers at least "
                            (trends::MIN_PEOPLE) " people from at least " (trends::MIN_PROVIDERS)
                            " providers, and it is rounded to the nearest " (trends::ROUND_TO)
                            ". Smaller figures say "" (trends::TOO_FEW) ""."
                        }
                        p {
                            "A week is counted once, on the Wednesday after it ends (so tablets that were offline \
                             have sent their notes), and never changes after that."
                        }
                    }
                }
                @if let Some(next) = t.next_count { p { "The next week will be counted on " (day(next)) "." } }
                @if !t.waiting.is_empty() {
                    div.nhsuk-inset-text #waiting {
                        span.nhsuk-u-visually-hidden { "Information: " }
                        p { "Each provider's manager releases their figures for a week before it is counted." }
                        ul.nhsuk-list {
                            @for w in &t.waiting {
                                li {
                                    "Week of " (w.week.format("%-d %b")) ": waiting for " (w.waiting_for) " of "
                                    (w.providers) " providers to release (counted by " (day(w.deadline))
                                    " with whatever was released)"
                                }
                            }
                        }
                    }
                }
                p { a href="/trends.csv" { "Download every week's figures (CSV)" } }
                @if t.weeks.is_empty() {
                    p { "No week has been counted yet." }
                }
                @for (key, heading, rows) in t.tables() {
                    section id=(key) {
                        h2 { (heading) }
                        @if trends::series().iter().any(|(id, _, _)| *id == key) {
                            (PreEscaped(trends::week_chart_svg(&heading, &rows)))
                            @if !rows.is_empty() {
                                table.nhsuk-table {
                                    caption.nhsuk-table__caption.nhsuk-u-visually-hidden { (heading) }
                                    thead.nhsuk-table__head {
                                        tr.nhsuk-table__row {
                                            th.nhsuk-table__header scope="col" { "Week" }
                                            th.nhsuk-table__header scope="col" { "People" }
                                        }
                                    }
                                    tbody.nhsuk-table__body {
                                        @for c in &rows {
                                            tr.nhsuk-table__row {
                                                th.nhsuk-table__header scope="row" { (c.label) }
                                                td.nhsuk-table__cell { (count_text(c)) }
                                            }
                                        }
                                    }
                                }
                            }
                        } @else if rows.is_empty() {
                            p { "Nothing to count this week." }
                        } @else {
                            (PreEscaped(trends::bar_chart_svg(&heading, &rows)))
                            details.nhsuk-details {
                                summary.nhsuk-details__summary { span.nhsuk-details__summary-text { "Show the numbers" } }
                                div.nhsuk-details__text {
                                    table.nhsuk-table {
                                        tbody.nhsuk-table__body {
                                            @for c in &rows {
                                                tr.nhsuk-table__row {
                                                    th.nhsuk-table__header scope="row" { (c.label) }
                                                    td.nhsuk-table__cell { (count_text(c)) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// A provider's manager's weekly feed: their own people in each week not yet released, where
/// the figures go and by what rules, a button to release each week, and what was released.
pub fn feed(caller: &WebCaller, feed: &Feed, released_now: Option<&str>) -> Markup {
    let day = |d: NaiveDate| d.format("%-d %B %Y").to_string();
    let to = feed.commissioners.join(", ");
    layout(
        "Weekly feed",
        Some(caller),
        html! {
            h1 { "Weekly feed to commissioners" }
            @if let Some(week) = released_now.and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok()) {
                div.nhsuk-inset-text role="status" { p { "The week beginning " (day(week)) " is released." } }
            }
            p.nhsuk-lede-text {
                "Each week's counts of " (caller.org.name) "'s people go to commissioners only after a manager \
                 releases them here."
            }
            @if feed.commissioners.is_empty() {
                div.nhsuk-inset-text {
                    p { "No commissioner has an agreement with " (caller.org.name) " on this hub, so nothing you release goes anywhere yet." }
                }
            } @else {
                p {
                    "Released weeks go to " strong { (to) } " under your "
                    @if feed.commissioners.len() == 1 { "agreement" } @else { "agreements" } ". "
                    @if feed.districts.is_empty() { "All your people are counted." }
                    @else { "Only people in " (feed.districts.join(", ")) " are counted." }
                }
            }
            div.nhsuk-card #rules {
                div.nhsuk-card__content {
                    h2.nhsuk-card__heading { "What the commissioners see" }
                    ul.nhsuk-list.nhsuk-list--bullet {
                        li { "Your counts are combined with other providers' counts before anyone sees them." }
                        li {
                            "A figure is shown only when it covers at least " (trends::MIN_PEOPLE) " people from at least "
                            (trends::MIN_PROVIDERS) " providers, and it is rounded to the nearest " (trends::ROUND_TO) "."
                        }
                        li { "People are counted, not notes or visits. No name, address or note is sent." }
                        li {
                            "A week you do not release is counted " (trends::RELEASE_DEADLINE_DAYS)
                            " days after it ends, without your people."
                        }
                    }
                }
            }
            @if feed.weeks.is_empty() {
                p { "There is no week to release now." }
            }
            @for w in &feed.weeks {
                section id=(format!("week-{}", w.week)) {
                    h2 { "Week beginning " (day(w.week)) }
                    p { "If it is not released by " (day(w.deadline)) ", it is counted without your people." }
                    @if w.rows.is_empty() {
                        p { "None of your people had a sign new or worse, a NEWS2 of 5 or more, or an idea raised this week." }
                    } @else {
                        table.nhsuk-table {
                            caption.nhsuk-table__caption { "Your people in the week beginning " (day(w.week)) }
                            thead.nhsuk-table__head {
                                tr.nhsuk-table__row {
                                    th.nhsuk-table__header scope="col" { "What was noticed" }
                                    th.nhsuk-table__header scope="col" { "Postcode district" }
                                    th.nhsuk-table__header scope="col" { "People" }
                                }
                            }
                            tbody.nhsuk-table__body {
                                @for (measure, area, people) in &w.rows {
                                    tr.nhsuk-table__row {
                                        th.nhsuk-table__header scope="row" { (measure.label()) }
                                        td.nhsuk-table__cell { (area) }
                                        td.nhsuk-table__cell { (people) }
                                    }
                                }
                            }
                        }
                    }
                    form method="post" action="/feed/release" {
                        input type="hidden" name="csrf" value=(caller.session.csrf);
                        input type="hidden" name="provider" value=(caller.org.id.to_string());
                        input type="hidden" name="week" value=(w.week.to_string());
                        button.nhsuk-button type="submit" { "Release week of " (w.week.format("%-d %b")) }
                    }
                }
            }
            h2 { "Released" }
            @if feed.released.is_empty() {
                p { "No week has been released yet." }
            } @else {
                table.nhsuk-table #released {
                    caption.nhsuk-table__caption.nhsuk-u-visually-hidden { "Weeks released" }
                    thead.nhsuk-table__head {
                        tr.nhsuk-table__row {
                            th.nhsuk-table__header scope="col" { "Week beginning" }
                            th.nhsuk-table__header scope="col" { "Released by" }
                            th.nhsuk-table__header scope="col" { "When" }
                        }
                    }
                    tbody.nhsuk-table__body {
                        @for r in &feed.released {
                            tr.nhsuk-table__row {
                                th.nhsuk-table__header scope="row" {
                                    (NaiveDate::parse_from_str(&r.week, "%Y-%m-%d").map_or_else(|_| r.week.clone(), day))
                                }
                                td.nhsuk-table__cell { (r.released_by) }
                                td.nhsuk-table__cell { (uk_time_ms(r.released_at)) }
                            }
                        }
                    }
                }
            }
        },
    )
}

pub fn activity(caller: &WebCaller, lines: &[ActivityLine]) -> Markup {
    layout(
        "Partner activity",
        Some(caller),
        html! {
            h1 { "Partner activity" }
            p.nhsuk-lede-text {
                "Every time a partner opened, answered or downloaded something " (caller.org.name)
                " shared, and every refused attempt, newest first."
            }
            @if lines.is_empty() {
                p { "No partner has opened anything yet." }
            } @else {
                ul.nhsuk-list #activity {
                    @for line in lines {
                        li {
                            span.nhsuk-body-s { (uk_time_ms(line.at)) ": " }
                            (line.said)
                            @if line.refused { " " strong.nhsuk-tag."nhsuk-tag--red" { "Refused" } }
                        }
                    }
                }
            }
        },
    )
}

/// What carers' ideas led to: one table per way of grouping, people at each stage.
pub fn impact(caller: &WebCaller, i: &crate::impact::Impact) -> Markup {
    use crate::impact::{ImpactRow, Stage};
    let table = |id: &str, heading: &str, first: &str, rows: &[ImpactRow]| {
        html! {
            section id=(id) {
                h2 { (heading) }
                @if rows.is_empty() {
                    p { "No ideas to count yet." }
                } @else {
                        table.nhsuk-table {
                            caption.nhsuk-table__caption.nhsuk-u-visually-hidden { (heading) ": people at each step" }
                            thead.nhsuk-table__head {
                                tr.nhsuk-table__row {
                                    th.nhsuk-table__header scope="col" { (first) }
                                    @for stage in Stage::ALL { th.nhsuk-table__header scope="col" { (stage.label()) } }
                                }
                            }
                            tbody.nhsuk-table__body {
                                @for row in rows {
                                    tr.nhsuk-table__row {
                                        th.nhsuk-table__header scope="row" { (row.label) }
                                        @for n in &row.people {
                                            td.nhsuk-table__cell {
                                                @match n { Some(n) => (n), None => span.hub-muted { (trends::TOO_FEW) } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                }
            }
        }
    };
    layout(
        "What ideas led to",
        Some(caller),
        html! {
            h1 { "What carers' ideas led to" }
            p.nhsuk-lede-text {
                "People carers raised an idea about, and how far each idea went: shared with a partner, acted on, \
                 and what came of it."
                @if let Some(since) = i.since { " Ideas raised since " (since.format("%-d %B %Y")) "." }
            }
            details.nhsuk-details {
                summary.nhsuk-details__summary { span.nhsuk-details__summary-text { "How the numbers are made safe" } }
                div.nhsuk-details__text {
                    p {
                        "Each figure counts people, not ideas. It is shown only when it covers at least "
                        (trends::MIN_PEOPLE) " people, from at least " (trends::MIN_PROVIDERS)
                        " providers where the row is not a single provider, and it is rounded to the nearest "
                        (trends::ROUND_TO) "."
                    }
                    p {
                        "\"Office said it helped\" is the provider's answer 30 days after the action. \"Admission likely \
                         avoided\" is the partner's own judgement when they answered. A&E and admissions are those \
                         carers recorded at visits."
                    }
                }
            }
            (table("by_provider", "By care provider", "Provider", &i.by_provider))
            (table("by_partner", "By partner", "Partner", &i.by_partner))
            (table("by_kind", "By kind of idea", "Who could act", &i.by_kind))
        },
    )
}

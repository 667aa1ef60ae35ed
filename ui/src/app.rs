//! The app frame: session (enrol, unlock), navigation, and which screen shows.

use std::rc::Rc;

use doorstep_commands::{AppError, ErrorCode, GetSession, Session};
use doorstep_model::Role;
use gloo_timers::callback::Interval;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::invoke::call;
use crate::screens;

/// Where the person is in the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Today,
    Visit(String),
    Person(String),
    NewIdea {
        person_id: String,
        person_name: String,
        visit_id: Option<String>,
    },
    MyIdeas,
    ManagerDay,
    Idea(String),
    Import,
    Devices,
    Search,
    /// The office's numbers and staff names (managers edit, carers read).
    Directory,
    Account,
}

/// What every screen can reach: who is signed in, navigation, and the session handler (a
/// locked device sends everyone back to the PIN screen).
#[derive(Clone, PartialEq)]
pub struct Ctx {
    pub session: Rc<Session>,
    /// How many times a sync has brought records in since the app started: screens showing
    /// synced records reload when it moves.
    pub arrivals: u64,
    pub go: Callback<Route>,
    pub on_error: Callback<AppError>,
    pub set_session: Callback<Session>,
}

impl Ctx {
    pub fn is_manager(&self) -> bool {
        self.session.role == Some(Role::Manager)
    }

    pub fn home(&self) -> Route {
        if self.is_manager() { Route::ManagerDay } else { Route::Today }
    }
}

/// Checks the session this often, so the lock screen appears when the device times out.
const SESSION_CHECK_MS: u32 = 15_000;

#[component]
pub fn App() -> Html {
    let session = use_state(|| None::<Result<Session, AppError>>);
    let route = use_state(|| None::<Route>);
    let arrivals = use_state(|| 0u64);
    {
        let arrivals = arrivals.clone();
        use_effect_with((), move |_| {
            crate::events::listen_forever(doorstep_commands::RECORDS_ARRIVED, move |count| {
                arrivals.set(count.as_f64().unwrap_or_default() as u64);
            });
        });
    }

    {
        let session = session.clone();
        use_effect_with((), move |_| {
            let load = {
                let session = session.clone();
                move || {
                    let session = session.clone();
                    spawn_local(async move {
                        let fresh = call::<GetSession>(&()).await;
                        if (*session).as_ref() != Some(&fresh) {
                            session.set(Some(fresh));
                        }
                    });
                }
            };
            load();
            let interval = Interval::new(SESSION_CHECK_MS, load);
            move || drop(interval)
        });
    }

    let set_session = {
        let session = session.clone();
        Callback::from(move |s: Session| session.set(Some(Ok(s))))
    };
    let on_error = {
        let session = session.clone();
        Callback::from(move |e: AppError| {
            if matches!(e.code, ErrorCode::Locked | ErrorCode::NotEnrolled) {
                let session = session.clone();
                spawn_local(async move { session.set(Some(call::<GetSession>(&()).await)) });
            }
        })
    };

    let current = match &*session {
        None => {
            return html! { <main class="nhsuk-main-wrapper ds-centre"><p class="nhsuk-body-l">{"Opening Doorstep…"}</p></main> };
        }
        Some(Err(e)) => {
            return html! {
                <main class="nhsuk-main-wrapper nhsuk-width-container">
                    <div class="nhsuk-error-summary" role="alert">
                        <h1 class="nhsuk-error-summary__title">{"Doorstep could not start"}</h1>
                        <p>{ e.message.clone() }</p>
                    </div>
                </main>
            };
        }
        Some(Ok(s)) => s.clone(),
    };
    if !current.enrolled {
        return html! { <screens::enrol::Enrol on_done={set_session} /> };
    }
    if current.locked {
        return html! { <screens::unlock::Unlock session={current} on_done={set_session} /> };
    }

    let go = {
        let route = route.clone();
        Callback::from(move |r: Route| {
            route.set(Some(r));
            scroll_to_top();
        })
    };
    let ctx = Ctx { session: Rc::new(current), arrivals: *arrivals, go, on_error, set_session };
    let shown = (*route).clone().unwrap_or_else(|| ctx.home());
    let screen = match shown.clone() {
        Route::Today => html! { <screens::today::TodayScreen /> },
        // Keyed by the visit: opening the last visit from this one starts a fresh page (no
        // note editor or folds carried over from the visit before).
        Route::Visit(id) => html! { <screens::visit::VisitPage key={id.clone()} visit_id={id.clone()} /> },
        Route::Person(id) => html! { <screens::person::PersonPage person_id={id} /> },
        Route::NewIdea { person_id, person_name, visit_id } => {
            html! { <screens::ideas::NewIdea {person_id} {person_name} {visit_id} /> }
        }
        Route::MyIdeas => html! { <screens::ideas::MyIdeas /> },
        Route::ManagerDay => html! { <screens::manager::ManagerDayScreen /> },
        Route::Idea(id) => html! { <screens::manager::IdeaReview id={id} /> },
        Route::Import => html! { <screens::manager::Import /> },
        Route::Devices => html! { <screens::manager::Devices /> },
        Route::Search => html! { <screens::manager::SearchScreen /> },
        Route::Directory => html! { <screens::directory::DirectoryPage /> },
        Route::Account => html! { <screens::account::Account /> },
    };
    html! {
        <ContextProvider<Ctx> context={ctx.clone()}>
            <crate::widgets::Header current={shown} />
            <div class="nhsuk-width-container">
                <main class="nhsuk-main-wrapper ds-main" id="maincontent">{ screen }</main>
            </div>
        </ContextProvider<Ctx>>
    }
}

fn scroll_to_top() {
    if let Some(window) = web_sys::window() {
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }
}

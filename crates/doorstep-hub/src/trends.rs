//! Commissioners' view: weekly counts of people across the providers a commissioner's agreements
//! cover, never of records, and never small enough to point at someone.
//!
//! The rules (docs/security.md, "Commissioners"):
//! - a cell counts **people** (one person with three notes in a week is one), per week, measure
//!   and postcode district;
//! - it is shown only when it has at least [`MIN_PEOPLE`] people from at least [`MIN_PROVIDERS`]
//!   providers, and then **rounded to the nearest 5**, so subtracting one shown figure from
//!   another never gives an exact small number;
//! - a week is counted once, after it has ended and late tablets have synced, and only from the
//!   providers whose manager released it (`/feed`): it is published when every provider of the
//!   commissioner's agreements has released it, or [`RELEASE_DEADLINE_DAYS`] after it ended with
//!   whatever was released by then, and stands as it was then: later views show the same
//!   figures, so comparing them over time reveals nothing;
//! - no free text: the old "recurring words" could show a name, a street and a diagnosis.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::{Datelike, Days, NaiveDate};
use doorstep_model::{PartnerKind, SoftSign};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A cell needs this many different people…
pub const MIN_PEOPLE: usize = 5;
/// …from this many different providers, so no figure is about one provider's caseload.
pub const MIN_PROVIDERS: usize = 2;
/// Shown figures are rounded to a multiple of this (as NHS statistics do).
pub const ROUND_TO: u64 = 5;
/// How many weeks the page shows.
pub const WEEKS_SHOWN: usize = 12;
/// A week (Monday to Sunday) is counted this many days after it ends: on the Wednesday, so
/// tablets that were offline at the weekend have synced.
pub const COUNT_AFTER_DAYS: u64 = 2;
/// A week not released by every provider is published this many days after it ends (its
/// Sunday), from the providers that had released it by then: one provider's silence does not
/// hold the others' figures back for ever.
pub const RELEASE_DEADLINE_DAYS: u64 = 14;
/// How many weeks waiting for release a manager's feed page shows at most.
pub const FEED_WEEKS_SHOWN: usize = 4;
/// What a page or CSV says for a cell too small to show.
pub const TOO_FEW: &str = "too few to show";
/// The area label for a whole week's row.
pub const ALL_AREAS: &str = "All areas";

/// One thing the hub noted about a person on a day, with nothing that names them (the person's
/// id is only used to count them once and never leaves the hub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendFact {
    pub provider: Uuid,
    pub person: Uuid,
    /// Postcode district, "" when unknown.
    pub area: String,
    pub day: NaiveDate,
    pub measures: Vec<Measure>,
}

/// What a cell counts people for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    /// Any soft sign new or worse than usual.
    AnySign,
    Sign(SoftSign),
    /// A complete NEWS2 set scoring 5 or more.
    News2High,
    /// A carer raised an idea about them.
    Idea,
    /// …naming this kind of partner as able to act.
    IdeaFor(PartnerKind),
}

impl Measure {
    /// Stable code for snapshots and CSV.
    pub fn code(&self) -> String {
        match self {
            Measure::AnySign => "any_sign".into(),
            Measure::Sign(s) => format!("sign:{}", s.code()),
            Measure::News2High => "news2_5_or_more".into(),
            Measure::Idea => "idea".into(),
            Measure::IdeaFor(k) => format!("idea_for:{}", k.code()),
        }
    }

    pub fn from_code(code: &str) -> Option<Measure> {
        match code {
            "any_sign" => Some(Measure::AnySign),
            "news2_5_or_more" => Some(Measure::News2High),
            "idea" => Some(Measure::Idea),
            _ => {
                if let Some(sign) = code.strip_prefix("sign:") {
                    SoftSign::from_code(sign).map(Measure::Sign)
                } else {
                    code.strip_prefix("idea_for:").and_then(PartnerKind::from_code).map(Measure::IdeaFor)
                }
            }
        }
    }

    pub fn label(&self) -> String {
        match self {
            Measure::AnySign => "Any sign new or worse".into(),
            Measure::Sign(s) => s.label().into(),
            Measure::News2High => "NEWS2 of 5 or more".into(),
            Measure::Idea => "An idea raised".into(),
            Measure::IdeaFor(k) => k.label().into(),
        }
    }
}

/// One published figure: people in `area` (or [`ALL_AREAS`]) with `measure` in the week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub measure: String,
    pub area: String,
    /// Rounded to [`ROUND_TO`]; `None` when too few to show.
    pub people: Option<u64>,
}

/// One week as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekCounts {
    /// The week's Monday (UK).
    pub week: NaiveDate,
    pub cells: Vec<Cell>,
}

impl WeekCounts {
    pub fn people(&self, measure: &Measure, area: &str) -> Option<u64> {
        let code = measure.code();
        self.cells.iter().find(|c| c.measure == code && c.area == area).and_then(|c| c.people)
    }
}

/// One row of a table or chart; `value` is `None` when too few to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub label: String,
    pub value: Option<u64>,
}

/// What a commissioner's page shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trends {
    /// What the agreements cover: provider name and its districts (empty: all).
    pub scope: Vec<(String, Vec<String>)>,
    /// Published weeks, oldest first, at most [`WEEKS_SHOWN`].
    pub weeks: Vec<WeekCounts>,
    /// When the next week will be counted.
    pub next_count: Option<NaiveDate>,
    /// Countable weeks not published yet because some providers have not released them, oldest
    /// first.
    pub waiting: Vec<Waiting>,
}

/// A week waiting for providers to release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub week: NaiveDate,
    /// Providers of the agreements that have not released it yet…
    pub waiting_for: usize,
    /// …of this many.
    pub providers: usize,
    /// The day it is published with whatever was released.
    pub deadline: NaiveDate,
}

/// The day a week (its Monday) is published however many providers released it.
pub fn release_deadline(week: NaiveDate) -> NaiveDate {
    week + Days::new(7 + RELEASE_DEADLINE_DAYS)
}

/// The time series on the commissioner's page: (id, measure, heading).
pub fn series() -> Vec<(&'static str, Measure, &'static str)> {
    vec![
        ("people_with_signs", Measure::AnySign, "People with a sign new or worse, by week"),
        ("people_with_falls", Measure::Sign(SoftSign::UnsteadyOrFall), "People unsteady or with a fall, by week"),
        ("people_news2_high", Measure::News2High, "People with a NEWS2 of 5 or more, by week"),
        ("people_with_ideas", Measure::Idea, "People carers raised an idea about, by week"),
    ]
}

/// One provider's own people in a week, exactly (what its manager reviews before releasing):
/// (measure, district, people), every district and then "All areas" per measure.
pub fn own_counts(facts: &[TrendFact], week: NaiveDate) -> Vec<(Measure, String, usize)> {
    let end = week + Days::new(7);
    let mut cells: BTreeMap<(Measure, bool, String), BTreeSet<Uuid>> = BTreeMap::new();
    for fact in facts.iter().filter(|f| f.day >= week && f.day < end) {
        let area = if fact.area.trim().is_empty() { "Unknown".to_string() } else { fact.area.clone() };
        for measure in &fact.measures {
            for key in [(measure.clone(), true, ALL_AREAS.to_string()), (measure.clone(), false, area.clone())] {
                cells.entry(key).or_default().insert(fact.person);
            }
        }
    }
    cells.into_iter().map(|((m, _, area), people)| (m, area, people.len())).collect()
}

impl Trends {
    /// Each table as (id for links and CSV, heading, rows): the weekly series ([`series`]), then
    /// the latest week by sign, by area and by who could act.
    pub fn tables(&self) -> Vec<(&'static str, String, Vec<Count>)> {
        let series = |m: Measure| -> Vec<Count> {
            self.weeks
                .iter()
                .map(|w| Count { label: format!("w/c {}", w.week.format("%-d %b")), value: w.people(&m, ALL_AREAS) })
                .collect()
        };
        let mut tables: Vec<(&'static str, String, Vec<Count>)> =
            self::series().into_iter().map(|(id, m, heading)| (id, heading.to_string(), series(m))).collect();
        if let Some(last) = self.weeks.last() {
            let of_week = |what: &str| format!("{what}, week beginning {}", last.week.format("%-d %B %Y"));
            let rows = |pick: &dyn Fn(&Measure) -> bool, area: bool| -> Vec<Count> {
                let mut rows: Vec<Count> = last
                    .cells
                    .iter()
                    .filter_map(|c| {
                        let m = Measure::from_code(&c.measure)?;
                        let wanted = if area {
                            m == Measure::AnySign && c.area != ALL_AREAS
                        } else {
                            pick(&m) && c.area == ALL_AREAS
                        };
                        wanted.then(|| Count { label: if area { c.area.clone() } else { m.label() }, value: c.people })
                    })
                    .collect();
                rows.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.label.cmp(&b.label)));
                rows
            };
            tables.push(("signs_by_sign", of_week("People by sign"), rows(&|m| matches!(m, Measure::Sign(_)), false)));
            tables.push(("signs_by_area", of_week("People with a sign new or worse by area"), rows(&|_| false, true)));
            tables.push((
                "ideas_by_who",
                of_week("People with an idea, by who could act"),
                rows(&|m| matches!(m, Measure::IdeaFor(_)), false),
            ));
        }
        tables
    }
}

/// Monday of the week `day` is in.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// The weeks that may be counted on `today`, oldest first: ended, plus [`COUNT_AFTER_DAYS`].
pub fn countable_weeks(today: NaiveDate) -> Vec<NaiveDate> {
    let latest = latest_countable(today);
    (0..WEEKS_SHOWN as u64).rev().map(|n| latest - Days::new(7 * n)).collect()
}

/// When the week after the latest countable one will be counted.
pub fn next_count(today: NaiveDate) -> NaiveDate {
    latest_countable(today) + Days::new(14 + COUNT_AFTER_DAYS)
}

fn latest_countable(today: NaiveDate) -> NaiveDate {
    week_of(today - Days::new(7 + COUNT_AFTER_DAYS))
}

/// Counts one week from the facts: each cell's distinct people and providers, shown only when
/// there are enough of both, rounded.
pub fn count_week(facts: &[TrendFact], week: NaiveDate) -> WeekCounts {
    let end = week + Days::new(7);
    let mut cells: BTreeMap<(Measure, String), (BTreeSet<Uuid>, BTreeSet<Uuid>)> = BTreeMap::new();
    for fact in facts.iter().filter(|f| f.day >= week && f.day < end) {
        let area = if fact.area.trim().is_empty() { "Unknown".to_string() } else { fact.area.clone() };
        for measure in &fact.measures {
            for place in [ALL_AREAS.to_string(), area.clone()] {
                let (people, providers) = cells.entry((measure.clone(), place)).or_default();
                people.insert(fact.person);
                providers.insert(fact.provider);
            }
        }
    }
    let cells = cells
        .into_iter()
        .map(|((measure, area), (people, providers))| Cell {
            measure: measure.code(),
            area,
            people: publishable(people.len(), providers.len()),
        })
        .collect();
    WeekCounts { week, cells }
}

/// The figure shown for a cell of `people` from `providers`, or `None` when too few.
pub fn publishable(people: usize, providers: usize) -> Option<u64> {
    if people < MIN_PEOPLE || providers < MIN_PROVIDERS {
        return None;
    }
    let n = people as u64;
    // Nearest multiple of 5, halves up; never below 5, so a shown cell never reads as zero.
    Some((((n + ROUND_TO / 2) / ROUND_TO) * ROUND_TO).max(ROUND_TO))
}

/// One CSV of every published cell: `week,measure,area,people`, too-small cells saying so.
pub fn to_csv(t: &Trends) -> String {
    // Writing to memory cannot fail in practice; an empty download is the safe fallback if it ever does.
    write_csv(t).unwrap_or_default()
}

fn write_csv(t: &Trends) -> Result<String, Box<dyn std::error::Error>> {
    let mut w = csv_writer();
    w.write_record(["week_beginning", "measure", "area", "people"])?;
    for week in &t.weeks {
        for cell in &week.cells {
            let label = Measure::from_code(&cell.measure).map_or_else(|| cell.measure.clone(), |m| m.label());
            let people = cell.people.map_or_else(|| TOO_FEW.to_string(), |n| n.to_string());
            w.write_record([week.week.to_string(), csv_safe(&label), csv_safe(&cell.area), people])?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// A provider name starting "=" etc. must not run as a spreadsheet formula.
pub fn csv_safe(label: &str) -> String {
    // A spreadsheet that splits on ';' (many European locales), or on a tab or new line, would
    // see a formula at the start of any piece, not only of the cell: neutralise the whole cell.
    let pieces = label.split([';', ',', '\t', '\n', '\r']);
    let formula = pieces.into_iter().any(|piece| piece.trim_start().starts_with(['=', '+', '-', '@']));
    if formula || label.starts_with(['\t', '\r']) { format!("'{label}") } else { label.to_string() }
}

/// A CSV writer that quotes every cell, so a spreadsheet reading it with another separator
/// (';') keeps each cell whole.
pub fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().quote_style(csv::QuoteStyle::Always).from_writer(Vec::new())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// An accessible horizontal bar chart, 640 wide, with no script. Rows too small to show get a grey hatched stub.
pub fn bar_chart_svg(title: &str, rows: &[Count]) -> String {
    const WIDTH: u64 = 640;
    const BAR_X: u64 = 250;
    const BAR_MAX: u64 = 290;
    const ROW: u64 = 28;
    const TOP: u64 = 40;
    const MAX_LABEL: usize = 32;
    // Ids must be unique when several charts share a page, so derive them from the title (FNV-1a).
    let id = title.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let say = |v: Option<u64>| v.map_or_else(|| TOO_FEW.to_string(), |n| n.to_string());
    let desc = if rows.is_empty() {
        "No data.".to_string()
    } else {
        rows.iter().map(|r| format!("{}: {}", r.label, say(r.value))).collect::<Vec<_>>().join("; ") + "."
    };
    let height = TOP + ROW * rows.len().max(1) as u64 + 10;
    let max = rows.iter().filter_map(|r| r.value).max().unwrap_or(1).max(1);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"t{id:x} d{id:x}\" \
         font-family=\"Arial, sans-serif\" font-size=\"14\" fill=\"#212b32\">\
         <title id=\"t{id:x}\">{t}</title><desc id=\"d{id:x}\">{d}</desc>\
         <defs><pattern id=\"h{id:x}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#d8dde0\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#768692\" stroke-width=\"2\"/></pattern></defs>\
         <text x=\"4\" y=\"22\" font-size=\"16\" font-weight=\"bold\">{t}</text>",
        t = xml_escape(title),
        d = xml_escape(&desc),
    );
    if rows.is_empty() {
        let _ = write!(s, "<text x=\"0\" y=\"{}\" fill=\"#4c6272\">No data</text>", TOP + 18);
    }
    for (i, r) in rows.iter().enumerate() {
        let (y, ty, lx) = (TOP + ROW * i as u64 + 1, TOP + ROW * i as u64 + 15, BAR_X - 8);
        // Long labels are shortened on screen; the full text is in <desc>.
        let mut label: String = r.label.chars().take(MAX_LABEL).collect();
        if label.len() < r.label.len() {
            label.pop();
            label.push('…');
        }
        let (w, fill) = r.value.map_or_else(
            || (24, format!("url(#h{id:x}) #d8dde0\" stroke=\"#768692")), // grey if patterns are unsupported
            |n| ((n.saturating_mul(BAR_MAX) / max).max(2), "#005eb8".into()),
        );
        let (vx, label, value) = (BAR_X + w + 6, xml_escape(&label), say(r.value));
        let _ = write!(
            s,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text><rect x=\"{BAR_X}\" y=\"{y}\" \
             width=\"{w}\" height=\"20\" fill=\"{fill}\"/><text x=\"{vx}\" y=\"{ty}\">{value}</text>"
        );
    }
    s.push_str("</svg>");
    s
}

/// An accessible column chart of a weekly series, 640 wide, with no script: one column per
/// week, oldest on the left. A week too small to show is a gap (not a zero column) marked "–",
/// and a note under the chart names those weeks.
pub fn week_chart_svg(title: &str, rows: &[Count]) -> String {
    const WIDTH: u64 = 640;
    const LEFT: u64 = 48;
    const PLOT_W: u64 = 580;
    const TOP: u64 = 44;
    const PLOT_H: u64 = 180;
    let id = title.bytes().fold(0x8422_2325_cbf2_9ce4u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let say = |v: Option<u64>| v.map_or_else(|| TOO_FEW.to_string(), |n| n.to_string());
    let gaps: Vec<&str> = rows.iter().filter(|r| r.value.is_none()).map(|r| r.label.as_str()).collect();
    let desc = if rows.is_empty() {
        "No week published yet.".to_string()
    } else {
        rows.iter().map(|r| format!("{}: {}", r.label, say(r.value))).collect::<Vec<_>>().join("; ") + "."
    };
    let base = TOP + PLOT_H;
    let height = base + 40 + if gaps.is_empty() { 0 } else { 22 };
    let max = rows.iter().filter_map(|r| r.value).max().unwrap_or(ROUND_TO).max(ROUND_TO);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"st{id:x} sd{id:x}\" \
         font-family=\"Arial, sans-serif\" font-size=\"13\" fill=\"#212b32\">\
         <title id=\"st{id:x}\">{t}</title><desc id=\"sd{id:x}\">{d}</desc>\
         <text x=\"4\" y=\"22\" font-size=\"16\" font-weight=\"bold\">{t}</text>\
         <text x=\"{lx}\" y=\"{top}\" text-anchor=\"end\">{max}</text>\
         <text x=\"{lx}\" y=\"{base}\" text-anchor=\"end\">0</text>\
         <line x1=\"{LEFT}\" y1=\"{top_line}\" x2=\"{right}\" y2=\"{top_line}\" stroke=\"#d8dde0\"/>\
         <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{right}\" y2=\"{base}\" stroke=\"#4c6272\"/>",
        t = xml_escape(title),
        d = xml_escape(&desc),
        lx = LEFT - 6,
        top = TOP + 4,
        top_line = TOP,
        right = LEFT + PLOT_W,
    );
    if rows.is_empty() {
        let _ = write!(s, "<text x=\"{}\" y=\"{}\" fill=\"#4c6272\">No week published yet</text>", LEFT + 8, TOP + 40);
    }
    let slot = PLOT_W / rows.len().max(1) as u64;
    let bar = (slot * 6 / 10).clamp(4, 48);
    for (i, r) in rows.iter().enumerate() {
        let cx = LEFT + slot * i as u64 + slot / 2;
        // Week labels: every one when they fit, otherwise every other one.
        if rows.len() <= 8 || i % 2 == 0 || i + 1 == rows.len() {
            let label = xml_escape(r.label.trim_start_matches("w/c "));
            let _ = write!(s, "<text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">{label}</text>", base + 18);
        }
        match r.value {
            Some(n) => {
                let h = (n.saturating_mul(PLOT_H) / max).max(2);
                let _ = write!(
                    s,
                    "<rect x=\"{}\" y=\"{}\" width=\"{bar}\" height=\"{h}\" fill=\"#005eb8\"/>\
                     <text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">{n}</text>",
                    cx - bar / 2,
                    base - h,
                    base - h - 4,
                );
            }
            // A gap, not a zero: the week had some people, too few to show.
            None => {
                let _ =
                    write!(s, "<text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" fill=\"#4c6272\">–</text>", base - 6);
            }
        }
    }
    if !gaps.is_empty() {
        // Named while they fit on one line; beyond that the table beneath names them.
        let note = if gaps.len() <= 3 {
            format!("– {TOO_FEW}: {}", gaps.join(", "))
        } else {
            format!("– {TOO_FEW}: {} weeks (the table below names them)", gaps.len())
        };
        let _ = write!(s, "<text x=\"4\" y=\"{}\" fill=\"#4c6272\">{}</text>", base + 44, xml_escape(&note));
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY: &str = "2026-11-02";

    fn monday() -> NaiveDate {
        NaiveDate::parse_from_str(MONDAY, "%Y-%m-%d").unwrap_or_default()
    }

    fn fact(provider: u128, person: u128, area: &str, day: u64, measures: &[Measure]) -> TrendFact {
        TrendFact {
            provider: Uuid::from_u128(provider),
            person: Uuid::from_u128(person),
            area: area.into(),
            day: monday() + Days::new(day),
            measures: measures.to_vec(),
        }
    }

    fn row(label: &str, value: Option<u64>) -> Count {
        Count { label: label.into(), value }
    }

    #[test]
    fn a_cell_needs_five_people_from_two_providers() {
        let falls = [Measure::Sign(SoftSign::UnsteadyOrFall), Measure::AnySign];
        let four: Vec<_> = (0..4).map(|p| fact(1 + p % 2, p, "NB3", 1, &falls)).collect();
        assert_eq!(count_week(&four, monday()).people(&Measure::AnySign, ALL_AREAS), None, "4 people");
        let five_one_provider: Vec<_> = (0..5).map(|p| fact(1, p, "NB3", 1, &falls)).collect();
        assert_eq!(count_week(&five_one_provider, monday()).people(&Measure::AnySign, ALL_AREAS), None, "1 provider");
        let five: Vec<_> = (0..5).map(|p| fact(1 + p % 2, p, "NB3", 1, &falls)).collect();
        let week = count_week(&five, monday());
        assert_eq!(week.people(&Measure::AnySign, ALL_AREAS), Some(5));
        assert_eq!(week.people(&Measure::Sign(SoftSign::UnsteadyOrFall), "NB3"), Some(5));
        assert_eq!(week.people(&Measure::News2High, ALL_AREAS), None, "nothing counted is not a cell");
    }

    #[test]
    fn people_are_counted_once_however_many_notes() {
        let mut facts: Vec<_> = (0..5).map(|p| fact(1 + p % 2, p, "NB3", 0, &[Measure::AnySign])).collect();
        // Person 0 has a note every day of the week: still one person.
        facts.extend((0..7).map(|d| fact(1, 0, "NB3", d, &[Measure::AnySign])));
        assert_eq!(count_week(&facts, monday()).people(&Measure::AnySign, ALL_AREAS), Some(5));
        // A note the Monday after is next week's.
        facts.push(fact(2, 99, "NB3", 7, &[Measure::AnySign]));
        assert_eq!(count_week(&facts, monday()).people(&Measure::AnySign, ALL_AREAS), Some(5));
    }

    #[test]
    fn shown_figures_are_rounded_to_five() {
        for (people, shown) in [(5, 5), (6, 5), (7, 5), (8, 10), (12, 10), (13, 15), (102, 100)] {
            assert_eq!(publishable(people, 2), Some(shown), "{people}");
        }
        assert_eq!(publishable(4, 9), None);
    }

    #[test]
    fn weeks_are_counted_from_the_wednesday_after_they_end() {
        let week = monday();
        let sunday = week + Days::new(6);
        // Until Wednesday after the week, the week before is the latest counted.
        assert_eq!(countable_weeks(sunday + Days::new(2)).last(), Some(&(week - Days::new(7))));
        assert_eq!(countable_weeks(sunday + Days::new(3)).last(), Some(&week));
        assert_eq!(countable_weeks(sunday + Days::new(3)).len(), WEEKS_SHOWN);
        assert_eq!(next_count(sunday + Days::new(3)), sunday + Days::new(10));
        assert_eq!(week_of(sunday), week);
    }

    /// Subtracting the shown areas from the shown total never pins down what the hidden areas
    /// hold: every figure is rounded, so the hidden sum is only known to within a range of
    /// several values (and the true one lies in it). Random caseloads, seeded.
    #[test]
    fn subtraction_never_reveals_a_hidden_cell() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let areas = ["NB1", "NB2", "NB3", "NB4"];
        // The range of true values a shown figure could stand for.
        let range = |v: u64| (v.saturating_sub(ROUND_TO / 2).max(MIN_PEOPLE as u64), v + ROUND_TO / 2);
        let mut checked = 0;
        for _ in 0..300 {
            let people = 3 + next(40);
            let facts: Vec<_> = (0..people)
                .map(|p| {
                    fact(1 + u128::from(next(3)), u128::from(p), areas[next(4) as usize], next(7), &[Measure::AnySign])
                })
                .collect();
            let week = count_week(&facts, monday());
            let Some(total) = week.people(&Measure::AnySign, ALL_AREAS) else { continue };
            let (mut lo, mut hi) = range(total);
            let mut true_hidden = 0;
            let mut hidden = 0;
            for area in areas {
                let truth = facts.iter().filter(|f| f.area == area).count() as u64;
                match week.people(&Measure::AnySign, area) {
                    Some(v) => {
                        let (a, b) = range(v);
                        lo = lo.saturating_sub(b);
                        hi = hi.saturating_sub(a);
                    }
                    None => {
                        hidden += 1;
                        true_hidden += truth;
                    }
                }
            }
            if hidden > 0 {
                checked += 1;
                assert!(hi > lo, "hidden areas pinned to {lo}: {week:?}");
                assert!((lo..=hi).contains(&true_hidden), "{true_hidden} outside {lo}..={hi}");
            }
        }
        assert!(checked > 50, "the seeded caseloads hid some areas: {checked}");
    }

    /// Consecutive weeks: when the next week holds the same people plus a few (fewer than
    /// [`MIN_PEOPLE`]), subtracting the two shown figures never pins how many were added: the
    /// rounding leaves several values possible, the true one among them. Random caseloads, seeded.
    #[test]
    fn consecutive_weeks_never_reveal_a_small_difference() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let range = |v: u64| (v.saturating_sub(ROUND_TO / 2).max(MIN_PEOPLE as u64), v + ROUND_TO / 2);
        let mut checked = 0;
        for _ in 0..300 {
            let people = 5 + next(40);
            let added = next(MIN_PEOPLE as u64);
            let week = |n: u64, offset: u64| -> Vec<TrendFact> {
                (0..n).map(|p| fact(1 + u128::from(p % 2), u128::from(p), "NB3", offset, &[Measure::AnySign])).collect()
            };
            let first = count_week(&week(people, 1), monday());
            let second = count_week(&week(people + added, 8), monday() + Days::new(7));
            let (Some(a), Some(b)) =
                (first.people(&Measure::AnySign, ALL_AREAS), second.people(&Measure::AnySign, ALL_AREAS))
            else {
                continue;
            };
            let ((a_lo, a_hi), (b_lo, b_hi)) = (range(a), range(b));
            let (lo, hi) = (b_lo.saturating_sub(a_hi), b_hi.saturating_sub(a_lo));
            checked += 1;
            assert!(hi > lo, "{people} then {}: the difference pinned to {lo}", people + added);
            assert!((lo..=hi).contains(&added), "{added} outside {lo}..={hi}");
        }
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn csv_has_one_row_per_cell_and_neutralises_formulas() {
        let mut facts: Vec<_> = (0..6).map(|p| fact(1 + p % 2, p, "NB3", 1, &[Measure::AnySign])).collect();
        facts.push(fact(1, 50, "=cmd", 1, &[Measure::AnySign]));
        let t = Trends { scope: vec![], weeks: vec![count_week(&facts, monday())], ..Default::default() };
        let csv = to_csv(&t);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "\"week_beginning\",\"measure\",\"area\",\"people\"");
        assert!(lines.contains(&"\"2026-11-02\",\"Any sign new or worse\",\"All areas\",\"5\""), "{csv}");
        assert!(lines.contains(&"\"2026-11-02\",\"Any sign new or worse\",\"'=cmd\",\"too few to show\""), "{csv}");
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert!(reader.records().all(|r| r.map(|r| r.len() == 4).unwrap_or(false)));
    }

    #[test]
    fn tables_are_weekly_series_then_the_latest_week() {
        let facts: Vec<_> = (0..9)
            .map(|p| {
                fact(
                    1 + p % 2,
                    p,
                    if p < 6 { "NB3" } else { "NB1" },
                    1,
                    &[Measure::AnySign, Measure::Sign(SoftSign::UnsteadyOrFall)],
                )
            })
            .collect();
        let t = Trends { scope: vec![], weeks: vec![count_week(&facts, monday())], ..Default::default() };
        let tables = t.tables();
        assert_eq!(tables[0].2, vec![row("w/c 2 Nov", Some(10))]);
        let by_area = &tables.iter().find(|t| t.0 == "signs_by_area").map(|t| t.2.clone()).unwrap_or_default();
        assert_eq!(by_area, &vec![row("NB3", Some(5)), row("NB1", None)]);
    }

    #[test]
    fn a_formula_anywhere_a_spreadsheet_might_split_is_neutralised() {
        for risky in ["=1+1", "@SUM(A1)", "fine;=HYPERLINK(\"x\")", "ok,+cmd", "line\n-2+3", "\tx"] {
            assert!(csv_safe(risky).starts_with('\''), "{risky:?}");
        }
        for plain in ["Grab rail - OT", "Seen, thank you", "Bright Care"] {
            assert_eq!(csv_safe(plain), plain);
        }
    }

    #[test]
    fn svg_escapes_and_is_accessible() {
        let svg = bar_chart_svg("Ideas <by> A&B", &[row("Tom & <Jerry>", Some(12)), row("Small", None)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("role=\"img\"") && svg.contains("width=\"640\""));
        assert!(svg.contains("<title id=") && svg.contains("Ideas &lt;by&gt; A&amp;B</title>"));
        assert!(svg.contains("Tom &amp; &lt;Jerry&gt;: 12; Small: too few to show."));
        assert!(!svg.contains("<Jerry") && !svg.contains("A&B") && !svg.contains("<script"));
        assert!(svg.contains("#005eb8") && svg.contains(">too few to show</text>") && svg.contains("url(#h"));
        assert!(bar_chart_svg("Empty", &[]).contains("No data"));
    }

    #[test]
    fn week_chart_leaves_gaps_for_weeks_too_small_and_says_so() {
        let rows = [row("w/c 2 Nov", Some(10)), row("w/c 9 Nov", None), row("w/c 16 Nov", Some(5))];
        let svg = week_chart_svg("Falls <by week>", &rows);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.contains("role=\"img\""));
        assert!(svg.contains("Falls &lt;by week&gt;</title>") && svg.contains("<desc id="));
        assert!(svg.contains("w/c 9 Nov: too few to show"), "{svg}");
        // Two columns for two shown weeks; the small week is a gap with a note, not a zero.
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(svg.contains("– too few to show: w/c 9 Nov"), "{svg}");
        assert!(week_chart_svg("Empty", &[]).contains("No week published yet"));
        // Many small weeks are counted, not listed: the note stays on one line of the chart.
        let quiet: Vec<Count> = (1..=10).map(|n| row(&format!("w/c {n} Sep"), None)).collect();
        assert!(week_chart_svg("Quiet", &quiet).contains("– too few to show: 10 weeks (the table below names them)"));
    }
}

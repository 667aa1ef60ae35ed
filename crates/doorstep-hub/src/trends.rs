//! Commissioners' view: anonymised counts across providers, with small numbers suppressed.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use doorstep_model::{PartnerKind, SoftSign};

/// One fact the hub keeps for trends, with nothing that names a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrendFact {
    /// An insight (idea or observation) raised by a carer.
    Idea {
        provider: String,
        /// `YYYY-MM` (UK time).
        month: String,
        /// Postcode district, "" when unknown.
        area: String,
        /// Who could act, as `PartnerKind` codes; empty when the carer did not say.
        categories: Vec<String>,
        /// The one-line summary, for recurring words only (never shown whole).
        summary: String,
    },
    /// A visit note's soft signs and NEWS2.
    Note {
        provider: String,
        month: String,
        area: String,
        /// `SoftSign` codes of the signs that had changed from usual.
        soft_signs: Vec<String>,
        /// The NEWS2 total where all readings were taken.
        news2: Option<u8>,
    },
}

/// Counts below this are shown as "fewer than 5", following NHS small-number practice.
pub const SUPPRESS_UNDER: u64 = 5;
/// A word or phrase must appear in this many different ideas before it is listed.
const RECURRING_MIN_IDEAS: u64 = 5;
const RECURRING_TOP: usize = 10;
const NEWS2_BANDS: [&str; 3] = ["0–4", "5–6", "7+"];

/// One row of a table; `value` is `None` when suppressed ("fewer than 5").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub label: String,
    pub value: Option<u64>,
}

/// The commissioners' tables. Months ascend; other tables run by count (largest first), then label,
/// with suppressed rows last in label order so their position does not hint at their size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trends {
    pub total_ideas: Option<u64>,
    pub total_notes: Option<u64>,
    /// Who could act. An idea naming two kinds of partner counts once in each, so rows can sum past the total.
    pub ideas_by_category: Vec<Count>,
    pub ideas_by_month: Vec<Count>,
    pub ideas_by_area: Vec<Count>,
    pub ideas_by_provider: Vec<Count>,
    /// Words and two-word phrases used in at least 5 different ideas; at most 10, most used first.
    pub recurring: Vec<Count>,
    /// Each changed sign counts once, so a note with two signs counts twice (here and by month).
    pub signs_by_sign: Vec<Count>,
    pub signs_by_month: Vec<Count>,
    /// NEWS2 totals in bands, rows labelled "2026-11 · 5–6": months ascending, bands low to high.
    pub news2_by_month: Vec<Count>,
    pub notes_with_news2_by_month: Vec<Count>,
}

impl Trends {
    /// Every table as (stable key for CSV, heading for pages and charts, rows).
    pub fn tables(&self) -> [(&'static str, &'static str, &[Count]); 9] {
        [
            ("ideas_by_category", "Ideas by who could act (one idea may count in two)", &self.ideas_by_category),
            ("ideas_by_month", "Ideas by month", &self.ideas_by_month),
            ("ideas_by_area", "Ideas by area", &self.ideas_by_area),
            ("ideas_by_provider", "Ideas by provider", &self.ideas_by_provider),
            ("recurring_ideas", "Recurring words in ideas (number of ideas)", &self.recurring),
            ("soft_signs_by_sign", "Soft signs by sign", &self.signs_by_sign),
            ("soft_signs_by_month", "Soft signs by month", &self.signs_by_month),
            ("news2_by_month", "NEWS2 scores by month and band", &self.news2_by_month),
            ("notes_with_news2_by_month", "Notes with a NEWS2 score by month", &self.notes_with_news2_by_month),
        ]
    }
}

/// Counts every table from the facts, then suppresses small numbers.
pub fn trends(facts: &[TrendFact]) -> Trends {
    type Tally = BTreeMap<String, u64>;
    let (mut ideas, mut notes) = (0u64, 0u64);
    let (mut cat, mut idea_month, mut area_t, mut prov) = (Tally::new(), Tally::new(), Tally::new(), Tally::new());
    let (mut sign, mut sign_month, mut news_month) = (Tally::new(), Tally::new(), Tally::new());
    let mut bands: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    let mut summaries = Vec::new();
    let bump = |t: &mut Tally, k: String, n: u64| *t.entry(k).or_default() += n;
    for fact in facts {
        match fact {
            TrendFact::Idea { provider, month, area, categories, summary } => {
                ideas += 1;
                // A set, so a category repeated within one idea still counts that idea once.
                let mut kinds: BTreeSet<String> = categories.iter().map(|c| category_label(c)).collect();
                if kinds.is_empty() {
                    kinds.insert("Not said".into());
                }
                kinds.into_iter().for_each(|k| bump(&mut cat, k, 1));
                bump(&mut idea_month, or_unknown(month), 1);
                bump(&mut area_t, or_unknown(area), 1);
                bump(&mut prov, or_unknown(provider), 1);
                summaries.push(summary.as_str());
            }
            TrendFact::Note { month, soft_signs, news2, .. } => {
                notes += 1;
                let signs: BTreeSet<String> = soft_signs.iter().map(|s| sign_label(s)).collect();
                if !signs.is_empty() {
                    bump(&mut sign_month, or_unknown(month), signs.len() as u64);
                }
                signs.into_iter().for_each(|s| bump(&mut sign, s, 1));
                if let Some(score) = news2 {
                    bump(&mut news_month, or_unknown(month), 1);
                    bands.entry(or_unknown(month)).or_default()[band(*score)] += 1;
                }
            }
        }
    }
    // Bands are protected month by month, since each month's total is shown in the next table.
    let news2_by_month = bands
        .into_iter()
        .flat_map(|(m, n)| protect(NEWS2_BANDS.iter().zip(n).map(|(b, v)| (format!("{m} · {b}"), v)).collect()))
        .collect();
    Trends {
        total_ideas: shown(ideas),
        total_notes: shown(notes),
        ideas_by_category: by_count(cat),
        ideas_by_month: protect(idea_month.into_iter().collect()),
        ideas_by_area: by_count(area_t),
        ideas_by_provider: by_count(prov),
        recurring: recurring(&summaries),
        signs_by_sign: by_count(sign),
        signs_by_month: protect(sign_month.into_iter().collect()),
        news2_by_month,
        notes_with_news2_by_month: protect(news_month.into_iter().collect()),
    }
}

fn shown(n: u64) -> Option<u64> {
    (n >= SUPPRESS_UNDER).then_some(n)
}

fn or_unknown(s: &str) -> String {
    if s.trim().is_empty() { "Unknown".into() } else { s.trim().to_string() }
}

fn category_label(code: &str) -> String {
    match PartnerKind::from_code(code.trim()) {
        Some(kind) => kind.label().into(),
        None if code.trim().is_empty() => "Not said".into(),
        None => code.trim().to_string(), // a code from a newer device: still worth counting
    }
}

fn sign_label(code: &str) -> String {
    SoftSign::from_code(code.trim()).map_or_else(|| or_unknown(code), |s| s.label().into())
}

fn band(score: u8) -> usize {
    match score {
        0..=4 => 0,
        5..=6 => 1,
        _ => 2,
    }
}

/// Suppresses small counts, keeping row order.
// Secondary suppression: every table's total is public (a headline total or the sum of its rows), so if
// exactly one row were hidden it could be recovered by subtracting the others; we also hide the next
// smallest row (ties broken by label) so at least two unknowns remain.
fn protect(raw: Vec<(String, u64)>) -> Vec<Count> {
    let mut rows: Vec<Count> = raw.into_iter().map(|(label, n)| Count { label, value: shown(n) }).collect();
    if rows.iter().filter(|r| r.value.is_none()).count() == 1
        && let Some(next) = rows
            .iter_mut()
            .filter(|r| r.value.is_some())
            .min_by(|a, b| a.value.cmp(&b.value).then_with(|| a.label.cmp(&b.label)))
    {
        next.value = None;
    }
    rows
}

/// Protected, then shown rows by count descending and label; suppressed rows after, by label only.
fn by_count(tally: BTreeMap<String, u64>) -> Vec<Count> {
    let mut rows = protect(tally.into_iter().collect());
    rows.sort_by(|a, b| match (a.value, b.value) {
        (Some(x), Some(y)) => y.cmp(&x).then_with(|| a.label.cmp(&b.label)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.label.cmp(&b.label),
    });
    rows
}

const STOPWORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before",
    "being", "but", "by", "can", "could", "did", "do", "does", "doesn't", "don't", "down", "each", "for", "from",
    "get", "gets", "getting", "had", "has", "have", "he", "her", "here", "him", "his", "how", "i", "if", "in", "into",
    "is", "isn't", "it", "it's", "its", "just", "like", "made", "make", "may", "me", "might", "miss", "more", "most",
    "mr", "mrs", "ms", "dr", "much", "must", "my", "need", "needs", "no", "not", "now", "of", "off", "on", "one",
    "only", "or", "other", "our", "out", "over", "own", "please", "really", "said", "say", "says", "she", "should",
    "so", "some", "still", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this",
    "those", "to", "too", "up", "us", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
    "why", "will", "with", "would", "you", "your",
];
/// Service acronyms written in capitals mid-sentence that are not names.
const ACRONYMS: &[&str] = &["gp", "nhs", "ot", "icb"];
const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "dr"];

struct Token {
    word: String,
    /// Capitalised but not starting a sentence: likely a name.
    name_like: bool,
    /// Written with a capital letter (also at the start of a sentence).
    capitalised: bool,
    /// Only spaces or a hyphen since the previous word, so the two can form a phrase.
    joined: bool,
}

fn tokens(text: &str) -> Vec<Token> {
    let (mut out, mut word) = (Vec::new(), String::new());
    let (mut sentence_start, mut joined) = (true, false);
    for c in text.chars().chain([' ']) {
        if c.is_alphanumeric() || (matches!(c, '\'' | '’') && !word.is_empty()) {
            word.push(if c == '’' { '\'' } else { c });
            continue;
        }
        let mut after_title = false;
        if !word.is_empty() {
            let w = word.trim_end_matches('\'');
            let w = w.strip_suffix("'s").unwrap_or(w); // "Patel's" is still Patel
            let lower = w.to_lowercase();
            after_title = TITLES.contains(&lower.as_str());
            let capitalised = w.chars().next().is_some_and(char::is_uppercase);
            let name_like = !sentence_start && capitalised;
            out.push(Token { word: lower, name_like, capitalised, joined });
            word.clear();
            (sentence_start, joined) = (false, true);
        }
        match c {
            '.' if after_title => {} // "Mr. Patel": the full stop does not start a sentence
            '.' | '!' | '?' | ';' | ':' | '\n' => (sentence_start, joined) = (true, false),
            '-' => {}
            c if c.is_whitespace() => {}
            _ => joined = false,
        }
    }
    out
}

fn meaningful(w: &str) -> bool {
    (w.chars().count() >= 3 || ACRONYMS.contains(&w)) && !STOPWORDS.contains(&w) && !w.chars().any(char::is_numeric)
}

/// The words and two-word phrases most often used across idea summaries, counted once per idea.
fn recurring(summaries: &[&str]) -> Vec<Count> {
    let tokenised: Vec<Vec<Token>> = summaries.iter().map(|s| tokens(s)).collect();
    // A word written like a name anywhere is skipped everywhere, in case it is someone's name; so
    // is a word never written in lower case ("Margaret is…" starts a sentence but is a name).
    let lower_case: HashSet<&str> =
        tokenised.iter().flatten().filter(|t| !t.capitalised).map(|t| t.word.as_str()).collect();
    let names: HashSet<&str> = tokenised
        .iter()
        .flatten()
        .filter(|t| (t.name_like || !lower_case.contains(t.word.as_str())) && !ACRONYMS.contains(&t.word.as_str()))
        .map(|t| t.word.as_str())
        .collect();
    let keep = |w: &str| meaningful(w) && !names.contains(w);
    let mut uses: HashMap<String, u64> = HashMap::new();
    for toks in &tokenised {
        let mut seen = BTreeSet::new();
        for (i, t) in toks.iter().enumerate().filter(|(_, t)| keep(&t.word)) {
            seen.insert(t.word.clone());
            if let Some(next) = toks.get(i + 1).filter(|n| n.joined && keep(&n.word)) {
                seen.insert(format!("{} {}", t.word, next.word));
            }
        }
        seen.into_iter().for_each(|k| *uses.entry(k).or_default() += 1);
    }
    let mut common: Vec<(String, u64)> = uses.into_iter().filter(|(_, n)| *n >= RECURRING_MIN_IDEAS).collect();
    // A word adds nothing beside a phrase containing it that is used just as often ("grab" by "grab rail").
    let phrases: Vec<(String, u64)> = common.iter().filter(|(k, _)| k.contains(' ')).cloned().collect();
    common.retain(|(k, n)| k.contains(' ') || !phrases.iter().any(|(p, m)| m == n && p.split(' ').any(|w| w == k)));
    common.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    common.into_iter().take(RECURRING_TOP).map(|(label, n)| Count { label, value: Some(n) }).collect()
}

/// One CSV of every table: `table,label,count`, with suppressed counts as `<5`.
pub fn to_csv(t: &Trends) -> String {
    // Writing to memory cannot fail in practice; an empty download is the safe fallback if it ever does.
    write_csv(t).unwrap_or_default()
}

fn write_csv(t: &Trends) -> Result<String, Box<dyn std::error::Error>> {
    let mut w = csv_writer();
    w.write_record(["table", "label", "count"])?;
    let totals =
        [Count { label: "Ideas".into(), value: t.total_ideas }, Count { label: "Notes".into(), value: t.total_notes }];
    for (key, _, rows) in std::iter::once(("totals", "", &totals[..])).chain(t.tables()) {
        for row in rows {
            let count = row.value.map_or_else(|| format!("<{SUPPRESS_UNDER}"), |n| n.to_string());
            w.write_record([key, &csv_safe(&row.label), &count])?;
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

/// An accessible horizontal bar chart, 640 wide, with no script. Suppressed rows get a grey hatched stub.
pub fn bar_chart_svg(title: &str, rows: &[Count]) -> String {
    const WIDTH: u64 = 640;
    const BAR_X: u64 = 250;
    const BAR_MAX: u64 = 290;
    const ROW: u64 = 28;
    const TOP: u64 = 40;
    const MAX_LABEL: usize = 32;
    // Ids must be unique when several charts share a page, so derive them from the title (FNV-1a).
    let id = title.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let say = |v: Option<u64>| v.map_or_else(|| "fewer than 5".to_string(), |n| n.to_string());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn idea(provider: &str, month: &str, area: &str, cats: &[&str], summary: &str) -> TrendFact {
        TrendFact::Idea {
            provider: provider.into(),
            month: month.into(),
            area: area.into(),
            categories: cats.iter().map(|c| c.to_string()).collect(),
            summary: summary.into(),
        }
    }

    fn note(month: &str, signs: &[&str], news2: Option<u8>) -> TrendFact {
        TrendFact::Note {
            provider: "Acme Care".into(),
            month: month.into(),
            area: "LS6".into(),
            soft_signs: signs.iter().map(|s| s.to_string()).collect(),
            news2,
        }
    }

    fn row(label: &str, value: Option<u64>) -> Count {
        Count { label: label.into(), value }
    }

    fn many(n: usize, f: impl Fn() -> TrendFact) -> Vec<TrendFact> {
        (0..n).map(|_| f()).collect()
    }

    #[test]
    fn counts_match_a_hand_built_set() {
        let mut facts = many(6, || idea("Acme Care", "2026-11", "LS6", &["gp_practice", "housing"], "x"));
        facts.extend(many(7, || idea("Bright Homecare", "2026-10", "", &[], "x")));
        facts.extend(many(2, || idea("Acme Care", "2026-10", "LS6", &["pharmacy"], "x")));
        facts.extend(many(5, || note("2026-11", &["confusion", "new_pain"], Some(6))));
        facts.extend(many(6, || note("2026-10", &["confusion"], Some(2))));
        facts.extend(many(3, || note("2026-10", &[], None)));
        let t = trends(&facts);
        assert_eq!((t.total_ideas, t.total_notes), (Some(15), Some(14)));
        // GP and housing count the same 6 ideas; pharmacy's 2 is hidden, so the next smallest (GP, by label) is too.
        assert_eq!(
            t.ideas_by_category,
            vec![row("Not said", Some(7)), row("Housing", Some(6)), row("GP practice", None), row("Pharmacy", None)]
        );
        assert_eq!(t.ideas_by_month, vec![row("2026-10", Some(9)), row("2026-11", Some(6))]);
        assert_eq!(t.ideas_by_area, vec![row("LS6", Some(8)), row("Unknown", Some(7))]);
        assert_eq!(t.ideas_by_provider, vec![row("Acme Care", Some(8)), row("Bright Homecare", Some(7))]);
        assert_eq!(t.signs_by_sign, vec![row("New or worse confusion", Some(11)), row("New pain", Some(5))]);
        assert_eq!(t.signs_by_month, vec![row("2026-10", Some(6)), row("2026-11", Some(10))]);
        assert_eq!(t.notes_with_news2_by_month, vec![row("2026-10", Some(6)), row("2026-11", Some(5))]);
        assert_eq!(
            t.news2_by_month,
            vec![
                row("2026-10 · 0–4", Some(6)),
                row("2026-10 · 5–6", None),
                row("2026-10 · 7+", None),
                row("2026-11 · 0–4", None),
                row("2026-11 · 5–6", Some(5)),
                row("2026-11 · 7+", None),
            ]
        );
    }

    #[test]
    fn four_is_suppressed_and_five_is_shown() {
        let mut facts = many(4, || idea("A", "2026-01", "LS1", &[], "x"));
        facts.extend(many(5, || idea("B", "2026-02", "LS1", &[], "x")));
        facts.extend(many(10, || idea("C", "2026-03", "LS1", &[], "x")));
        let t = trends(&facts);
        assert_eq!(t.ideas_by_provider[0], row("C", Some(10)));
        assert!(t.ideas_by_provider.contains(&row("A", None)));
        // With 4 hidden and the total shown, B's 5 is hidden too; with two hidden rows nothing more is needed.
        assert!(t.ideas_by_provider.contains(&row("B", None)));
        assert_eq!(trends(&many(4, || note("2026-01", &[], None))).total_notes, None);
        assert_eq!(trends(&many(5, || note("2026-01", &[], None))).total_notes, Some(5));
        let two_small = protect(vec![("a".into(), 4), ("b".into(), 3), ("c".into(), 5)]);
        assert_eq!(two_small, vec![row("a", None), row("b", None), row("c", Some(5))]);
    }

    #[test]
    fn secondary_suppression_hides_the_next_smallest() {
        let rows = protect(vec![("big".into(), 30), ("small".into(), 3), ("mid".into(), 6), ("also".into(), 6)]);
        // 30 + 6 + 6 + 3 = 45 is public, so "small" alone could be worked out; "also" (6, first by label) goes too.
        assert_eq!(rows, vec![row("big", Some(30)), row("small", None), row("mid", Some(6)), row("also", None)]);
        assert_eq!(rows.iter().filter(|r| r.value.is_none()).count(), 2);
    }

    #[test]
    fn recurring_phrases_need_five_ideas_and_skip_names() {
        let mut facts = many(5, || idea("A", "2026-01", "LS1", &[], "A grab rail by the front door would help."));
        facts.extend(many(6, || idea("A", "2026-01", "LS1", &[], "Ask Patel about the key safe, 3 times.")));
        facts.extend(many(4, || idea("A", "2026-01", "LS1", &[], "Commode upstairs please")));
        facts.push(idea("A", "2026-01", "LS1", &[], "Patel's GP could review the commode."));
        // A name starting a sentence is never written in lower case: skipped too.
        facts.extend(many(5, || idea("A", "2026-01", "LS1", &[], "Margaret needs her key safe code changed.")));
        let labels: Vec<String> = trends(&facts).recurring.into_iter().map(|c| c.label).collect();
        for expected in ["grab rail", "front door", "key safe", "times"] {
            assert!(labels.contains(&expected.to_string()), "{expected} missing from {labels:?}");
        }
        // "commode" is in 5 ideas once the GP one is added; "upstairs" only 4; a name or a number never.
        assert!(labels.contains(&"commode".to_string()));
        assert!(!labels.iter().any(|l| l.contains("upstairs") || l.contains("patel") || l.contains('3')));
        assert!(!labels.iter().any(|l| l.contains("margaret") || l.contains("ask")), "{labels:?}");
        // A word as common as its phrase is left out ("grab" beside "grab rail").
        assert!(!labels.contains(&"grab".to_string()));
        assert!(labels.len() <= RECURRING_TOP);
    }

    #[test]
    fn csv_has_one_table_label_count_shape() {
        let mut facts = many(6, || idea("=Acme", "2026-11", "LS6", &["housing"], "x"));
        facts.extend(many(2, || idea("Bright, Care", "2026-11", "LS6", &["housing"], "x")));
        let csv = to_csv(&trends(&facts));
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "\"table\",\"label\",\"count\"");
        assert_eq!(lines[1], "\"totals\",\"Ideas\",\"8\"");
        assert_eq!(lines[2], "\"totals\",\"Notes\",\"<5\"");
        assert!(lines.contains(&"\"ideas_by_provider\",\"Bright, Care\",\"<5\""));
        assert!(lines.contains(&"\"ideas_by_provider\",\"'=Acme\",\"<5\""));
        assert!(lines.contains(&"\"ideas_by_category\",\"Housing\",\"8\""));
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert!(reader.records().all(|r| r.map(|r| r.len() == 3).unwrap_or(false)));
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
        assert!(svg.contains("Tom &amp; &lt;Jerry&gt;: 12; Small: fewer than 5."));
        assert!(!svg.contains("<Jerry") && !svg.contains("A&B") && !svg.contains("<script"));
        assert!(svg.contains("#005eb8") && svg.contains(">fewer than 5</text>") && svg.contains("url(#h"));
        assert!(bar_chart_svg("Empty", &[]).contains("No data"));
    }
}

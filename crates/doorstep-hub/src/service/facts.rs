//! What a record grants: who may read it and the rota facts, learnt from the record when it is
//! written.

use automerge::AutoCommit;
use doorstep_model::{Directory, DirectoryId, Insight, Person, RecordKind, SharedItem, Visit, VisitNote};
use uuid::Uuid;

use super::{carer_principal, manager_principal, partner_principal, staff_principal};
use crate::doc_facts::DocFacts;
use crate::storage::VisitIndex;

/// What the hub learns from a record when it is written: who may read it and the rota facts.
pub(super) struct Facts {
    pub(super) readers: Vec<String>,
    pub(super) visit: Option<VisitIndex>,
    pub(super) note_person: Option<Uuid>,
    /// The record a note or visit belongs to, for the write check.
    pub(super) parent: Option<Uuid>,
    pub(super) author: Option<String>,
    /// What the partner pages list and count about it.
    pub(super) doc_facts: Option<DocFacts>,
    /// The carer (staff reference) who reads an idea (its author) or a shared item (who raised
    /// it) among `readers`: only while they still visit the person it names.
    pub(super) carer_reader: Option<String>,
}

pub(super) fn facts(kind: RecordKind, doc: &AutoCommit, owner: Uuid) -> Result<(Uuid, Facts), String> {
    let manager = manager_principal(owner);
    let hydrate_err = |e: autosurgeon::HydrateError| e.to_string();
    Ok(match kind {
        RecordKind::Person => {
            let p: Person = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            let doc_facts = Some(DocFacts::of_person(&p));
            (
                p.id.0,
                Facts {
                    readers: vec![manager],
                    visit: None,
                    note_person: None,
                    parent: None,
                    author: None,
                    doc_facts,
                    carer_reader: None,
                },
            )
        }
        RecordKind::Visit => {
            let v: Visit = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            v.validate().map_err(|e| e.to_string())?;
            let mut readers = vec![manager];
            readers.extend(v.carers.iter().map(|c| carer_principal(owner, c.as_str())));
            let index = VisitIndex {
                person_id: v.person_id.0,
                day: v.day().to_string(),
                carers: v.carers.iter().map(|c| c.as_str().to_string()).collect(),
            };
            (
                v.id.0,
                Facts {
                    readers,
                    visit: Some(index),
                    note_person: None,
                    parent: Some(v.person_id.0),
                    author: None,
                    doc_facts: None,
                    carer_reader: None,
                },
            )
        }
        RecordKind::Note => {
            let n: VisitNote = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            if let Some(vitals) = &n.vitals {
                vitals.validate().map_err(|e| e.to_string())?;
            }
            let readers = vec![manager];
            (
                n.id.0,
                Facts {
                    readers,
                    visit: None,
                    note_person: Some(n.person_id.0),
                    parent: Some(n.visit_id.0),
                    author: None,
                    doc_facts: DocFacts::of_note(&n),
                    carer_reader: None,
                },
            )
        }
        RecordKind::Insight => {
            let i: Insight = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            i.validate().map_err(|e| e.to_string())?;
            // The provider's managers and the author. Partners never read the insight itself:
            // they read the shared item made for them.
            let readers = vec![manager, carer_principal(owner, i.author.as_str())];
            (
                i.id.0,
                Facts {
                    readers,
                    visit: None,
                    note_person: None,
                    parent: None,
                    author: Some(i.author.as_str().to_string()),
                    doc_facts: Some(DocFacts::of_insight(&i)),
                    carer_reader: Some(i.author.as_str().to_string()),
                },
            )
        }
        RecordKind::Shared => {
            let item: SharedItem = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            item.validate().map_err(|e| e.to_string())?;
            if item.provider.id != owner {
                return Err(format!("shared item {} names another provider", item.id));
            }
            // The provider's managers, the carer who raised it, and the partner until revoked.
            let mut readers = vec![manager, carer_principal(owner, item.raised_by.as_str())];
            if item.revoked.is_none() {
                readers.push(partner_principal(item.partner.id));
            }
            (
                item.id.0,
                Facts {
                    readers,
                    visit: None,
                    note_person: None,
                    parent: None,
                    author: None,
                    doc_facts: Some(DocFacts::of_shared(&item)),
                    carer_reader: Some(item.raised_by.as_str().to_string()),
                },
            )
        }
        RecordKind::Directory => {
            let d: Directory = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            d.validate().map_err(|e| e.to_string())?;
            if d.provider != owner || d.id != DirectoryId::for_provider(owner) {
                return Err(format!("directory {} is not its provider's", d.id));
            }
            (
                d.id.0,
                Facts {
                    readers: vec![manager, staff_principal(owner)],
                    visit: None,
                    note_person: None,
                    parent: None,
                    author: None,
                    doc_facts: None,
                    carer_reader: None,
                },
            )
        }
    })
}

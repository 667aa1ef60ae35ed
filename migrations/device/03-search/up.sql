-- Full-text search over notes and insights. The rowid is the document's doc_no, so a document's
-- entry is replaced by rowid without scanning the index.
CREATE VIRTUAL TABLE search_index USING fts5 (
    kind UNINDEXED,
    person_id UNINDEXED,
    body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

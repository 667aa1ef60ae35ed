-- The caseload early warning reads 13 weeks of notes with a sign new or worse than usual: a few
-- in a hundred. This index holds only those, so the read walks them instead of every visit.
CREATE INDEX notes_with_sign_changes ON notes (visit_id) WHERE soft_sign_changes > 0;

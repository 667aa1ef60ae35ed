-- What the hub is known to hold of each document, so a sync sends only what is new.
ALTER TABLE documents ADD COLUMN heads BLOB;                               -- current heads: concatenated 32-byte change hashes
ALTER TABLE documents ADD COLUMN hub_heads BLOB;                           -- heads the hub holds, same encoding; NULL: never synced
ALTER TABLE documents ADD COLUMN sync_pending INTEGER NOT NULL DEFAULT 1;  -- local changes the hub has not acknowledged
ALTER TABLE documents ADD COLUMN held_back TEXT;                           -- why the hub last refused this document's changes
CREATE INDEX documents_sync_pending ON documents (doc_no) WHERE sync_pending = 1;

-- What kind of partner an organisation is (GP practice, community nursing, ICB, council adult
-- social care, voluntary sector…); NULL for providers. Codes: doorstep_model::PartnerKind::code.
ALTER TABLE organisations ADD COLUMN partner_kind TEXT;

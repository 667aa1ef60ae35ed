-- The person's postcode district (doorstep_model::directory::postcode_district: "NB3"), for the
-- manager's caseload early warning; NULL when the postcode is not one. An area of thousands of
-- households, never the address.
ALTER TABLE people ADD COLUMN district TEXT;

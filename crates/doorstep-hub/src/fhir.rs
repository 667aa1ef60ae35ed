//! FHIR R4 export of a shared item.

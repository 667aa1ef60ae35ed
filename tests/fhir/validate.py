"""Validates FHIR R4 Bundles (JSON files named as arguments) with fhir.resources, whose models are
generated from the FHIR R4 (4.0.1) base StructureDefinitions: required elements, cardinality,
element types, choice types ([x], one at most), unknown elements and primitive formats (dateTime,
id, uri...) of the Bundle and every resource in it. UK Core profiles (meta.profile) are not
checked: no registry package holds them.

Prints one verdict line a file and exits 1 if any is invalid (2 if the validator cannot run).
Installed by `cargo xtask test` (tests/fhir/requirements.txt into target/fhir-venv)."""

import sys

try:
    import fhir.resources
    from fhir.resources.bundle import Bundle
    from pydantic import ValidationError
except ImportError as e:
    print(f"the FHIR validator is not installed ({e}): run `cargo xtask test`, which installs "
          "tests/fhir/requirements.txt into target/fhir-venv", file=sys.stderr)
    sys.exit(2)

if fhir.resources.__fhir_version__ != "4.0.1":
    print(f"fhir.resources {fhir.resources.__version__} models FHIR {fhir.resources.__fhir_version__}, "
          "not R4 (4.0.1): install tests/fhir/requirements.txt", file=sys.stderr)
    sys.exit(2)

NAME = f"fhir.resources {fhir.resources.__version__}, FHIR {fhir.resources.__fhir_version__}"


def main(paths):
    if not paths:
        print("usage: validate.py BUNDLE.json...", file=sys.stderr)
        return 2
    invalid = 0
    for path in paths:
        try:
            bundle = Bundle.parse_file(path)
            kinds = [e.resource.resource_type for e in bundle.entry or []]
            print(f"{path}: valid FHIR R4 Bundle ({NAME}): {len(kinds)} entries, {', '.join(kinds)}")
        except ValidationError as e:
            invalid += 1
            problems = "; ".join(f"{' -> '.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
            print(f"{path}: INVALID FHIR R4 ({NAME}): {problems}")
        except (OSError, ValueError) as e:
            invalid += 1
            print(f"{path}: INVALID, not readable as JSON: {e}")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Privacy lifecycle pieces with no Dagster and no HTTP: opt-out files and the opt-out list
(hashes only), consent and external-id checks per row. Import from the modules:

- `privacy.optouts`: the opt-out file format, `read_optout_file`
- `privacy.store`: `OptOutStore` (SQLite, append-only), `OptOutList.mask`, `deletion_identities`
- `privacy.consent`: `check_tcf`, `check_gpp`, `check_flag`, `decode_tcf_core`, `consent_missing`
- `privacy.external_ids`: `check_external_id`
- `privacy.row_checks`: `RowChecks` (what the hashing engine runs per batch)
"""

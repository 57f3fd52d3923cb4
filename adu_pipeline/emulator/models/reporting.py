"""Ad-hoc reporting executions (AMC's workflow execution API), the minimal flow a count needs.

The SQL runs with `audience_sql.query_result` over the same tables audiences see; the result is
kept as CSV (header row, then the rows), as AMC writes it to S3, and served from an
emulator-only URL that `downloadUrls` returns (real AMC returns pre-signed S3 URLs).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

MAX_RESULT_ROWS = 10_000
STATUSES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED")


def to_csv(names: Sequence[str], rows: Sequence[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue()

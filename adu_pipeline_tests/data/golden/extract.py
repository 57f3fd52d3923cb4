"""Rebuild the golden vectors from the shared golden folder (run by hand, never by tests).

Usage: python adu_pipeline_tests/data/golden/extract.py /path/to/shared/golden/amazon_normalization
Writes one {cc}.json.gz per country: {"country", "source", "fields": {field: [[raw, hash], ...]}}.
Phone is left out: the golden phone hashes are not a conformance target (see the source README).
"""

import gzip
import json
import sys
from pathlib import Path

FIELDS = ["first_name", "last_name", "email", "address", "city", "zip", "state"]
COUNTRIES = ["us", "ca", "de", "es", "fr", "gb", "in", "it", "jp"]
SOURCE = "aws-solutions/amazon-marketing-cloud-uploader-from-aws sample_data (Apache-2.0)"


def main(source: Path) -> None:
    target = Path(__file__).parent
    for cc in COUNTRIES:
        raw = {r["id"]: r for r in json.loads((source / f"{cc}_raw.json").read_text())}
        checks = json.loads((source / f"{cc}_check.json").read_text())
        fields = {}
        for field in FIELDS:
            rows = [[raw[c["id"]].get(field), c[field]] for c in checks if field in c]
            if rows:
                fields[field] = rows
        doc = {"country": cc.upper(), "source": SOURCE, "fields": fields}
        data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        (target / f"{cc}.json.gz").write_bytes(gzip.compress(data, 9, mtime=0))


if __name__ == "__main__":
    main(Path(sys.argv[1]))

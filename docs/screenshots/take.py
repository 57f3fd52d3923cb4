"""Screenshots of the Dagster UI for the README, from a running `adu dev` (after `make demo`).

    .venv/bin/adu dev &                       # wait for http://127.0.0.1:3000
    python docs/screenshots/take.py           # a Python with `playwright` installed

Drives Debian's chromium (apt-get install chromium); not a dependency of the project.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

UI = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
HERE = Path(__file__).resolve().parent
PAGES = {
    "asset-graph": "/locations/adu_pipeline/asset-groups/crm_customers",
    "hashed-partitions": "/assets/crm_customers/hashed?view=partitions&partition=2026-12-01",
    "hashed-overview": "/assets/crm_customers/hashed?view=overview",
    "hashed-checks": "/assets/crm_customers/hashed?view=checks",
    "audience": "/assets/audiences/amc_audience?view=partitions&partition=loyal_customers",
}

with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    for name, path in PAGES.items():
        page.goto(UI + path, wait_until="networkidle")
        skip = page.get_by_role("button", name="Skip")
        if skip.count():
            skip.first.click()
        page.wait_for_timeout(3000)
        target = HERE / f"{name}.png"
        page.screenshot(path=str(target))
        print(f"{target.name} {target.stat().st_size} bytes")
    browser.close()

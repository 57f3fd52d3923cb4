"""The three user deletion calls against the emulator over real HTTP.

These need the emulator's userDeletionRequest routes (issue 8 item 2); until it serves them the
calls answer 404 and these tests fail on purpose: nothing here is skipped or mocked.
"""

from __future__ import annotations

import pytest

from adu_pipeline.amc import AmcClient
from adu_pipeline.amc.bodies import external_identity, hashed_identity, user_deletion_request
from adu_pipeline.amc.deletions import DeletionStatus, UserDeletions
from adu_pipeline_tests.amc.conftest import config_for, sha


@pytest.fixture
def deletions(emulator):
    with AmcClient(config_for(emulator)) as client:
        yield UserDeletions(client)


def test_create_get_list_and_wait(deletions):
    body = user_deletion_request(
        [
            hashed_identity({"EMAIL": sha("person1@example.com")}),
            external_identity("MAID", "38400000-8cf0-11bd-b23e-10b96e40000d"),
        ]
    )
    request_id = deletions.create(body)
    assert request_id
    got = deletions.get(request_id)
    assert got.request_id == request_id and got.identity_count == 2
    assert got.status in (DeletionStatus.PENDING, DeletionStatus.SUCCEEDED)
    assert got.created_at and got.created_at.endswith("Z")
    assert request_id in {d.request_id for d in deletions.list()}
    done = deletions.wait(request_id, timeout=60, max_interval=0.5)
    assert done.status is DeletionStatus.SUCCEEDED


def test_submit_batches_and_lists_every_page(deletions):
    identities = [hashed_identity({"EMAIL": sha(f"p{i}@example.com")}) for i in range(2300)]
    receipts = deletions.submit(identities)
    assert [r.identity_count for r in receipts] == [1000, 1000, 300]
    listed = {d.request_id: d for d in deletions.list(page_size=1)}
    assert {r.request_id for r in receipts} <= set(listed)
    assert [listed[r.request_id].identity_count for r in receipts] == [1000, 1000, 300]


def test_unknown_request_is_not_found(deletions):
    from adu_pipeline.amc import AmcNotFoundError

    with pytest.raises(AmcNotFoundError):
        deletions.get("no-such-request")

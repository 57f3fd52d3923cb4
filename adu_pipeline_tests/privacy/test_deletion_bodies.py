"""userDeletionRequest bodies: Amazon's schema, at most 1,000 identities per request."""

from __future__ import annotations

import pytest

from adu_pipeline.amc.bodies import (
    MAX_DELETION_IDENTITIES,
    external_identity,
    hashed_identity,
    user_deletion_request,
    user_deletion_requests,
)
from adu_pipeline.amc.config import AmcConfigError
from adu_pipeline.amc.deletions import DeletionStatus, UserDeletion
from adu_pipeline_tests.dataset.openapi import ADU, errors

H1, H2 = "a" * 64, "b" * 64


def test_bodies_match_the_openapi_schema():
    body = user_deletion_request(
        [
            hashed_identity({"EMAIL": H1}),
            hashed_identity({"EMAIL": H1, "PHONE": H2}),
            external_identity("MAID", "38400000-8cf0-11bd-b23e-10b96e40000d"),
        ]
    )
    assert errors(ADU, "CreateUserDeletionRequestRequestContent", body) == []
    assert body["targetIdentities"][0] == {"hashedIdentity": {"EMAIL": H1}}
    assert body["targetIdentities"][2] == {
        "externalIdentity": {"type": "MAID", "value": "38400000-8cf0-11bd-b23e-10b96e40000d"}
    }


def test_batches_of_at_most_1000():
    identities = [hashed_identity({"EMAIL": f"{i:064x}"}) for i in range(2501)]
    bodies = list(user_deletion_requests(identities))
    assert [len(b["targetIdentities"]) for b in bodies] == [1000, 1000, 501]
    assert [i for b in bodies for i in b["targetIdentities"]] == identities
    for body in bodies:
        assert errors(ADU, "CreateUserDeletionRequestRequestContent", body) == []
    assert [
        len(b["targetIdentities"]) for b in user_deletion_requests(identities[:5], batch_size=2)
    ] == [2, 2, 1]
    assert list(user_deletion_requests([])) == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: user_deletion_request([]),
        lambda: user_deletion_request(
            [hashed_identity({"EMAIL": H1})] * (MAX_DELETION_IDENTITIES + 1)
        ),
        lambda: user_deletion_request([{"hashedIdentity": {}, "externalIdentity": {}}]),
        lambda: hashed_identity({"EMAIL": "jane@example.com"}),
        lambda: hashed_identity({"EMAIL": H1.upper()}),
        lambda: hashed_identity({"SSN": H1}),
        lambda: hashed_identity({}),
        lambda: external_identity("COOKIE", "x"),
        lambda: external_identity("MAID", " "),
        lambda: list(user_deletion_requests([], batch_size=1001)),
    ],
)
def test_invalid_bodies_are_refused_without_values(make):
    with pytest.raises(AmcConfigError) as err:
        make()
    assert "jane" not in str(err.value)


def test_status_and_model_read_the_spec_shapes():
    got = UserDeletion.from_api(
        {
            "userDeletionRequestId": "r-1",
            "status": "SUCCEEDED",
            "identityCount": 12.0,
            "creationDateTime": "2026-12-01T10:00:00Z",
        }
    )
    assert (got.request_id, got.status, got.identity_count) == ("r-1", DeletionStatus.SUCCEEDED, 12)
    assert got.status.is_terminal and got.status.is_success
    assert DeletionStatus("PENDING").is_terminal is False
    assert DeletionStatus("pending") is DeletionStatus.PENDING
    assert DeletionStatus("SOMETHING_NEW") is DeletionStatus.PENDING  # keep polling
    assert DeletionStatus("FAILED").is_terminal and not DeletionStatus("FAILED").is_success
    assert UserDeletion.from_api({}).status is DeletionStatus.PENDING

"""`adu amc discover`: the AMC accounts, instances and DSP advertisers this login can use, the
exports to point the other commands at one, and a ready-to-paste data/instances.yaml."""

from __future__ import annotations

import json
import re
from typing import Any

from adu_pipeline.amc.cli.common import Connection, amc_command
from adu_pipeline.amc.config import MARKETPLACE_COUNTRIES, env_var_name

DSP_TYPES = (None, "DISPLAY", "DSP")  # advertiser types an audience can activate into
_PLAIN = re.compile(r"^[A-Za-z0-9_.-]+$")


@amc_command("discover", "list accounts, instances, advertisers")
def discover(conn: Connection) -> int:
    config = conn.config()
    with conn.client() as client:
        found: list[dict[str, Any]] = []
        lines: list[str] = []
        accounts = client.list_accounts()
        if not accounts:
            lines.append("no AMC accounts visible to this login")
        for account in accounts:
            lines.append(
                f"account {account.account_id}  marketplace={account.marketplace_id}"
                f"  {account.account_name or ''}".rstrip()
            )
            instances = client.list_instances(
                advertiser_id=account.account_id, marketplace_id=account.marketplace_id
            )
            entry: dict[str, Any] = {**account.raw, "instances": []}
            for inst in instances:
                lines.append(
                    f"  instance {inst.instance_id}  {inst.instance_name or ''}"
                    f"  status={inst.creation_status}  apiEndpoint={inst.api_endpoint}"
                    f"  dataUploadAwsAccountId={inst.data_upload_aws_account_id}"
                )
                advertisers = client.list_advertisers(
                    inst.instance_id,
                    advertiser_id=account.account_id,
                    marketplace_id=account.marketplace_id,
                )
                for adv in advertisers:
                    lines.append(f"    advertiser {adv.advertiser_id}  {adv.type}  {adv.name}")
                entry["instances"].append(
                    {**inst.raw, "advertisers": [dict(a.raw) for a in advertisers]}
                )
            found.append(entry)
    snippet = instances_yaml(found, config.region)
    lines += _suggest_env(found)
    if snippet:
        lines += ["", "data/instances.yaml:", *snippet]
    conn.emit({"accounts": found, "instances_yaml": "\n".join(snippet)}, lines)
    return 0


def _suggest_env(found: list[dict[str, Any]]) -> list[str]:
    if len(found) != 1 or len(found[0]["instances"]) != 1:
        return []
    account, instance = found[0], found[0]["instances"][0]
    lines = [
        "",
        "configuration:",
        f"export {env_var_name('advertiser_id')}={account.get('accountId')}",
        f"export {env_var_name('marketplace_id')}={account.get('marketplaceId')}",
        f"export {env_var_name('instance_id')}={instance.get('instanceId')}",
    ]
    advertisers = instance.get("advertisers") or []
    if advertisers:
        lines.append(f"# DSP advertiser id for audiences: {advertisers[0].get('id')}")
    return lines


def instances_yaml(found: list[dict[str, Any]], region: str) -> list[str]:
    """The `instances:` list of data/instances.yaml for every instance found (keys made unique:
    the marketplace's country, else the instance id)."""
    lines: list[str] = []
    keys: set[str] = set()
    for account in found:
        marketplace = str(account.get("marketplaceId") or "")
        for instance in account["instances"]:
            key = _unique(_key_for(marketplace, str(instance.get("instanceId") or "")), keys)
            advertisers = [
                str(a.get("id"))
                for a in instance.get("advertisers") or []
                if a.get("type") in DSP_TYPES and a.get("id")
            ]
            lines += [
                f"  - key: {key}",
                f"    region: {region}",
                f"    instance_id: {_scalar(instance.get('instanceId'))}",
                f"    account_id: {_scalar(account.get('accountId'))}",
                f"    marketplace_id: {_scalar(marketplace)}",
                f"    dsp_advertisers: {json.dumps(advertisers)}",
            ]
    return ["instances:", *lines] if lines else []


def _key_for(marketplace: str, instance_id: str) -> str:
    country = MARKETPLACE_COUNTRIES.get(marketplace)
    base = country.lower() if country else instance_id.lower()
    return re.sub(r"[^a-z0-9_]+", "_", base).strip("_") or "instance"


def _unique(key: str, taken: set[str]) -> str:
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _scalar(value: Any) -> str:
    """An id as YAML: plain when it is safe, else a JSON (= YAML flow) string."""
    text = "" if value is None else str(value)
    return text if _PLAIN.match(text) and not text.isdigit() else json.dumps(text)


COMMANDS = (discover,)

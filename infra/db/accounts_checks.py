"""What a seller account must be before it is stored: the one set of checks ``accounts add``,
``edit``, ``import`` and the web API share, each refusal named by its field.

An account that passes reaches Amazon: its marketplaces exist and belong to its region (the
sandbox region takes any), its refresh token looks like one, and a real region has an LWA client
id (the account's own, or ``LWA_CLIENT_ID``) — without one every sync would fail with Login with
Amazon's "missing parameter(s): client_id". Every reason is given at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.shared import FieldError
from domain.shared.times import TimeRefused, parse_utc
from infra.marketplaces import marketplace_id_for, marketplace_problem
from infra.settings import Region

NAME_MAX = 100  # the columns' lengths
SELLER_ID_MAX = 40
CLIENT_ID_MAX = 200
_DURATION = re.compile(r"^\s*(\d{1,5})\s*([dhw])\s*$", re.IGNORECASE)
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclass(frozen=True, slots=True)
class NewAccount:
    """An account as a person gives it (marketplaces by id or country code)."""

    name: str
    selling_partner_id: str
    region: str
    marketplace_ids: tuple[str, ...]
    refresh_token: str
    client_id: str | None = None
    sync_since: datetime | None = None

    def __repr__(self) -> str:  # the refresh token stays out of logs and tracebacks
        return f"NewAccount(name={self.name!r}, region={self.region!r})"


class AccountError(ValueError):
    """An account that cannot be stored, changed or found: every field refused and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))

    @classmethod
    def of(cls, field: str, reason: str) -> AccountError:
        return cls([FieldError(field, reason)])


def checked(new: NewAccount, *, app_client_id: str) -> NewAccount:
    """``new`` tidied (names stripped, marketplaces as ids, each once), or ``AccountError``
    with every reason. ``app_client_id``: ``LWA_CLIENT_ID`` (empty when unset)."""
    errors: list[FieldError] = []
    name = new.name.strip()
    seller_id = new.selling_partner_id.strip()
    client_id = (new.client_id or "").strip() or None
    if not name:
        errors.append(FieldError("name", "must not be empty"))
    elif len(name) > NAME_MAX:
        errors.append(FieldError("name", f"at most {NAME_MAX} characters"))
    if not seller_id:
        errors.append(FieldError("seller_id", "must not be empty (the merchant token)"))
    elif len(seller_id) > SELLER_ID_MAX:
        errors.append(FieldError("seller_id", f"at most {SELLER_ID_MAX} characters"))
    region = new.region.strip().upper()
    if region not in set(Region):
        errors.append(FieldError("region", f"must be one of {', '.join(Region)}, got {region!r}"))
    errors.extend(_marketplace_errors(new.marketplace_ids, region))
    if not new.refresh_token.startswith("Atzr|"):
        errors.append(
            FieldError("refresh_token", "a Login with Amazon refresh token starts with 'Atzr|'")
        )
    if client_id is not None and len(client_id) > CLIENT_ID_MAX:
        errors.append(FieldError("client_id", f"at most {CLIENT_ID_MAX} characters"))
    if region in set(Region) and region != Region.SANDBOX and not (client_id or app_client_id):
        errors.append(
            FieldError(
                "client_id",
                f"the {region} region needs the LWA client id of your app: give --client-id "
                "or set LWA_CLIENT_ID",
            )
        )
    if errors:
        raise AccountError(errors)
    ids = tuple(dict.fromkeys(marketplace_id_for(m) or m for m in _split(new.marketplace_ids)))
    return replace(
        new,
        name=name,
        selling_partner_id=seller_id,
        region=region,
        marketplace_ids=ids,
        client_id=client_id,
    )


def _split(given: tuple[str, ...]) -> list[str]:
    """Marketplaces as given: repeated, or several in one value separated by ';', ',' or
    spaces (a CSV cell)."""
    return [part for value in given for part in re.split(r"[;,\s]+", value) if part]


def _marketplace_errors(given: tuple[str, ...], region: str) -> list[FieldError]:
    parts = _split(given)
    if not parts:
        return [FieldError("marketplaces", "at least one marketplace is needed")]
    reasons = [marketplace_problem(part, region) for part in parts]
    return [FieldError("marketplaces", reason) for reason in reasons if reason is not None]


def parse_since(text: str, now: datetime) -> datetime:
    """Where a first sync starts: a date or time (``2026-11-01``, UTC when no zone is given)
    or a duration back from now (``30d``, ``12h``, ``2w``). Never in the future."""
    duration = _DURATION.match(text)
    if duration is not None:
        return now - int(duration.group(1)) * _UNIT[duration.group(2).lower()]
    try:
        since = parse_utc(text, assume_utc=True)
    except TimeRefused as refused:
        raise AccountError.of(
            "since", f"{refused}: give a date (2026-11-01) or a duration (30d, 12h, 2w)"
        ) from None
    if since > now:
        raise AccountError.of("since", "lies in the future: the first sync reads the past")
    return since

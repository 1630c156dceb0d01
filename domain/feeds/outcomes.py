"""What a processing report means for each message of the feed: applied, failed for good, or to
be sent again in a later feed.

Amazon's report lists only the messages that had an error or a warning; every other message it
processed was applied. The rules, in order, per message of the submission:

1. its own ``Error`` result: failed with Amazon's ``ResultMessageCode`` and ``ResultDescription``
   (several errors: the first code, every description), or *retry* when the code is one of
   ``RETRYABLE_CODES`` (Amazon's side was briefly unable; the message was not applied);
2. else an ``Error`` of the whole document (``MessageID`` 0): that error, as in 1 (a document
   Amazon could not read applied none of its messages);
3. else, when Amazon says it processed none of the document's messages and names no error:
   failed (``NotProcessed``), not retried: whether it was applied is not known, and a person
   decides (an operator's retry) rather than a resend that could refund twice;
4. else applied (a ``Warning`` still counts as applied).

Results naming a message the submission does not carry are left out (and reported).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.feeds.model import MessageResult, ProcessingReport, retryable

NOT_PROCESSED = "NotProcessed"


class Verdict(StrEnum):
    APPLIED = "applied"
    FAILED = "failed"
    RETRY = "retry"  # not applied; may go in a later feed


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    message_id: int
    verdict: Verdict
    code: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ReportReading:
    outcomes: tuple[MessageOutcome, ...]
    strangers: tuple[int, ...]  # message ids in the report that the submission does not carry


def _from_errors(message_id: int, errors: Sequence[MessageResult]) -> MessageOutcome:
    first = errors[0]
    description = "; ".join(error.description for error in errors)
    verdict = Verdict.RETRY if all(retryable(error) for error in errors) else Verdict.FAILED
    return MessageOutcome(message_id, verdict, first.message_code, description)


def read_report(message_ids: Sequence[int], report: ProcessingReport) -> ReportReading:
    """Each message's outcome, by the rules of the module's docstring."""
    carried = set(message_ids)
    errors: dict[int, list[MessageResult]] = {}
    strangers: set[int] = set()
    for result in report.results:
        if not result.is_error:
            continue
        if result.message_id != 0 and result.message_id not in carried:
            strangers.add(result.message_id)
            continue
        errors.setdefault(result.message_id, []).append(result)
    document_errors = errors.get(0)
    outcomes = []
    for message_id in message_ids:
        own = errors.get(message_id)
        if own:
            outcomes.append(_from_errors(message_id, own))
        elif document_errors:
            outcomes.append(_from_errors(message_id, document_errors))
        elif report.processed == 0:
            description = (
                "Amazon's report says it processed none of the messages and names no error"
            )
            outcomes.append(MessageOutcome(message_id, Verdict.FAILED, NOT_PROCESSED, description))
        else:
            outcomes.append(MessageOutcome(message_id, Verdict.APPLIED))
    return ReportReading(tuple(outcomes), tuple(sorted(strangers)))

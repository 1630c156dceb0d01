"""Amazon's XML ``ProcessingReport`` (a feed's result document) as the domain's
``domain.feeds.ProcessingReport``.

Parsed with ``defusedxml`` (no DOCTYPE, so no entity expansion and no external entities), read
by local names (a namespace, if Amazon adds one, is ignored)::

    AmazonEnvelope / MessageType ProcessingReport / Message / ProcessingReport
      ProcessingSummary  MessagesProcessed, MessagesSuccessful, MessagesWithError,
                         MessagesWithWarning
      Result (one per failed or warned message; MessageID 0: the whole document)
        MessageID, ResultCode (Error | Warning), ResultMessageCode, ResultDescription,
        AdditionalInfo / AmazonOrderID

A document that is not such a report (not XML, another root or MessageType, a count or
MessageID missing or not a whole number) raises ``NotAProcessingReport`` naming what is wrong.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from domain.feeds import MessageResult, ProcessingReport

_COUNTS = ("MessagesProcessed", "MessagesSuccessful", "MessagesWithError", "MessagesWithWarning")


class NotAProcessingReport(ValueError):
    """The result document is not Amazon's XML ProcessingReport; the text says why."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    return next((child for child in element if _local(child.tag) == name), None)


def _text(element: Element | None, name: str) -> str | None:
    if element is None:
        return None
    child = _child(element, name)
    if child is None or child.text is None or not child.text.strip():
        return None
    return child.text.strip()


def _whole(element: Element, name: str, where: str) -> int:
    raw = _text(element, name)
    if raw is None:
        raise NotAProcessingReport(f"{where}/{name} is missing")
    if not raw.isdigit():
        raise NotAProcessingReport(f"{where}/{name} {raw!r} is not a whole number")
    return int(raw)


def _result(element: Element, where: str) -> MessageResult:
    message_id = _whole(element, "MessageID", where)
    code = _text(element, "ResultCode")
    if code is None:
        raise NotAProcessingReport(f"{where}/ResultCode is missing")
    message_code = _text(element, "ResultMessageCode")
    if message_code is None:
        raise NotAProcessingReport(f"{where}/ResultMessageCode is missing")
    return MessageResult(
        message_id=message_id,
        result_code=code,
        message_code=message_code,
        description=_text(element, "ResultDescription") or "",
        amazon_order_id=_text(_child(element, "AdditionalInfo"), "AmazonOrderID"),
    )


def parse_processing_report(content: bytes) -> ProcessingReport:
    """The summary counts and every ``Result`` of a processing report (module docstring)."""
    try:
        root = SafeET.fromstring(content, forbid_dtd=True)
    except ParseError as exc:
        raise NotAProcessingReport(f"the document is not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise NotAProcessingReport(
            f"the document is refused: {type(exc).__name__} (no DOCTYPE or entities)"
        ) from None
    if _local(root.tag) != "AmazonEnvelope":
        raise NotAProcessingReport(f"the root element is {_local(root.tag)}, not AmazonEnvelope")
    message_type = _text(root, "MessageType")
    if message_type != "ProcessingReport":
        raise NotAProcessingReport(
            f"AmazonEnvelope/MessageType is {message_type!r}, not ProcessingReport"
        )
    message = _child(root, "Message")
    report = _child(message, "ProcessingReport") if message is not None else None
    if report is None:
        raise NotAProcessingReport("AmazonEnvelope/Message/ProcessingReport is missing")
    where = "ProcessingReport/ProcessingSummary"
    summary = _child(report, "ProcessingSummary")
    if summary is None:
        raise NotAProcessingReport(f"{where} is missing")
    processed, successful, with_error, with_warning = (
        _whole(summary, name, where) for name in _COUNTS
    )
    results = tuple(
        _result(element, f"ProcessingReport/Result[{index}]")
        for index, element in enumerate(e for e in report if _local(e.tag) == "Result")
    )
    return ProcessingReport(
        processed=processed,
        successful=successful,
        with_error=with_error,
        with_warning=with_warning,
        results=results,
    )

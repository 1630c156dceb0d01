"""A processing report read per message: errors fail with Amazon's code and text, retryable
ones come back, a document-level error reaches every message, warnings are applied, and a
report that processed nothing confirms nothing."""

from __future__ import annotations

from domain.feeds import MessageOutcome, MessageResult, ProcessingReport, Verdict, read_report


def report(processed: int, *results: MessageResult) -> ProcessingReport:
    errors = sum(1 for r in results if r.is_error)
    warnings = len(results) - errors
    return ProcessingReport(processed, processed - errors, errors, warnings, results)


def test_messages_without_an_error_are_applied_and_errors_fail_with_amazons_code_and_text() -> None:
    reading = read_report(
        [11, 12, 13],
        report(
            3,
            MessageResult(12, "Error", "18028", "The adjustment exceeds the amount charged"),
            MessageResult(13, "Warning", "5000", "Rounded"),
        ),
    )
    assert reading.outcomes == (
        MessageOutcome(11, Verdict.APPLIED),
        MessageOutcome(12, Verdict.FAILED, "18028", "The adjustment exceeds the amount charged"),
        MessageOutcome(13, Verdict.APPLIED),
    )
    assert reading.strangers == ()


def test_a_retryable_error_comes_back_for_a_later_feed() -> None:
    reading = read_report([11], report(1, MessageResult(11, "Error", "5002", "Try again")))
    assert reading.outcomes == (MessageOutcome(11, Verdict.RETRY, "5002", "Try again"),)


def test_several_errors_keep_the_first_code_and_every_text_and_retry_only_if_all_retryable() -> (
    None
):
    reading = read_report(
        [11],
        report(
            1,
            MessageResult(11, "Error", "5002", "Busy"),
            MessageResult(11, "Error", "18028", "Too much"),
        ),
    )
    assert reading.outcomes == (MessageOutcome(11, Verdict.FAILED, "5002", "Busy; Too much"),)


def test_an_error_of_the_whole_document_reaches_every_message_without_its_own() -> None:
    reading = read_report(
        [11, 12],
        report(
            0,
            MessageResult(0, "Error", "5001", "XML parsing fatal error"),
            MessageResult(12, "Error", "18028", "Too much"),
        ),
    )
    assert reading.outcomes == (
        MessageOutcome(11, Verdict.FAILED, "5001", "XML parsing fatal error"),
        MessageOutcome(12, Verdict.FAILED, "18028", "Too much"),
    )


def test_a_report_that_processed_nothing_and_names_no_error_confirms_nothing() -> None:
    (outcome,) = read_report([11], report(0)).outcomes
    assert outcome.verdict is Verdict.FAILED and outcome.code == "NotProcessed"


def test_results_for_messages_the_submission_does_not_carry_are_left_out_and_named() -> None:
    reading = read_report([11], report(2, MessageResult(99, "Error", "18028", "Too much")))
    assert reading.outcomes == (MessageOutcome(11, Verdict.APPLIED),)
    assert reading.strangers == (99,)

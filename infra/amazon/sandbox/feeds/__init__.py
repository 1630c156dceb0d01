"""The three XML order feeds in the sandbox: what each does to orders, and the report it gets.

``processing`` moves a feed on and applies its document when it finishes; ``envelope`` parses
the document (with ``defusedxml``); one module per feed type says what a message does
(``fulfilment``: POST_ORDER_FULFILLMENT_DATA, ``acknowledgement``:
POST_ORDER_ACKNOWLEDGEMENT_DATA, ``adjustment``: POST_PAYMENT_ADJUSTMENT_DATA); ``report``
writes Amazon's ProcessingReport; ``documents`` serves the presigned URLs. The Feeds API itself
is ``operations.feeds``. Callers hold ``state.lock``.
"""

from infra.amazon.sandbox.feeds.acknowledgement import CANCEL_REASONS
from infra.amazon.sandbox.feeds.adjustment import ADJUSTMENT_REASONS, COMPONENT_TYPES, charged
from infra.amazon.sandbox.feeds.documents import (
    DOCUMENT_LIFETIME,
    DOWNLOAD_URL_LIFETIME,
    MAX_DOCUMENT_BYTES,
    UPLOAD_URL_LIFETIME,
    Download,
    document_url,
    download,
    upload,
)
from infra.amazon.sandbox.feeds.envelope import (
    CODE_INVALID,
    CODE_NOTHING_TO_DO,
    CODE_ORDER_NOT_FOUND,
    CODE_ORDER_STATE,
    CODE_SCHEMA,
    CODE_UNSUPPORTED,
    CODE_XML,
    MessageError,
    parse_envelope,
)
from infra.amazon.sandbox.feeds.processing import (
    FEED_MESSAGE_TYPES,
    FEED_STEP,
    advance,
    finish,
    process,
)
from infra.amazon.sandbox.feeds.report import REPORT_CONTENT_TYPE, processing_report

__all__ = [
    "ADJUSTMENT_REASONS",
    "CANCEL_REASONS",
    "CODE_INVALID",
    "CODE_NOTHING_TO_DO",
    "CODE_ORDER_NOT_FOUND",
    "CODE_ORDER_STATE",
    "CODE_SCHEMA",
    "CODE_UNSUPPORTED",
    "CODE_XML",
    "COMPONENT_TYPES",
    "DOCUMENT_LIFETIME",
    "DOWNLOAD_URL_LIFETIME",
    "FEED_MESSAGE_TYPES",
    "FEED_STEP",
    "MAX_DOCUMENT_BYTES",
    "REPORT_CONTENT_TYPE",
    "UPLOAD_URL_LIFETIME",
    "Download",
    "MessageError",
    "advance",
    "charged",
    "document_url",
    "download",
    "finish",
    "parse_envelope",
    "process",
    "processing_report",
    "upload",
]

"""The feed envelope is parsed with defusedxml: entity tricks are a clear 5000 error, not a hang,
a crash or a file's content in the report."""

from __future__ import annotations

import pytest

from infra.amazon.sandbox.feeds import CODE_SCHEMA, CODE_XML, MessageError, parse_envelope

ENVELOPE = b"""<?xml version="1.0" encoding="UTF-8"?>
<AmazonEnvelope>
  <Header><MerchantIdentifier>A1SANDBOXDEMO</MerchantIdentifier></Header>
  <MessageType>OrderAcknowledgement</MessageType>
  <Message><MessageID>1</MessageID><OrderAcknowledgement/></Message>
</AmazonEnvelope>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<AmazonEnvelope><MessageType>&lol4;</MessageType></AmazonEnvelope>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE AmazonEnvelope [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<AmazonEnvelope><Header><MerchantIdentifier>&secret;</MerchantIdentifier></Header></AmazonEnvelope>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE AmazonEnvelope SYSTEM "http://127.0.0.1:9/amzn-envelope.dtd">
<AmazonEnvelope/>
"""


def test_a_well_formed_envelope_gives_its_merchant_and_messages() -> None:
    merchant, messages = parse_envelope(ENVELOPE, "OrderAcknowledgement")

    assert merchant == "A1SANDBOXDEMO"
    assert len(messages) == 1


@pytest.mark.parametrize(
    "document", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD], ids=["expansion", "entity", "dtd"]
)
def test_entity_tricks_are_refused_as_xml_errors(document: bytes) -> None:
    with pytest.raises(MessageError) as refused:
        parse_envelope(document, "OrderAcknowledgement")

    assert refused.value.code == CODE_XML
    assert refused.value.description == ("XML Parsing Error: DOCTYPE declarations are not allowed")
    assert "root:" not in refused.value.description  # nothing of /etc/passwd


def test_an_undeclared_entity_is_a_parse_error_with_its_position() -> None:
    document = ENVELOPE.replace(b"A1SANDBOXDEMO", b"&secret;")

    with pytest.raises(MessageError) as refused:
        parse_envelope(document, "OrderAcknowledgement")

    assert refused.value.code == CODE_XML
    assert refused.value.description.startswith("XML Parsing Error at Line 3, Column ")


def test_the_text_doctype_inside_character_data_is_only_text() -> None:
    document = ENVELOPE.replace(
        b"<OrderAcknowledgement/>",
        b"<OrderAcknowledgement><![CDATA[<!DOCTYPE x>]]></OrderAcknowledgement>",
    )

    _, messages = parse_envelope(document, "OrderAcknowledgement")

    assert len(messages) == 1


def test_an_envelope_of_another_message_type_is_a_schema_error() -> None:
    with pytest.raises(MessageError) as refused:
        parse_envelope(ENVELOPE, "OrderFulfillment")

    assert refused.value.code == CODE_SCHEMA

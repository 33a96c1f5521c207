"""What gateways send: EAS URIs, IMAP ID lists, Postfix policy requests."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appwarden.core.gateways.eas import (
    EasQueryError,
    encode_eas_query,
    is_eas_path,
    parse_eas_query,
)
from appwarden.core.gateways.imap_id import parse_imap_id, quote_imap_id
from appwarden.core.gateways.masking import MaskMode, mask_identity
from appwarden.core.gateways.postfix_policy import (
    PolicyProtocolError,
    PolicyReader,
    action_line,
)


def test_eas_plain_query_keys_are_case_insensitive():
    q = parse_eas_query("cmd=Sync&user=alice&deviceid=ABC123&DEVICETYPE=iPhone")
    assert (q.device_id, q.user, q.device_type, q.command) == ("ABC123", "alice", "iPhone", "Sync")


def test_eas_base64_example_from_ms_ashttp():
    q = parse_eas_query("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l")
    assert (q.device_id, q.device_type, q.command, q.protocol) == (
        "v140Device",
        "SmartPhone",
        "Sync",
        "14.0",
    )
    assert q.encoded


def test_eas_base64_with_user_and_padding():
    q = parse_eas_query(encode_eas_query("DEV1", "Android", 9, "bob"))
    assert (q.device_id, q.user, q.command) == ("DEV1", "bob", "FolderSync")


def test_eas_binary_device_id_is_keyed_as_hex():
    raw = bytes([141, 0, 9, 4, 4]) + b"\x00\xff\x10\x20" + b"\x00\x01X"
    import base64

    assert parse_eas_query(base64.b64encode(raw).decode()).device_id == "00ff1020"


@pytest.mark.parametrize(
    "query",
    ["!!!notbase64", "AAAA", "jAAJBAp2MTQw", "DeviceId=a,b", "DeviceId=" + "x" * 200],
)
def test_eas_bad_queries_raise_a_clear_error(query):
    with pytest.raises(EasQueryError):
        parse_eas_query(query)


@given(st.text(max_size=200))
def test_eas_parser_never_crashes(text):
    with contextlib.suppress(EasQueryError):
        parse_eas_query(text)


def test_eas_path():
    assert is_eas_path("/Microsoft-Server-ActiveSync")
    assert is_eas_path("/SOGo/microsoft-server-activesync/")
    assert not is_eas_path("/jmap")


def test_imap_id_as_dovecot_passes_it():
    fields = parse_imap_id('"name" "Mail" "X-Device-ID" "a\\"b\\\\c" "os" NIL "version" "1.0"')
    assert fields == {"name": "Mail", "x-device-id": 'a"b\\c', "os": "", "version": "1.0"}


def test_imap_id_second_id_and_garbage():
    assert parse_imap_id(' "x-device-id" "SECOND"') == {"x-device-id": "SECOND"}
    assert parse_imap_id('"a" "1" garbage "b" "2"') == {"a": "1"}
    assert parse_imap_id('"unterminated') == {}
    assert parse_imap_id("") == {}


@given(st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=40), max_size=10))
def test_imap_id_round_trip(fields):
    parsed = parse_imap_id(quote_imap_id(dict(fields)))
    assert parsed == {k.lower(): v for k, v in fields.items()} or len(
        {k.lower() for k in fields}
    ) < len(fields)


def test_postfix_reader_handles_split_and_pipelined_requests():
    reader = PolicyReader()
    assert reader.feed(b"request=smtpd_access_policy\nsasl_user") == []
    got = reader.feed(b"name=alice\n\nrequest=smtpd_access_policy\n\n")
    assert got == [
        {"request": "smtpd_access_policy", "sasl_username": "alice"},
        {"request": "smtpd_access_policy"},
    ]


@pytest.mark.parametrize("data", [b"no equals sign\n", b"x" * 20000, b"=v\n"])
def test_postfix_reader_rejects_what_is_not_the_protocol(data):
    with pytest.raises(PolicyProtocolError):
        PolicyReader().feed(data)


def test_postfix_action_is_one_ascii_line():
    assert action_line("REJECT 5.7.1 bad\nline é") == b"action=REJECT 5.7.1 bad?line ?\n\n"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (MaskMode.NONE, "eas:ABCDEF123"),
        (MaskMode.PARTIAL, "eas:ABC…23"),
        (MaskMode.HASH, "eas:#"),
    ],
)
def test_masking(mode, expected):
    masked = mask_identity("eas:ABCDEF123", mode, "salt")
    assert masked.startswith(expected)
    if mode is MaskMode.HASH:
        assert (
            masked
            == mask_identity("eas:ABCDEF123", mode, "salt")
            != mask_identity("eas:ABCDEF123", mode, "pepper")
        )


def test_eas_percent_encoding_and_base64_plus():
    q = parse_eas_query("Cmd=Sync&DeviceId=AB%43&User=al%40corp.example")
    assert (q.device_id, q.user) == ("ABC", "al@corp.example")
    for device in ("dev~+/0", "x" * 40):  # ids whose base64 has '+' or '/'
        encoded = encode_eas_query(device, "Phone", 0)
        assert parse_eas_query(encoded).device_id == device
        assert parse_eas_query(encoded.replace("+", "%2B").replace("/", "%2F")).device_id == device

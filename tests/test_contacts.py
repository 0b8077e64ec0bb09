"""Contact values (organization.contacts[].value): one format per channel, the URL policy for
every address in them, on every write path.

Partners turn contacts into links (mailto:, tel:, a messenger's page), so a ``telegram`` value of
``javascript:alert(1)`` or a ``whatsapp`` value of ``http://127.0.0.1/`` must be refused as surely
as such a ``url`` is. Each refusal names the rule in brackets; a wrong format says the channel's
expected format.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from conftest import REPO
from factory import listing, write_listing

from api.dataset import DatasetInvalid, load_directory
from api.services.tokens import create_token
from api.models import Listing
from api.store import Store
from api.validation import listing_domains
from api.vetting import CONTACT_FORMATS, URL_RULES, check_contact, contact_domain

CHANNELS = ["email", "phone", "web", "telegram", "signal", "whatsapp"]

# --- refused: (id, channel, value, rule) ------------------------------------------------------------

REFUSED: list[tuple[str, str, str, str]] = [
    # The attacker's values: accepted before, because only `web` contacts were vetted.
    ("telegram-javascript", "telegram", "javascript:alert(1)", "contact-format"),
    ("whatsapp-loopback", "whatsapp", "http://127.0.0.1/", "https-only"),
    ("whatsapp-loopback-https", "whatsapp", "https://127.0.0.1/", "ip-literal"),
    ("signal-shortener", "signal", "https://bit.ly/3xYzAbc", "shortener"),
    ("phone-javascript", "phone", "javascript:alert(1)", "contact-format"),
    ("email-javascript", "email", "javascript:alert(1)", "contact-format"),
    # email
    ("email-mailto", "email", "mailto:help@example.org", "contact-format"),
    ("email-display-name", "email", "Help Desk <help@example.org>", "contact-format"),
    ("email-two-at", "email", "help@evil.example@example.org", "contact-format"),
    ("email-mailto-query-injection", "email", "help?cc=spy@evil.example&x=@example.org", "contact-format"),
    ("email-percent", "email", "help%40evil@example.org", "contact-format"),
    ("email-space", "email", "help @example.org", "contact-format"),
    ("email-quoted-local", "email", '"help me"@example.org', "contact-format"),
    ("email-non-ascii-local", "email", "помощь@example.org", "contact-format"),
    ("email-local-too-long", "email", "a" * 65 + "@example.org", "contact-format"),
    ("email-no-domain", "email", "help@", "contact-format"),
    ("email-ip-domain", "email", "help@127.0.0.1", "ip-literal"),
    ("email-ip-literal-domain", "email", "help@[10.0.0.1]", "ip-literal"),
    ("email-localhost", "email", "root@localhost", "reserved-host"),
    ("email-internal", "email", "it@corp.internal", "reserved-host"),
    ("email-single-label", "email", "help@mailserver", "registrable-domain"),
    ("email-upper-case-domain", "email", "help@Example.org", "host-case"),
    ("email-cyrillic-look-alike", "email", "help@\u0430mnesty.org", "confusable"),
    ("email-trailing-dot", "email", "help@example.org.", "trailing-dot"),
    ("email-bidi", "email", "help@example.org\u202e", "bidi-control"),
    # phone
    ("phone-tel-uri", "phone", "tel:+256800130683", "contact-format"),
    ("phone-letters", "phone", "+1 800 FLOWERS", "contact-format"),
    ("phone-brackets", "phone", "+44 (0)20 7946 0000", "contact-format"),
    ("phone-extension", "phone", "+44 20 7946 0000 ext 12", "contact-format"),
    ("phone-plus-zero", "phone", "+0 800 130 683", "contact-format"),
    ("phone-too-short", "phone", "12", "contact-format"),
    ("phone-too-long", "phone", "+1 234 567 890 123 456", "contact-format"),
    ("phone-double-space", "phone", "0800  130 683", "contact-format"),
    ("phone-trailing-hyphen", "phone", "0800-130-", "contact-format"),
    ("phone-url", "phone", "https://example.org/call", "contact-format"),
    # web (the whole URL policy, as before)
    ("web-http", "web", "http://example.org/", "https-only"),
    ("telegram-proxy", "telegram", "https://t.me/proxy?server=203.0.113.5&port=443&secret=ee00", "contact-format"),
    ("telegram-socks", "telegram", "https://t.me/socks?server=203.0.113.5&port=1080", "contact-format"),
    ("telegram-login", "telegram", "https://t.me/login/abcdef", "contact-format"),
    ("telegram-confirmphone", "telegram", "https://t.me/confirmphone?phone=447946000000&hash=ab", "contact-format"),
    ("telegram-settings", "telegram", "https://t.me/settings", "contact-format"),
    ("telegram-bot-start", "telegram", "https://t.me/ovdinfobot?start=x", "contact-format"),
    ("telegram-startgroup", "telegram", "https://t.me/ovdinfobot?startgroup=1", "contact-format"),
    ("whatsapp-two-phones", "whatsapp", "https://api.whatsapp.com/send?phone=447946000000&phone=447946000001", "contact-format"),
    ("whatsapp-prefilled-send", "whatsapp", "https://api.whatsapp.com/send?phone=447946000000&text=hi", "contact-format"),
    ("whatsapp-prefilled-wa-me", "whatsapp", "https://wa.me/447946000000?text=http%3A%2F%2Fevil.example", "contact-format"),
    ("signal-query", "signal", "https://signal.me/?x=1#eu/abc", "contact-format"),
    ("web-data", "web", "data:text/html,<script>alert(1)</script>", "https-only"),
    ("web-redirector", "web", "https://l.facebook.com/l.php?u=https%3A%2F%2Fevil.example", "redirector"),
    # telegram
    ("telegram-tg-scheme", "telegram", "tg://resolve?domain=ovdinfo", "contact-format"),
    ("telegram-http", "telegram", "http://t.me/ovdinfo", "https-only"),
    ("telegram-other-host", "telegram", "https://ovdinfo.org/telegram", "contact-format"),
    ("telegram-look-alike-host", "telegram", "https://t.rne/ovdinfo", "registrable-domain"),
    ("telegram-bare-host", "telegram", "https://t.me/", "contact-format"),
    ("telegram-instant-view-proxy", "telegram", "https://t.me/iv?url=https%3A%2F%2Fevil.example&rhash=1", "redirector"),
    ("telegram-tracking", "telegram", "https://t.me/ovdinfo?utm_source=site", "tracking-param"),
    ("telegram-handle-too-short", "telegram", "@ovd", "contact-format"),
    ("telegram-handle-starts-with-digit", "telegram", "@1ovdinfo", "contact-format"),
    ("telegram-handle-without-at", "telegram", "ovdinfo", "contact-format"),
    ("telegram-handle-with-dot", "telegram", "@ovd.info", "contact-format"),
    ("telegram-national-number", "telegram", "8 900 123 45 67", "contact-format"),
    # signal
    ("signal-other-host", "signal", "https://signal.org/download/", "contact-format"),
    ("signal-link-without-contact", "signal", "https://signal.me/", "contact-format"),
    ("signal-sgnl-scheme", "signal", "sgnl://signal.me/#p/+447700900123", "contact-format"),
    ("signal-username-without-number", "signal", "nickname", "contact-format"),
    ("signal-username-one-digit", "signal", "nickname.4", "contact-format"),
    # whatsapp
    ("whatsapp-third-party-shortener", "whatsapp", "https://wa.link/abc123", "shortener"),
    ("whatsapp-bare-host", "whatsapp", "https://wa.me/", "contact-format"),
    ("whatsapp-download-page", "whatsapp", "https://www.whatsapp.com/download", "contact-format"),
    ("whatsapp-send-without-phone", "whatsapp", "https://api.whatsapp.com/send?text=hello", "contact-format"),
    ("whatsapp-handle", "whatsapp", "@someorg", "contact-format"),
    ("whatsapp-national-number", "whatsapp", "0800 130 683", "contact-format"),
    ("whatsapp-whatsapp-scheme", "whatsapp", "whatsapp://send?phone=447700900123", "contact-format"),
]


@pytest.mark.parametrize(("channel", "value", "rule"), [pytest.param(c, v, r, id=i) for i, c, v, r in REFUSED])
def test_a_bad_contact_is_refused_by_its_rule(channel: str, value: str, rule: str) -> None:
    [(field, message)] = check_contact("organization.contacts[0].value", channel, value)
    assert field == "organization.contacts[0].value"
    assert message.startswith(f"[{rule}] "), message
    if rule == "contact-format":
        assert CONTACT_FORMATS[channel] in message  # says what the channel expects


def test_the_refused_table_covers_every_channel_and_names_only_known_rules() -> None:
    assert {channel for _, channel, _, _ in REFUSED} == set(CHANNELS)
    assert {rule for *_, rule in REFUSED} <= set(URL_RULES) | {"contact-format"}


# --- accepted: the formats each channel's users actually publish ------------------------------------

ACCEPTED: list[tuple[str, str, str]] = [
    ("email-plain", "email", "help@example.org"),
    ("email-dots-and-plus", "email", "legal.team+press@example.org"),
    ("email-apostrophe", "email", "o'brien@example.org"),
    ("email-upper-case-local-part", "email", "Help@example.org"),
    ("email-subdomain", "email", "help@mail.example.org"),
    ("email-idn-domain", "email", "info@bücher.de"),
    ("phone-international", "phone", "+256 800 130 683"),
    ("phone-international-hyphens", "phone", "+7-495-123-45-67"),
    ("phone-international-no-separators", "phone", "+447700900123"),
    ("phone-national-toll-free", "phone", "0800 130 683"),
    ("phone-short-helpline", "phone", "116 111"),
    ("phone-emergency", "phone", "112"),
    ("web-https", "web", "https://example.org/contact"),
    ("telegram-link", "telegram", "https://t.me/ovdinfo"),
    ("telegram-link-telegram-me", "telegram", "https://telegram.me/ovdinfo"),
    ("telegram-link-telegram-dog", "telegram", "https://telegram.dog/ovdinfo"),
    ("telegram-post", "telegram", "https://t.me/ovdinfo/1234"),
    ("telegram-channel-preview", "telegram", "https://t.me/s/ovdinfo"),
    ("telegram-invite", "telegram", "https://t.me/+AbCdEf_12-3"),
    ("telegram-legacy-invite", "telegram", "https://t.me/joinchat/AbCdEf123"),
    ("telegram-username-subdomain", "telegram", "https://ovdinfo.t.me/"),
    ("telegram-handle", "telegram", "@ovdinfo"),
    ("telegram-handle-mixed-case-underscore", "telegram", "@OVD_Info_bot"),
    ("telegram-phone", "telegram", "+7 900 123 45 67"),
    ("signal-username-link", "signal", "https://signal.me/#eu/Ab3dEfG"),
    ("signal-phone-link", "signal", "https://signal.me/#p/+447700900123"),
    ("signal-group", "signal", "https://signal.group/#CjQKIAbC"),
    ("signal-username", "signal", "nickname.42"),
    ("signal-username-with-at", "signal", "@nick_name.123"),
    ("signal-phone", "signal", "+44 7700 900123"),
    ("whatsapp-click-to-chat", "whatsapp", "https://wa.me/447700900123"),
    ("whatsapp-business-message", "whatsapp", "https://wa.me/message/ABCDEFG1234"),
    ("whatsapp-api-send", "whatsapp", "https://api.whatsapp.com/send?phone=447700900123"),
    ("whatsapp-group", "whatsapp", "https://chat.whatsapp.com/AbCdEf123"),
    ("whatsapp-channel", "whatsapp", "https://whatsapp.com/channel/0029VaAbCd"),
    ("whatsapp-channel-www", "whatsapp", "https://www.whatsapp.com/channel/0029VaAbCd"),
    ("whatsapp-phone", "whatsapp", "+256 700 123456"),
]


@pytest.mark.parametrize(("channel", "value"), [pytest.param(c, v, id=i) for i, c, v in ACCEPTED])
def test_a_contact_in_its_channels_format_is_accepted(channel: str, value: str) -> None:
    assert check_contact("f", channel, value) == []


def test_the_accepted_table_covers_every_channel() -> None:
    assert {channel for _, channel, _ in ACCEPTED} == set(CHANNELS)


def test_every_seed_contact_passes() -> None:
    """The formats the seed data writes stay valid (a national toll-free number, an address)."""
    listings, _ = load_directory(REPO / "directory_data")
    contacts = [c for doc in listings if doc.organization for c in doc.organization.contacts]
    assert {c.channel for c in contacts} >= {"email", "phone"}
    for contact in contacts:
        assert check_contact("f", contact.channel, contact.value) == [], contact


# --- contact domains are the listing's own domains ------------------------------------------------------


def test_contact_domains_join_the_listings_domains() -> None:
    doc = msgspec.convert(
        listing(
            "ww-contacts",
            organization={
                "contacts": [
                    {"channel": "email", "value": "help@mail.helpers.org"},
                    {"channel": "telegram", "value": "https://t.me/helpers"},
                    {"channel": "whatsapp", "value": "+447700900123"},
                ]
            },
        ),
        type=Listing,
    )
    assert listing_domains(doc) == {"example.org", "helpers.org", "t.me"}
    assert contact_domain("email", "help@Mail.Helpers.org") == "helpers.org"
    assert contact_domain("phone", "+447700900123") is None


def test_an_email_domain_that_looks_like_a_known_domain_is_refused() -> None:
    [(_, message)] = check_contact("f", "email", "help@arnnesty.org", known_domains={"amnesty.org"})
    assert message.startswith("[confusable-domain]") and "amnesty.org" in message


# --- on the write paths ------------------------------------------------------------------------------------


def _problems(root: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(DatasetInvalid) as raised:
        load_directory(root)
    return [(Path(p.path).name, p.field, p.message) for p in raised.value.problems]


@pytest.mark.parametrize(
    ("channel", "value", "rule"),
    [
        pytest.param("telegram", "javascript:alert(1)", "contact-format", id="telegram-javascript"),
        pytest.param("whatsapp", "http://127.0.0.1/", "https-only", id="whatsapp-loopback"),
        pytest.param("signal", "https://bit.ly/3xYzAbc", "shortener", id="signal-shortener"),
        pytest.param("email", "help@localhost", "reserved-host", id="email-localhost"),
        pytest.param("phone", "tel:+256800130683", "contact-format", id="phone-tel-uri"),
    ],
)
def test_import_names_file_field_and_rule_for_a_bad_contact(deployment, channel: str, value: str, rule: str) -> None:
    good = {"channel": "email", "value": "help@bad-one.example.org"}
    write_listing(deployment.data, listing("bad-one", organization={"contacts": [good, {"channel": channel, "value": value}]}))
    [(name, field, message)] = _problems(deployment.data)
    assert (name, field) == ("bad-one.toml", "organization.contacts[1].value")
    assert message.startswith(f"[{rule}]"), message


def test_import_refuses_an_email_on_a_look_alike_of_the_listings_own_url(deployment) -> None:
    """The listing's url is on good-cause.org (no other listing has it); its address on
    g0od-cause.org (digit zero) is a look-alike of its own site."""
    doc = listing("ww-good-cause", url="https://good-cause.org/", organization={"contacts": [{"channel": "email", "value": "help@g0od-cause.org"}]})
    doc["verification"]["sources"] = ["https://good-cause.org/about"]
    write_listing(deployment.data, doc)
    problems = _problems(deployment.data)
    assert ("ww-good-cause.toml", "organization.contacts[0].value") in {(n, f) for n, f, _ in problems}
    assert all(m.startswith("[confusable-domain]") for *_, m in problems)


def test_a_submission_with_a_bad_contact_is_a_400_naming_it(deployment) -> None:
    store = Store(deployment.db)
    try:
        token, _ = create_token(store, name="contact-curator", role="curator", expires_in_days=None, actor="test")
    finally:
        store.close()
    contacts = [{"channel": "web", "value": "https://new-one.example.org/help"}, {"channel": "telegram", "value": "javascript:alert(1)"}]
    body = {
        "action": "create",
        "listing": listing("new-one", organization={"contacts": contacts}),
        "note": "A new listing.",
        "sources": ["https://new-one.example.org/about"],
    }
    with deployment.client() as client:
        response = client.post("/v1/submissions", content=msgspec.json.encode(body), headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "listing.organization.contacts[1].value"
        assert error["detail"].startswith("[contact-format]") and "t.me" in error["detail"]
        body["listing"]["organization"]["contacts"][1]["value"] = "@newone_org"
        accepted = client.post("/v1/submissions", content=msgspec.json.encode(body), headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert accepted.status_code == 201, accepted.text


@pytest.mark.parametrize(
    ("channel", "value"),
    [
        pytest.param("web", "https://help.example.org/find?q=x&region=ru", id="web-query-with-a-legacy-entity-prefix"),
        pytest.param("web", "https://help.example.org/?a=1&copy=2&lang=ru", id="web-query-amp-copy"),
        pytest.param("web", "https://help.example.org/?lang=ru&not=1&para=2", id="web-query-amp-not-para"),
    ],
)
def test_a_query_string_is_not_read_as_html_in_a_contact(deployment, channel: str, value: str) -> None:
    """Contact values are judged by their channel's format, not the plain-text rules: `&reg`
    in a query string is a parameter, not an entity."""
    write_listing(deployment.data, listing("query-one", organization={"contacts": [{"channel": channel, "value": value}]}))
    listings, _ = load_directory(deployment.data)  # raises DatasetInvalid on any problem
    assert "query-one" in {doc.id for doc in listings}

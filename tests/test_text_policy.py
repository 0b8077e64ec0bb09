"""The text policy (api.vetting.text), table by table, and on the write paths.

Each hostile text is refused by the rule named in the table (the message starts with
``[rule]``); each unusual-but-valid text, in the scripts and emoji real titles use, is
accepted. Then the same rules hold where text comes in: ``actiondir import`` names file,
field and rule, a curator submission and a public report answer 400 naming the field.
"""

from __future__ import annotations

import html.entities
import unicodedata
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from conftest import REPO
from factory import listing, write_listing

from api.cli import cli
from api.dataset import DatasetInvalid, load_directory
from api.services.tokens import create_token
from api.store import Store
from api.vetting import TEXT_RULES, check_text
from api.vetting.text import MAX_MARKS_ON_ONE_CHARACTER

TAG = {c: chr(0xE0000 + ord(c)) for c in "abcdefghijklmnopqrstuvwxyz"}
CANCEL_TAG = "\U000e007f"
WALES = "\U0001f3f4" + "".join(TAG[c] for c in "gbwls") + CANCEL_TAG

TEXT_REFUSED: list[tuple[str, str, dict[str, object], str]] = [
    # --- control characters, bidirectional controls, zero-width characters
    ("control-char", "Bell\x07", {}, "control-char"),
    ("carriage-return", "One\r\nTwo", {}, "control-char"),
    ("line-separator", "One\u2028Two", {}, "control-char"),
    ("bidi-override", "Donate \u202eeerf\u202c now", {}, "bidi-control"),
    ("bidi-isolate", "Title \u2067x\u2069", {}, "bidi-control"),
    ("zwj-inside-latin-word", "Amne\u200dsty", {}, "zero-width"),
    ("zwnj-inside-latin-word", "Amne\u200csty", {}, "zero-width"),
    ("zwnj-inside-cyrillic-word", "Помо\u200cщь", {}, "zero-width"),
    ("zero-width-space", "Rainbow\u200bRailroad", {}, "zero-width"),
    ("byte-order-mark", "\ufeffTitle", {}, "zero-width"),
    # --- variation selectors outside the sequences that need them
    ("vs16-after-a-latin-letter", "Amne\ufe0fsty", {}, "variation-selector"),
    ("vs16-at-the-start", "\ufe0fHelp", {}, "variation-selector"),
    ("vs15-after-a-cyrillic-letter", "Пом\ufe0eощь", {}, "variation-selector"),
    ("vs1-after-a-latin-letter", "Help\ufe00", {}, "variation-selector"),
    ("ivs-after-a-latin-letter", "Help\U000e0100", {}, "variation-selector"),
    ("two-selectors-on-one-emoji", "Pride \u2764\ufe0f\ufe0f", {}, "variation-selector"),
    ("data-smuggled-in-selectors", "Hi 😀" + "".join(chr(0xE0100 + b) for b in b"secret"), {}, "variation-selector"),
    ("vs1-run-after-an-emoji", "😀\ufe00\ufe01\ufe02", {}, "variation-selector"),
    ("mongolian-fvs-after-latin", "Help\u180b", {}, "variation-selector"),
    ("mongolian-fvs4-after-latin", "Help\u180f", {}, "variation-selector"),
    # --- characters that render as blank
    ("hangul-filler", "\u3164", {}, "blank-char"),
    ("hangul-filler-inside", "Help\u3164now", {}, "blank-char"),
    ("hangul-choseong-filler", "\u115f", {}, "blank-char"),
    ("hangul-jungseong-filler", "Help \u1160", {}, "blank-char"),
    ("halfwidth-hangul-filler", "\uffa0Help", {}, "blank-char"),
    ("braille-pattern-blank", "\u2800", {}, "blank-char"),
    ("braille-blank-inside", "Donate\u2800now", {}, "blank-char"),
    ("musical-null-notehead", "Help\U0001d159", {}, "blank-char"),
    ("object-replacement", "Logo \ufffc", {}, "blank-char"),
    # --- every other default-ignorable or format character
    ("tag-characters", "Help\U000e0069\U000e0067\U000e006e", {}, "invisible-char"),
    ("tags-after-a-flag-not-a-standard-one", "\U0001f3f4" + "".join(TAG[c] for c in "usca") + CANCEL_TAG, {}, "invisible-char"),
    ("language-tag", "Help\U000e0001", {}, "invisible-char"),
    ("tag-block-unassigned", "Help\U000e0080", {}, "invisible-char"),
    ("beyond-the-ivs-block", "Help\U000e01f0", {}, "invisible-char"),
    ("end-of-ignorable-block", "Help\U000e0fff", {}, "invisible-char"),
    ("soft-hyphen", "Amne\u00adsty", {}, "invisible-char"),
    ("combining-grapheme-joiner", "Amne\u034fsty", {}, "invisible-char"),
    ("khmer-inherent-vowel", "ក\u17b4", {}, "invisible-char"),
    ("mongolian-vowel-separator", "Help\u180enow", {}, "invisible-char"),
    ("invisible-times", "2\u20622", {}, "invisible-char"),
    ("unassigned-ignorable-2065", "Help\u2065", {}, "invisible-char"),
    ("deprecated-format-206a", "Help\u206a", {}, "invisible-char"),
    ("reserved-fff0", "Help\ufff0", {}, "invisible-char"),
    ("reserved-fff8", "Help\ufff8", {}, "invisible-char"),
    ("interlinear-annotation", "Help\ufff9x\ufffb", {}, "invisible-char"),
    ("shorthand-format-control", "Help\U0001bca0", {}, "invisible-char"),
    ("musical-formatting", "Help\U0001d173", {}, "invisible-char"),
    ("arabic-number-sign", "\u0600123", {}, "invisible-char"),
    # --- code points that are not characters (here)
    ("private-use", "Logo \ue000", {}, "invalid-char"),
    ("noncharacter-fdd0", "Help\ufdd0", {}, "invalid-char"),
    ("noncharacter-fffe", "Help\ufffe", {}, "invalid-char"),
    ("noncharacter-plane-1", "Help\U0001ffff", {}, "invalid-char"),
    ("unassigned", "Help\u0378", {}, "invalid-char"),
    ("lone-surrogate", "Help\ud800", {}, "invalid-char"),
    # --- combining marks with nothing to sit on, or too many
    ("lone-combining-mark", "\u0301", {}, "combining-mark"),
    ("combining-marks-only", "\u0301\u0302\u0303", {}, "combining-mark"),
    ("mark-at-the-start", "\u0301Help", {}, "combining-mark"),
    ("mark-after-a-space", "Help \u0301 now", {}, "combining-mark"),
    ("mark-after-a-line-break", "Help\n\u0301now", {}, "combining-mark"),
    ("mark-after-a-direction-mark", "\u200f\u05b8שלום", {}, "combining-mark"),
    ("enclosing-mark-alone", "\u20dd", {}, "combining-mark"),
    ("spacing-mark-alone", "\u093e", {}, "combining-mark"),
    ("zalgo", "Z" + "\u0336\u0337\u0334\u0335\u0489\u20dd\u0353\u0354\u0355", {}, "combining-mark"),
    # --- normalization
    ("not-nfc", "Cafe\u0301 in São Paulo", {}, "nfc"),
    # --- HTML: tags and character references, with or without `;`
    ("html-tag", "<b>bold</b> claim", {}, "html"),
    ("html-script", "<script>alert(1)</script>", {}, "html"),
    ("html-script-with-space", "< script>", {}, "html"),
    ("html-end-tag-opener", "</3 love", {}, "html"),
    ("html-comment", "Help <!-- hidden -->", {}, "html"),
    ("html-processing-instruction", "<?xml", {}, "html"),
    ("html-entity", "Tom &amp; Jerry", {}, "html"),
    ("html-numeric-entity", "&#X41;", {}, "html"),
    ("entity-amp-no-semicolon", "Tom &amp Jerry", {}, "html"),
    ("entity-lt-no-semicolon", "&lt", {}, "html"),
    ("entity-upper-lt-no-semicolon", "&LTscript", {}, "html"),
    ("entity-decimal-no-semicolon", "&#60script", {}, "html"),
    ("entity-hex-no-semicolon", "&#x3cscript", {}, "html"),
    ("entity-hex-upper-x", "&#X3C", {}, "html"),
    ("entity-legacy-prefix", "Tom&notin", {}, "html"),
    ("entity-copy-in-a-word", "Tom&copyright", {}, "html"),
    ("entity-nbsp", "10&nbsp;km", {}, "html"),
    ("entity-unknown-name-with-semicolon", "&madeup;", {}, "html"),
    ("fullwidth-tag", "＜script＞alert(1)＜/script＞", {}, "html"),
    ("small-form-tag", "﹤b﹥bold", {}, "html"),
    ("fullwidth-entity", "＆lt；b＆gt；", {}, "html"),
    # --- template syntax
    ("angular-template", "{{constructor.constructor('alert(1)')()}}", {}, "template"),
    ("erb-template", "<%= system('id') %>", {}, "template"),
    ("jinja-tag", "{% include 'x' %}", {}, "template"),
    ("jinja-comment", "Hello {# hidden #}", {}, "template"),
    ("js-template-literal", "Donate ${alert(1)}", {}, "template"),
    ("ruby-interpolation", "Total #{7*7}", {}, "template"),
    ("fullwidth-template", "｛｛x｝｝", {}, "template"),
    # --- nothing visible
    ("empty", "", {}, "blank-text"),
    ("white-space-only", "   ", {}, "blank-text"),
    ("direction-mark-only", "\u200e", {}, "blank-text"),
    ("direction-marks-and-a-space", "\u200f \u200e", {}, "blank-text"),
    ("ideographic-space-only", "\u3000", {}, "blank-text"),
    # --- white space, lines, length
    ("padded", " padded", {}, "whitespace"),
    ("padded-behind-a-direction-mark", "\u200f שלום", {}, "whitespace"),
    ("trailing-nbsp", "Help\u00a0", {}, "whitespace"),
    ("newline-in-single-line", "Two\nlines", {"multiline": False}, "single-line"),
    ("too-long", "x" * 201, {"max_length": 200}, "length"),
]


@pytest.mark.parametrize(("text", "options", "rule"), [pytest.param(t, o, r, id=i) for i, t, o, r in TEXT_REFUSED])
def test_text_is_refused_by_its_rule(text: str, options: dict[str, object], rule: str) -> None:
    [(field, message)] = check_text("translations.en.title", text, **options)  # type: ignore[arg-type]
    assert field == "translations.en.title"
    assert message.startswith(f"[{rule}] "), message


def test_every_text_rule_is_in_the_table() -> None:
    assert {rule for *_, rule in TEXT_REFUSED} == set(TEXT_RULES)


def test_non_nfc_text_says_to_normalize() -> None:
    [(_, message)] = check_text("f", "Cafe\u0301")
    assert "NFC" in message and "normalize" in message
    assert check_text("f", unicodedata.normalize("NFC", "Cafe\u0301")) == []


def test_a_message_names_the_character_and_its_position() -> None:
    [(_, message)] = check_text("f", "Help\u3164now")
    assert "U+3164 HANGUL FILLER at position 4" in message
    [(_, message)] = check_text("f", "Help\u0378")
    assert "U+0378 unassigned code point" in message and unicodedata.unidata_version in message


TEXT_ACCEPTED = [
    pytest.param("می\u200cخواهم کمک کنم", id="persian-zwnj-is-spelling"),
    pytest.param("क्\u200dष", id="devanagari-zwj-after-virama"),
    pytest.param("हिन्दी में मदद", id="devanagari-marks"),
    pytest.param("བོད་སྐད་ཀྵྨྱཱྀ", id="tibetan-stacks"),
    pytest.param("שָׁלוֹם עֲלֵיכֶם", id="hebrew-points"),
    pytest.param("ภาษาไทย ช่วยเหลือ", id="thai-marks"),
    pytest.param("Ẹ̀kọ́ fún gbogbo", id="yoruba-tone-on-dot-below"),
    pytest.param("q\u0307 and x\u0304", id="latin-letter-with-a-mark-nfc-keeps"),
    pytest.param("Ayuda en español \u200f(RLM)", id="direction-mark"),
    pytest.param("\u200fשלום", id="leading-direction-mark"),
    pytest.param("Two\nparagraphs", id="newline-in-multi-line"),
    pytest.param("Café", id="nfc"),
    pytest.param("한국어 도움", id="hangul"),
    pytest.param("⠓⠑⠇⠏ in Braille", id="visible-braille"),
    pytest.param("10\u00a0km, 5\u202fkg", id="no-break-spaces-inside"),
    pytest.param("Help\u3000now", id="ideographic-space-inside"),
    # emoji and their sequences
    pytest.param("Pride 🏳️\u200d🌈 march", id="rainbow-flag"),
    pytest.param("🏳️\u200d⚧️ Trans rights", id="trans-flag"),
    pytest.param("❤️ Love is love", id="heart-with-vs16"),
    pytest.param("☺︎ text style", id="vs15-text-style"),
    pytest.param("#️⃣ 1️⃣ *️⃣ keycaps", id="keycaps"),
    pytest.param("‼️ ⁉️ ℹ️ 〰️ 〽️ ™️ ©️ ®️", id="emoji-forms-of-non-symbols"),
    pytest.param("👍🏽 👩🏿\u200d⚕️", id="skin-tones-and-profession"),
    pytest.param(f"{WALES} Cymru", id="subdivision-flag-tags"),
    pytest.param("🇺🇦 Україна", id="regional-indicator-flag"),
    # variation sequences outside emoji
    pytest.param("葛\U000e0100城市", id="ideographic-variation-sequence"),
    pytest.param("漢\ufe00字", id="cjk-standardized-variant"),
    pytest.param("a ≩\ufe00 b", id="math-symbol-variant"),
    pytest.param("0\ufe00", id="slashed-zero-variant"),
    pytest.param("ᠮᠣᠩᠭᠣᠯ\u180b", id="mongolian-free-variation-selector"),
    # ampersands and angle brackets that are not markup
    pytest.param("Tom & Jerry, 3 < 4", id="bare-ampersand-and-less-than"),
    pytest.param("Smith & Jones", id="ampersand-between-words"),
    pytest.param("AT&T, Q&A, R&D, B&B, M&Ms, P&G", id="ampersand-in-names"),
    pytest.param("Fish&Chips", id="ampersand-before-a-non-entity"),
    pytest.param("5 > 3 and 2 <3", id="greater-than-and-less-than-before-a-digit"),
    pytest.param("＜緊急＞ お知らせ", id="fullwidth-brackets-in-japanese"),
    pytest.param("Smith ＆ Jones", id="fullwidth-ampersand"),
    pytest.param("{x} and {y}", id="single-braces"),
    pytest.param("50% off", id="percent"),
    pytest.param("#", id="a-single-symbol"),
]


@pytest.mark.parametrize("text", TEXT_ACCEPTED)
def test_plain_text_is_accepted(text: str) -> None:
    assert check_text("f", text) == []


def test_marks_up_to_the_limit_are_accepted() -> None:
    marks = "\u0336\u0337\u0334\u0335\u0489\u20dd\u0353\u0354\u0355"
    assert check_text("f", "Z" + marks[:MAX_MARKS_ON_ONE_CHARACTER]) == []
    assert check_text("f", "Z" + marks[: MAX_MARKS_ON_ONE_CHARACTER + 1])[0][1].startswith("[combining-mark]")


@pytest.mark.parametrize("name", sorted(n for n in html.entities.html5 if not n.endswith(";")))
def test_every_legacy_reference_is_refused_without_a_semicolon(name: str) -> None:
    """Browsers decode these 106 names without `;` (the WHATWG table); each one is refused."""
    [(_, message)] = check_text("f", f"Tom &{name} Jerry")
    assert message.startswith("[html] ")
    [(_, message)] = check_text("f", f"Tom&{name}x")
    assert message.startswith("[html] ")


@pytest.mark.parametrize("letter", [chr(c) for c in range(ord("A"), ord("z") + 1) if chr(c).isalpha()])
def test_an_ampersand_before_one_letter_is_plain_text(letter: str) -> None:
    """No legacy name is a single letter, so `AT&T`-style names stay valid for every letter."""
    assert check_text("f", f"A&{letter}") == []


# --- on the write paths ----------------------------------------------------------------------------------

HOSTILE_ON_WRITE = [
    pytest.param("\u3164", "blank-char", id="hangul-filler"),
    pytest.param("\u2800", "blank-char", id="braille-blank"),
    pytest.param("\u0301", "combining-mark", id="lone-combining-mark"),
    pytest.param("Amne\ufe0fsty", "variation-selector", id="stray-variation-selector"),
    pytest.param("Amne\u00adsty", "invisible-char", id="soft-hyphen"),
    pytest.param("Help\U000e0100\U000e0101", "variation-selector", id="smuggled-selectors"),
    pytest.param("&lt;b&gt", "html", id="entity-without-semicolon"),
    pytest.param("\u200e", "blank-text", id="direction-mark-only"),
]


def test_import_names_file_field_and_rule(deployment) -> None:
    doc = listing("bad-one", translations={"en": {"title": "Help\u3164now", "summary": "Helps."}})
    write_listing(deployment.data, doc)
    with pytest.raises(DatasetInvalid) as raised:
        load_directory(deployment.data)
    [problem] = raised.value.problems
    assert (Path(problem.path).name, problem.field) == ("bad-one.toml", "translations.en.title")
    assert problem.message.startswith("[blank-char]")


@pytest.mark.parametrize(("text", "rule"), HOSTILE_ON_WRITE)
def test_a_submission_title_is_a_400_naming_field_and_rule(deployment, text: str, rule: str) -> None:
    store = Store(deployment.db)
    try:
        token, _ = create_token(store, name="text-curator", role="curator", expires_in_days=None, actor="test")
    finally:
        store.close()
    body = {
        "action": "create",
        "listing": listing("new-one", translations={"en": {"title": text, "summary": "Helps."}}),
        "note": "A new listing.",
        "sources": ["https://new-one.example.org/about"],
    }
    with deployment.client() as client:
        response = client.post(
            "/v1/submissions", content=msgspec.json.encode(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert (error["in"], error["field"]) == ("body", "listing.translations.en.title")
    assert error["detail"].startswith(f"[{rule}] "), error


@pytest.mark.parametrize(("text", "rule"), HOSTILE_ON_WRITE)
def test_a_report_detail_is_a_400_naming_field_and_rule(deployment, text: str, rule: str) -> None:
    with deployment.client(reports_per_minute=10_000) as client:
        response = client.post(
            "/v1/listings/ru-evacuation/reports", content=msgspec.json.encode({"reason": "other", "details": text}),
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert (error["in"], error["field"]) == ("body", "details")
    assert error["detail"].startswith(f"[{rule}] "), error


def test_the_seed_data_still_imports(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "--data", str(REPO / "directory_data"), "--db", str(tmp_path / "x.db"), "--quiet"])
    assert result.exit_code == 0, result.output

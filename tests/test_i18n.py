"""Chinese and English catalogues are complete, match the source, and are what the pages show."""

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "corrections" / "translations"
#: Catalogue directories; Babel names Chinese zh_Hans_CN, which is what "zh_CN" parses to.
LOCALES = ("zh_Hans_CN", "en")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrf]")


def catalogue(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


@pytest.fixture(scope="module")
def source_ids(tmp_path_factory) -> set:
    """Every translatable string in the source, extracted afresh."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "N_",
            "-o",
            str(pot),
            str(ROOT),
        ]
    )
    with open(pot, "rb") as f:
        return ids(read_po(f))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_source_string_is_in_the_catalogue(locale, source_ids):
    missing = source_ids - ids(catalogue(locale))
    assert not missing, f"run `make i18n` and translate: {sorted(map(str, missing))[:10]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_entry_is_translated_with_the_same_placeholders(locale):
    for message in catalogue(locale):
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated in {locale}: {message.id!r}"
        # A singular form may leave the count out ("Every day"); nothing may be invented or lost.
        wanted = set(PLACEHOLDER.findall(sources[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= wanted, (locale, message.id, string)
        assert set(PLACEHOLDER.findall(strings[-1])) == wanted, (locale, message.id)


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_the_po_file(locale):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    written = {_key(m.id): _key(m.string) for m in catalogue(locale) if m.id}
    assert compiled == written, "run `make i18n-compile`"


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_pages_are_chinese_by_default_and_english_on_request(client):
    chinese = client.get("/login").get_data(as_text=True)
    assert "登录" in chinese and 'lang="zh-CN"' in chinese
    client.set_cookie("lang", "en")
    english = client.get("/login").get_data(as_text=True)
    assert "Sign in" in english and "登录" not in english


def test_api_errors_follow_the_language_too(client):
    body = client.post("/api/v1/auth/token", json={"username": "x"}).get_json()
    chinese = body["error"]["fields"]["password"]
    client.set_cookie("lang", "en")
    body = client.post("/api/v1/auth/token", json={"username": "x"}).get_json()
    assert body["error"]["fields"]["password"] == "is required"
    assert chinese != "is required" and re.search(r"[\u4e00-\u9fff]", chinese)


def test_chinese_is_written_with_chinese_punctuation():
    # A person writes ，：（）？ beside Chinese; placeholders, times and coordinates keep theirs.
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    from fullwidth import fix

    needing = []
    for message in catalogue("zh_Hans_CN"):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        needing += [s for s in strings if s and fix(s) != s]
    assert needing == [], f"run tools/fullwidth.py: {needing[:5]}"


def test_the_punctuation_fix_keeps_what_is_not_chinese():
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    from fullwidth import fix

    assert fix("例如:已联系本人,现已返回。") == "例如：已联系本人，现已返回。"
    assert fix("中心点 %(lat)s, %(lon)s") == "中心点 %(lat)s, %(lon)s"
    assert fix("例如 24.70, 107.50") == "例如 24.70, 107.50"
    assert fix("格式为 HH:MM(00:00 至 23:59)") == "格式为 HH:MM（00:00 至 23:59）"
    assert fix("其他工作人员(%(name)s)已认领") == "其他工作人员（%(name)s）已认领"
    assert fix("Wrong (English) text: fine") == "Wrong (English) text: fine"
    assert fix("确定停用吗?") == "确定停用吗？"
    assert fix("注意!已停用; 请重试") == "注意！已停用；请重试"
    assert fix("Really? Yes! a; b") == "Really? Yes! a; b"


def test_json_answers_carry_chinese_as_utf8_not_escapes(client):
    response = client.post("/api/v1/auth/token", json={"username": "x"})
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    message = response.get_json()["error"]["fields"]["password"]
    assert re.search(r"[\u4e00-\u9fff]", message)
    assert message.encode("utf-8") in response.data and b"\\u" not in response.data


@pytest.mark.parametrize(
    ("header", "english"),
    [("en", True), ("en-US,en;q=0.9", True), ("zh-CN,zh;q=0.9", False), ("zh", False)],
)
def test_the_api_follows_accept_language_when_nothing_was_chosen(client, header, english):
    body = client.post(
        "/api/v1/auth/token", json={"username": "x"}, headers={"Accept-Language": header}
    ).get_json()
    assert (body["error"]["fields"]["password"] == "is required") is english


def test_an_unknown_accept_language_is_chinese(client):
    body = client.post(
        "/api/v1/auth/token", json={"username": "x"}, headers={"Accept-Language": "fr, de;q=0.5"}
    ).get_json()
    assert body["error"]["fields"]["password"] != "is required"


def test_pages_follow_accept_language_when_nothing_was_chosen(client):
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "Sign in" in english.get_data(as_text=True)
    chinese = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert "登录" in chinese.get_data(as_text=True)


def test_the_chosen_language_wins_over_accept_language(client):
    client.set_cookie("lang", "zh_CN")
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "登录" in page and "Sign in" not in page
    body = client.post(
        "/api/v1/auth/token", json={"username": "x"}, headers={"Accept-Language": "en"}
    ).get_json()
    assert body["error"]["fields"]["password"] != "is required"
    client.set_cookie("lang", "en")
    page = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Sign in" in page

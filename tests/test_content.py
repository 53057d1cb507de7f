"""Content loader and validator: the real content and broken fixtures."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot import LOCALES
from bot.content.loader import load_content
from bot.content.markup import parse_body, render_inline, telegram_length
from bot.services.content import ContentStore, ContentUnavailable
from tests.conftest import ROOT

TREE = """\
topics:
  - key: visas
    parent: null
    reviewed: 2026-11-01
    verified: true
  - key: russia
    parent: visas
    reviewed: 2026-11-01
    verified: false
    countries: [RU]
    sources:
      - title: "Law 260-FZ"
      - title: "Migration Agency"
        url: "https://gov.uz/en/migration"
"""


def write_content(root: Path, tree: str = TREE, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "topics.yaml").write_text(tree, encoding="utf-8")
    defaults = {f"{locale}/{key}.md": f"---\ntitle: {key} {locale}\nkeywords: [a]\n---\nBody of {key}.\n"
                for locale in LOCALES for key in ("visas", "russia")}
    defaults.update(files or {})
    for name, text in defaults.items():
        if text is None:
            continue
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def messages(result) -> list[str]:
    return [f"{p.path.name}:{p.line}: {p.message}" for p in result.errors]


def test_real_content_loads_with_no_errors_and_at_least_30_topics():
    result = load_content(ROOT / "content")
    assert result.errors == []
    content = result.content
    assert len(content.topics) >= 30
    assert max(len(content.trail(key)) for key in content.topics) == 3
    for key in content.topics:
        for locale in LOCALES:
            assert content.text(locale, key).served_from == locale, (locale, key)


def test_real_content_names_no_unverified_contact_numbers():
    # content-facts §5: these numbers are unverified and must not be published.
    forbidden = ["925 045 4744", "120 56 97", "143 94 94", "iomuz@iom.int", "Kazachiy"]
    for path in (ROOT / "content").rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert not [f for f in forbidden if f in text], path


def test_uzbek_latin_content_uses_official_apostrophes():
    for path in (ROOT / "content" / "uz").glob("*.md"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.split("](")[0]
            assert not any(ch in stripped for ch in "'’‘`"), f"{path.name}:{number}: {line}"


def test_good_fixture_loads(tmp_path):
    result = load_content(write_content(tmp_path))
    assert result.errors == []
    assert result.content.topics["visas"].children == ("russia",)
    assert result.content.topics["russia"].sources[1].url == "https://gov.uz/en/migration"


@pytest.mark.parametrize("tree_edit, expected", [
    (("parent: visas", "parent: nowhere"), "parent 'nowhere' does not exist"),
    (("parent: null", "parent: russia"), "cycle"),
    (("reviewed: 2026-11-01\n    verified: false", "verified: false"), "'reviewed' must be a date"),
    (("- key: russia", "- key: Russia!"), "must be 1-32 characters"),
    (('url: "https://gov.uz/en/migration"', 'url: "http://example.org"'), "must start with https://"),
])
def test_broken_tree_is_reported_with_line(tmp_path, tree_edit, expected):
    tree = TREE.replace(*tree_edit)
    result = load_content(write_content(tmp_path, tree))
    assert result.content is None
    assert any(expected in m for m in messages(result)), messages(result)
    assert all(p.line >= 1 for p in result.errors)


@pytest.mark.parametrize("body, expected, line", [
    ("Fine.\n\n# Heading\n", "headings are not allowed", 7),
    ("Fine.\n<b>raw</b>\n", "HTML tags are not allowed", 6),
    ("1) first\n", "numbered steps are written '1. '", 5),
    ("Some **bold\n", "unbalanced '**'", 5),
    ("[link](ftp://x)\n", "links must be", 5),
    ("x " * 1600 + "\n", "paragraph is over", 5),
])
def test_broken_markup_is_reported_with_file_and_line(tmp_path, body, expected, line):
    files = {"en/russia.md": f"---\ntitle: Russia\nkeywords: [a]\n---\n{body}"}
    result = load_content(write_content(tmp_path, files=files))
    found = [p for p in result.errors if expected in p.message]
    assert found and found[0].path.name == "russia.md" and found[0].line == line, messages(result)


def test_numbered_steps_render_as_numbered_lines():
    blocks, errors = parse_body("What to do:\n\n1. Go to the **centre**\n2. Bring\n   your passport\n")
    assert not errors
    assert blocks[1].html == "1. Go to the <b>centre</b>\n2. Bring your passport"


def test_missing_title_and_long_title(tmp_path):
    files = {"en/russia.md": "---\nkeywords: [a]\n---\nBody\n",
             "ru/russia.md": "---\ntitle: " + "x" * 60 + "\n---\nBody\n"}
    result = load_content(write_content(tmp_path, files=files))
    assert any("needs a 'title'" in m for m in messages(result))
    assert any("title is 60 characters" in m for m in messages(result))


def test_orphan_file_is_an_error(tmp_path):
    files = {"en/ghost.md": "---\ntitle: Ghost\n---\nBoo\n"}
    result = load_content(write_content(tmp_path, files=files))
    assert any("no topic 'ghost'" in m for m in messages(result))


def test_missing_translation_falls_back_and_is_reported(tmp_path):
    files = {"ru/russia.md": None}
    root = write_content(tmp_path, files=files)
    (root / "ru" / "russia.md").unlink(missing_ok=True)
    result = load_content(root)
    assert result.errors == []
    assert result.content.text("ru", "russia").served_from == "en"
    warnings = [str(p) for p in result.problems if p.severity == "warning"]
    assert any("ru/russia.md" in w and "fallback from en" in w for w in warnings)


def test_markup_renders_telegram_html_and_escapes():
    blocks, errors = parse_body("A < b > & **bold** _it_ [x](https://gov.uz/en/migration)\n\n- one\n- two\n")
    assert errors == []
    assert blocks[0].html == ('A &lt; b &gt; &amp; <b>bold</b> <i>it</i> '
                              '<a href="https://gov.uz/en/migration">x</a>')
    assert blocks[1].html == "• one\n• two"
    assert render_inline("snake_case_word") == "snake_case_word"
    assert telegram_length("<b>ab</b>&amp;😀") == 5  # the emoji is two UTF-16 units


def test_store_keeps_last_good_content_when_an_edit_breaks(tmp_path):
    root = write_content(tmp_path / "content")
    store = ContentStore(root)
    store.load()
    seen = []
    store.on_change(seen.append)
    (root / "en" / "russia.md").write_text("---\ntitle: Russia NEW\n---\nNew body\n", encoding="utf-8")
    assert store.reload_if_changed().content is not None
    assert store.current.text("en", "russia").title == "Russia NEW"
    (root / "topics.yaml").write_text("topics: [", encoding="utf-8")
    result = store.reload_if_changed()
    assert result.content is None and result.errors
    assert store.current.text("en", "russia").title == "Russia NEW"
    assert len(seen) == 2
    assert store.reload_if_changed() is None  # nothing changed since


def test_store_refuses_to_start_on_broken_content(tmp_path):
    root = write_content(tmp_path, TREE.replace("parent: visas", "parent: nowhere"))
    with pytest.raises(ContentUnavailable):
        ContentStore(root).load()


def test_content_check_command_prints_file_line_and_exits_nonzero(tmp_path, capsys):
    from bot.content.check import check_content

    good = write_content(tmp_path / "good")
    assert check_content(good, ROOT / "locales") == 0
    bad = write_content(tmp_path / "bad", files={"en/russia.md": "---\ntitle: R\n---\n# Head\n"})
    assert check_content(bad, ROOT / "locales") == 1
    out = capsys.readouterr().out
    assert "en/russia.md:4: error: headings are not allowed" in out


def test_missing_cyrillic_is_served_by_transliterating_latin_and_reported(tmp_path):
    files = {"uz/russia.md": "---\ntitle: \"Rossiya: roʻyxatdan oʻtish\"\nkeywords: [propiska]\n---\n"
                             "Oʻzbekiston fuqarolari 15 kun. [Sahifa](https://gov.uz/en/migration)\n"}
    root = write_content(tmp_path, files=files)
    (root / "uz_Cyrl" / "russia.md").unlink()
    result = load_content(root)
    text = result.content.text("uz_Cyrl", "russia")
    assert text.served_from == "uz transliterated"
    assert text.title == "Россия: рўйхатдан ўтиш"
    assert "Ўзбекистон фуқаролари 15 кун" in text.blocks[0]
    assert 'href="https://gov.uz/en/migration"' in text.blocks[0]
    assert any("uz_Cyrl/russia.md" in str(p) and p.severity == "warning" for p in result.problems)


def test_transliterate_command_drafts_missing_files_marked_for_review(tmp_path):
    from bot.content.drafts import draft_transliterations

    files = {"uz/russia.md": "---\ntitle: Sugʻurta\nkeywords: [sugʻurta]\n---\nYangi qoida.\n"}
    root = write_content(tmp_path, files=files)
    (root / "uz_Cyrl" / "russia.md").unlink()
    written = draft_transliterations(root, "uz", "uz_Cyrl")
    assert [p.name for p in written] == ["russia.md"]
    draft = written[0].read_text(encoding="utf-8")
    assert "title: Суғурта" in draft and "Янги қоида." in draft and "needs_review" in draft
    result = load_content(root)
    assert result.errors == []
    assert any("draft needs review" in p.message for p in result.problems)
    assert draft_transliterations(root, "uz", "uz_Cyrl") == []  # never overwrites

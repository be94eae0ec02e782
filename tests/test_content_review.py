"""The content review (issue 12, items 1 and 2) stays fixed in lessons 01–04 and the source pack.

Each correction from ../shared/content/REVIEW.md §1a–1b is a (file, wrong wording, right
wording) row: the wrong wording is gone and the right wording is there. The sources that
carry an answer are long enough to show it, the new sources have full provenance, and the
diagram source shows its picture, with its text alternative, wherever sources are shown.
"""

from __future__ import annotations

import datetime
import html
import re
import shutil
from pathlib import Path

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse

from crisis.content.loader import CONTENT_DIR, LoaderError, load_unit, read_unit
from crisis.models import Lesson, Source

UNIT_DIR = CONTENT_DIR / "cuban_missile_crisis"
L1 = "lessons/01-thirteen-days.md"
L2 = "lessons/02-how-it-ended.md"
L3 = "lessons/03-diplomatic-consequences.md"
L4 = "lessons/04-limits.md"
SOURCES = "sources.yaml"
PUBLIC_DOMAIN = "Public domain in the US; reproduced for teaching"

# (review item, file, wording that must be gone or None, wording that must be present)
CORRECTIONS = [
    (
        "2",
        SOURCES,
        "at any place under its jurisdiction or control\n",
        "(b) in any other environment if such explosion causes radioactive debris",
    ),
    (
        "2",
        SOURCES,
        None,
        "Seeking to achieve the discontinuance of all test explosions of nuclear weapons for all time",
    ),
    (
        "3",
        SOURCES,
        'audience: "Chairman Khrushchev and the Soviet leadership."',
        "because the White House released it at once",
    ),
    ("3", SOURCES, "quoted in FRUS 1961–1963, vol. VII, document 239", "document 69 (State Department telegram 1020"),
    ("3", SOURCES, None, "John F. Kennedy, 1962, pp. 814–815"),
    ("4", L2, "secretly removed", "under a secret undertaking given on 27 October 1962"),
    ("4", L2, "The secret deal: what happened to the Jupiters", "The **removal itself was not secret**"),
    ("5", L2, "An American medium-range nuclear missile", "intermediate-range ballistic missile (IRBM)"),
    ("5", L1, None, "The American Jupiter missiles in Italy and Turkey were IRBMs too."),
    ("6", L1, "The US trade embargo on Cuba began on 3 February 1962", "began on 19 October 1960"),
    (
        "6",
        L1,
        "imposes a full US trade embargo on Cuba, eight months",
        "signed on 3 February 1962 and in force from 7 February",
    ),
    ("6", L4, "The US trade embargo on Cuba begins (Proclamation 3447)", "Proclamation 3447 (in force 7 February)"),
    ("6", L4, "which had **begun in February 1962**", "partial embargo in **October 1960**"),
    (
        "7",
        L2,
        "UN Secretary-General U Thant",
        "U Thant, Acting Secretary-General of the United Nations in October 1962",
    ),
    (
        "7",
        L2,
        "U Thant, the Secretary-General of the United Nations",
        "U Thant, the Acting Secretary-General of the United Nations",
    ),
    (
        "8",
        L3,
        "upgraded with **satellite circuits in 1971**",
        "On **30 September 1971** the two governments agreed to **modernise**",
    ),
    (
        "9",
        L3,
        "the nuclear powers promised to negotiate",
        '"Each of the Parties to the Treaty", with or without nuclear weapons',
    ),
    ("9", SOURCES, "including the Article VI promise to negotiate", "Article VI binds each of the Parties"),
    (
        "10",
        L4,
        "Soviet Deputy Foreign Minister Vasily Kuznetsov",
        "Soviet First Deputy Foreign Minister Vasily Kuznetsov",
    ),
    ("10", L2, None, "First Deputy Foreign Minister, Vasily Kuznetsov"),
    (
        "11",
        L1,
        "the missiles could go if the US promised not to invade Cuba",
        "never says in so many words that the missiles would be removed",
    ),
    ("11", L2, "offered to remove the missiles in return for a promise", "although the letter never quite says so"),
    (
        "11",
        SOURCES,
        "the missiles could go if the United States promised not to invade Cuba",
        "Reading this as an offer to remove the missiles was the Americans' interpretation",
    ),
    ("12", L2, "It said nothing about Turkey.", "as proposed in your second letter which you made public"),
    ("12", L2, None, "a detente affecting NATO and the Warsaw Pact"),
    ("14", L2, None, "In **1982** six of Kennedy's former advisers"),
    (
        "15",
        L1,
        "and Castro turned to the Soviet Union for protection and trade",
        "The invasion did not start Cuba's alignment with Moscow",
    ),
    ("16", L4, "about **1,487 ICBMs**", "**roughly 1,300–1,500 ICBMs**"),
    ("16", L4, "The Soviet Union has about 1,487 ICBMs", "roughly 1,300–1,500 ICBMs, depending on the source"),
    (
        "17",
        L3,
        "the first agreement between the superpowers to limit nuclear weapons in any way",
        "the Antarctic Treaty of 1959",
    ),
    ("20", L4, "which became its main trading partner", "In the short term the crisis *strained* the relationship"),
    (
        "21",
        L1,
        "Soviet ships heading for Cuba stopped or turned back.",
        "Khrushchev had already ordered most of the Soviet ships carrying weapons to turn back",
    ),
    ("22", L1, "during the summer of 1962.", "**summer and autumn of 1962**"),
    ("23", L1, "The meeting convinced many Americans", "Americans learned of it only when Kennedy described it"),
    ("24", L3, None, "Johnson, Nixon, Carter and Reagan all did"),
    ("25", L3, None, "On **12 December 1971**, during the war between India and Pakistan"),
    ("26", L3, "friendlier than at any meeting since the crisis", "the only meeting of US and Soviet leaders between"),
    (
        "27",
        L3,
        "the Senate must approve a treaty by a two-thirds majority",
        '\\"advice and consent\\" by a two-thirds majority',
    ),
    (
        "27",
        L3,
        "the Senate approved the treaty by 80 votes",
        "the Senate gave its consent to the treaty by 80 votes to 19",
    ),
    (
        "28",
        L4,
        "but did not send its army to fight",
        "several thousand Soviet military specialists served in North Vietnam",
    ),
    ("29", L1, None, "**without authorisation from Moscow**"),
    ("32", L1, "Historians usually point to three reasons", "**To gain leverage over Berlin.**"),
    ("32", L1, None, "**Vienna in June 1961**"),
    ("32", L1, None, "**Rivalry with China.**"),
    ("32", L1, None, "Roswell Gilpatric"),
    ("1d G", SOURCES, None, "Charles C. Stelle (United States) and Semyon K. Tsarapkin (USSR)"),
    ("1d H", SOURCES, None, '\\"Radio and Television Address to the American People on the Nuclear Test Ban Treaty\\"'),
    ("1d B", SOURCES, None, "I propose: We, for our part, will declare that our ships, bound for Cuba"),
    (
        "1d C",
        SOURCES,
        None,
        "I therefore make this proposal: We are willing to remove from Cuba the means which you regard as offensive.",
    ),
    ("1d C", SOURCES, None, "will remove its analogous means from Turkey"),
    ("1d D", SOURCES, None, "1) You would agree to remove these weapons systems from Cuba"),
    ("1d D", SOURCES, None, "(b) to give assurances against an invasion of Cuba."),
    (
        "1d D",
        SOURCES,
        None,
        "a more general arrangement regarding ‘other armaments’, as proposed in your second letter",
    ),
]


def read(name: str) -> str:
    return (UNIT_DIR / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("item", "name", "wrong", "right"), CORRECTIONS, ids=[f"#{c[0]}-{i}" for i, c in enumerate(CORRECTIONS)]
)
def test_review_correction_is_in_place(item, name, wrong, right):
    text = read(name)
    if wrong is not None:
        assert wrong not in text, f"REVIEW #{item}: {name} still says {wrong!r}"
    assert right in text, f"REVIEW #{item}: {name} lacks {right!r}"


@pytest.mark.parametrize(
    ("name", "wording"),
    [
        (L1, "**Account (8 marks).**"),
        (L1, "**Inference (4 marks).**"),
        (L2, "**How useful are Sources B and C to a historian studying how the Cuban Missile Crisis was settled?"),
        (L2, "was settled? (12 marks)**"),
        (L3, "**Explain two consequences of the Cuban Missile Crisis. (8 marks)**"),
        (L4, "**Inference (4 marks).**"),
        (L1, "**What can't this source tell us?**"),
        (L2, "**What can't this source tell us?**"),
        (L3, "**What can't this source tell us?**"),
        (L4, "**What can't this source tell us?**"),
    ],
)
def test_lessons_end_with_exam_style_practice(name, wording):
    text = read(name)
    assert "## Exam practice" in text
    assert wording in text.split("## Exam practice", 1)[1]


# --- the source pack ------------------------------------------------------------------------


def shipped_sources() -> dict[str, dict]:
    return {item["label"]: item for item in yaml.safe_load(read(SOURCES))}


def quoted_words(excerpt: str) -> int:
    """Words of quotation: ellipsis paragraphs and bracketed locator lines don't count."""
    paragraphs = [p.strip() for p in excerpt.split("\n\n")]
    quoted = [p for p in paragraphs if p != "…" and not re.fullmatch(r"\(.*\)", p)]
    return sum(len(p.replace("…", " ").split()) for p in quoted)


@pytest.mark.parametrize("label", ["B", "C", "D", "I"])
def test_sources_that_carry_an_answer_quote_60_to_150_words(label):
    assert 60 <= quoted_words(shipped_sources()[label]["excerpt"]) <= 150


def test_labels_a_to_j_stay_and_new_sources_follow_from_k():
    labels = list(shipped_sources())
    assert labels[:10] == list("ABCDEFGHIJ")
    assert labels[10:] == [chr(ord("K") + i) for i in range(len(labels) - 10)]
    assert len(labels) >= 15


def test_source_i_no_longer_reads_as_a_ban_on_all_tests():
    paragraphs = [p.strip() for p in shipped_sources()["I"]["excerpt"].split("\n\n")]
    assert not any(p.endswith("under its jurisdiction or control") for p in paragraphs)
    assert any(p.startswith("(a) in the atmosphere; beyond its limits") for p in paragraphs)
    assert any(p.startswith("(b) in any other environment") for p in paragraphs)


PROVENANCE = [
    "title",
    "kind",
    "author",
    "date",
    "date_label",
    "origin",
    "purpose",
    "audience",
    "citation",
    "licence",
    "shows",
]
NEW_SOURCES = {
    # label: (kind, what it is for, words that must appear in the citation)
    "K": ("message", "the Hotline in use", ["1964–1968, vol. XIX", "documents 156", "159"]),
    "L": ("speech", "rivalry after 1962", ["John F. Kennedy, 1963", "Rudolph Wilde Platz"]),
    "M": ("broadcast", "rivalry after 1962", ["Lyndon B. Johnson, 1968–69"]),
    "N": ("letter", "how close to war", ["vol. VI", "documents 68", "69"]),
    "O": ("diagram", "what the missiles could reach", ["Drawn for this unit"]),
}


@pytest.mark.parametrize("label", sorted(NEW_SOURCES))
def test_new_sources_exist_with_full_provenance(label):
    source = shipped_sources()[label]
    kind, _use, citation_words = NEW_SOURCES[label]
    for name in PROVENANCE:
        assert str(source.get(name) or "").strip(), f"Source {label} has no {name}"
    assert source["kind"] == kind
    for words in citation_words:
        assert words in source["citation"], (label, words)
    if kind != "diagram":
        assert source["licence"] == PUBLIC_DOMAIN


def test_two_new_sources_show_rivalry_after_1962_and_one_the_hotline_in_use():
    sources = shipped_sources()
    assert all(sources[label]["date"] > datetime.date(1962, 12, 31) for label in ("L", "M"))
    assert "Let them come to Berlin." in sources["L"]["excerpt"]
    assert "invaded a defenseless country" in sources["M"]["excerpt"]
    assert sources["K"]["date"] == datetime.date(1967, 6, 5)
    assert "Hotline" in sources["K"]["origin"]
    assert "could be easily taken for a nuclear bomber" in sources["N"]["excerpt"]


def test_the_diagram_says_it_is_not_a_historical_document_and_has_its_picture():
    diagram = shipped_sources()["O"]
    assert diagram["excerpt"].startswith("Diagram drawn for this unit from stated ranges; not a historical document.")
    assert "not a historical document" in diagram["origin"]
    assert "about 2,000 km" in diagram["excerpt"] and "about 4,500 km" in diagram["excerpt"]
    assert diagram["image_alt"].strip()
    assert finders.find(diagram["image"])


def test_the_diagram_svg_is_drawn_here_and_safe_under_the_csp():
    svg = Path(finders.find(shipped_sources()["O"]["image"])).read_text(encoding="utf-8")
    assert "<title" in svg and "<desc" in svg
    assert "Diagram drawn for this unit from stated ranges; not a historical document." in svg
    # The Content Security Policy forbids inline styles; nothing is fetched from elsewhere.
    assert not re.search(r"<style|\sstyle=|href=|<script|<image|url\(", svg)


@pytest.mark.parametrize("label", ["K", "L", "M", "N", "O"])
def test_lessons_01_to_04_use_the_new_sources(label):
    used = {
        used.strip()
        for name in (L1, L2, L3, L4)
        for used in re.search(r"^sources: \[(.*)\]$", read(name), flags=re.M).group(1).split(",")
    }
    assert label in used


# --- loading and showing the diagram ---------------------------------------------------------


@pytest.fixture
def unit_copy(tmp_path) -> Path:
    folder = tmp_path / "unit"
    shutil.copytree(UNIT_DIR, folder)
    return folder


def edit_source(folder: Path, label: str, **changes) -> None:
    path = folder / SOURCES
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for item in data:
        if item["label"] == label:
            item.update(changes)
            for key, value in list(item.items()):
                if value is None:
                    del item[key]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_diagram_without_a_picture_is_rejected(unit_copy):
    edit_source(unit_copy, "O", image=None, image_alt=None)
    with pytest.raises(LoaderError, match="source O, image: is missing or empty"):
        read_unit(unit_copy)


@pytest.mark.parametrize("path", ["img/no-such-diagram.svg", "../crisis/settings.py", "/etc/passwd"])
def test_a_picture_must_be_a_file_under_static(unit_copy, path):
    edit_source(unit_copy, "O", image=path)
    with pytest.raises(LoaderError, match="source O, image: .* is not a file under static/"):
        read_unit(unit_copy)


def test_a_picture_needs_a_text_alternative(unit_copy):
    edit_source(unit_copy, "O", image_alt=None)
    with pytest.raises(LoaderError, match="source O, image_alt: is missing or empty"):
        read_unit(unit_copy)


@pytest.fixture
def diagram(db) -> Source:
    load_unit(UNIT_DIR)
    return Source.objects.shipped().get(label="O")


def test_the_diagram_loads_with_its_picture_and_a_reload_changes_nothing(diagram):
    assert diagram.kind == Source.Kind.DIAGRAM
    assert diagram.image == "img/missile-ranges-from-cuba.svg" and diagram.image_alt
    assert not load_unit(UNIT_DIR).changed


def test_lessons_link_to_the_diagram_and_the_u2_source(diagram):
    lesson = Lesson.objects.shipped().get(slug="thirteen-days")
    assert {"N", "O"} <= set(lesson.sources.values_list("label", flat=True))


def test_the_source_page_shows_the_picture_with_its_text_alternative(client, student, diagram):
    client.force_login(student)
    page = html.unescape(client.get(reverse("content:source", args=[diagram.pk])).content.decode())
    assert 'src="/static/img/missile-ranges-from-cuba.svg"' in page
    assert f'alt="{diagram.image_alt}"' in page
    assert "not a historical document" in page


def test_the_writing_page_source_card_shows_the_picture_with_its_text_alternative(diagram):
    card = html.unescape(render_to_string("classroom/assignments/_source.html", {"source": diagram}))
    assert 'src="/static/img/missile-ranges-from-cuba.svg"' in card
    assert f'alt="{diagram.image_alt}"' in card


def test_a_source_without_a_picture_shows_no_img(diagram):
    card = render_to_string("classroom/assignments/_source.html", {"source": Source.objects.shipped().get(label="B")})
    assert "<img" not in card


def test_a_teachers_copy_of_the_diagram_keeps_its_picture(diagram, teacher):
    copy = diagram.make_copy(teacher)
    assert (copy.image, copy.image_alt) == (diagram.image, diagram.image_alt)

"""trigram_contains and search_contains: the same rows as ILIKE, whatever the script."""

import pytest
from django.db import connection

from crm.lookups import indic_runs
from crm.models import User
from crm.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NAMES = ["अनीता शर्मा", "राहुल वर्मा", "শর্মিলা দত্ত", "ಶ್ವೇತಾ ಶೆಟ್ಟಿ", "Ravi शर्मा", "Anita Sharma", "100% Pure"]


def _key(text: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_key(%s)", [text])
        return cursor.fetchone()[0]


def test_search_key_spells_any_text_in_ascii_letters_and_digits():
    assert _key("शर्मा") == "g4b6g4b0g58dg4aeg4be"  # E0 A4 B6, E0 A4 B0, E0 A5 8D, …
    assert _key("Ravi ಶೆ") == "5261766920" + "h2b6h386"  # E0 B2 B6, E0 B3 86
    assert _key("") == ""


def test_a_line_break_cannot_shift_the_key_of_the_character_before_it():
    # U+090E is E0 A4 8E: with the line feed's 0A after it, "8e0a…" would hold a false "e0a".
    UserFactory(username="broken", first_name="ऎ\nक")
    assert _key("ऎ\nक") == _key("ऎ") + "20" + _key("क")
    assert list(User.objects.filter(first_name__search_contains="ऎ").values_list("username", flat=True)) == ["broken"]


def test_pg_trgm_keeps_an_indic_name_in_one_word_of_its_key():
    with connection.cursor() as cursor:
        cursor.execute("SELECT show_trgm(search_key(%s))", ["शर्मा"])
        trigrams = cursor.fetchone()[0]
    # 5 characters, 20 letters and digits: 18 trigrams inside the word and 3 at its edges at most,
    # where the name itself splits into one-letter words under C.UTF-8 and into none under C.
    assert len(trigrams) > 15
    assert all(set(trigram) <= set("0123456789abcdefgh ") for trigram in trigrams)


def test_indic_runs_are_the_pieces_the_key_index_is_asked_for():
    assert indic_runs("Ravi शर्मा") == ["शर्मा"]
    assert indic_runs("ಶೆ and শর্") == ["ಶೆ", "শর্"]
    assert indic_runs("Sharma") == []


def test_search_contains_finds_what_ilike_finds_for_every_piece_of_every_name():
    for index, name in enumerate(NAMES):
        first, _sep, last = name.partition(" ")
        UserFactory(username=f"user{index}", first_name=first, last_name=last)
    pieces = {
        name[start:stop] for name in NAMES for start in range(len(name)) for stop in range(start + 1, len(name) + 1)
    }
    for piece in pieces:
        for field in ("first_name", "last_name"):
            plain = set(User.objects.filter(**{f"{field}__trigram_contains": piece}))
            keyed = set(User.objects.filter(**{f"{field}__search_contains": piece}))
            assert keyed == plain, (field, piece)
    assert set(User.objects.filter(last_name__search_contains="शर्मा")) == set(
        User.objects.filter(username__in=["user0", "user4"])
    )


def test_search_contains_keeps_like_wildcards_plain():
    UserFactory(username="percent", first_name="5%श")
    UserFactory(username="other", first_name="50श")
    assert list(User.objects.filter(first_name__search_contains="%श").values_list("username", flat=True)) == ["percent"]
    assert not User.objects.filter(first_name__search_contains="5_श").exists()

"""search_key(text) and the indexes that serve a search for a name in an Indic script (crm/lookups.py
says why pg_trgm needs them), and finer statistics of the searched columns.

search_key is the text's UTF-8 bytes in hexadecimal, with the lead bytes of the Indic blocks (E0 A…,
E0 B…) shortened to one letter, g or h: only ASCII letters and digits, which pg_trgm keeps in one word
under every locale, and one character at a time, so a name that contains a run of Indic characters has a
key that contains the run's key. Line feeds and vertical tabs become spaces first: without the bytes 0A
and 0B, "e0a" and "e0b" can only begin at a character, never in the middle of a byte. The key depends on
no locale, collation or table (convert_to is marked stable only because conversions can be redefined).

COST: the planner, not knowing that the names in Indic scripts sort after all the Latin ones, judged a
walk of the name index cheap for them and read most of it (seconds); priced as it is here, search_key
keeps those searches on its index, whose candidates it then checks once each.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

import crm.lookups

SEARCH_KEY = r"""
CREATE OR REPLACE FUNCTION search_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000
AS $$
    SELECT replace(replace(
        encode(convert_to(translate(value, E'\n\x0B', '  '), 'UTF8'), 'hex'),
    'e0a', 'g'), 'e0b', 'h')
$$;
"""

# The search's plans hinge on how many rows a typed name or email matches: with the default 100
# histogram buckets over a few thousand distinct names the planner guessed 2.7 times too many, so
# for a small team it walked the name index rather than intersecting the owner and trigram indexes.
STATISTICS = """
ALTER TABLE contacts_contact ALTER COLUMN display_name SET STATISTICS 1000, ALTER COLUMN email SET STATISTICS 1000;
ANALYZE contacts_contact (display_name, email);
"""
DEFAULT_STATISTICS = """
ALTER TABLE contacts_contact ALTER COLUMN display_name SET STATISTICS -1, ALTER COLUMN email SET STATISTICS -1;
"""


class Migration(migrations.Migration):
    # The indexes are built without blocking writes to the tables, which needs no transaction around.
    atomic = False

    dependencies = [
        ("contacts", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(SEARCH_KEY, reverse_sql="DROP FUNCTION IF EXISTS search_key(text)"),
        migrations.RunSQL(STATISTICS, reverse_sql=DEFAULT_STATISTICS),
        AddIndexConcurrently(
            model_name="company",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(crm.lookups.SearchKey("name"), name="gin_trgm_ops"),
                condition=models.Q(("name__regex", "[\\u0900-\\u0DFF]")),
                name="company_name_key_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="contact",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(crm.lookups.SearchKey("display_name"), name="gin_trgm_ops"),
                condition=models.Q(("display_name__regex", "[\\u0900-\\u0DFF]")),
                name="contact_name_key_trgm",
            ),
        ),
    ]

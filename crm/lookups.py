"""`field__trigram_contains=text`: a case-insensitive "contains" that the pg_trgm indexes serve;
`field__search_contains=text`: the same, also served for text in an Indic script.

Django's `icontains` becomes UPPER(column) LIKE UPPER(pattern) on PostgreSQL, which a
gin_trgm_ops index on the plain column cannot answer, so search fell back to reading every
row. ILIKE on the column itself is what those indexes are built for.

pg_trgm splits text into words at every character its locale does not call alphanumeric: the
vowel signs and viramas of Devanagari, Bengali, Kannada… under C.UTF-8, every non-ASCII letter
under C. A name in those scripts then gives one-letter trigrams that a large share of the table
has, and the planner, trusting them, walked the whole name index. `search_key(text)` (a SQL function,
contacts migration 0002) spells the text's UTF-8 bytes in ASCII letters and digits, which pg_trgm keeps
in one word under any locale; a partial trigram index on search_key(column) covers the rows with Indic
characters."""

import re

from django.db.models import CharField, Func, Lookup, TextField
from django.db.models.lookups import Regex

# The Indic blocks, Devanagari to Sinhala: the rows of the partial search-key indexes.
INDIC = "[\\u0900-\\u0DFF]"


class SearchKey(Func):
    """search_key(text): the text as the trigram indexes on it see it."""

    function = "search_key"
    output_field = TextField()


def indic_runs(text: str) -> list[str]:
    """The runs of characters of INDIC in `text` (the partial search-key indexes hold only such rows)."""
    return _INDIC_RUN.findall(text)


_INDIC_RUN = re.compile("[\u0900-\u0dff]+")


class TrigramContains(Lookup):
    lookup_name = "trigram_contains"

    def process_rhs(self, compiler, connection):
        sql, params = super().process_rhs(compiler, connection)
        return sql, [f"%{connection.ops.prep_for_like_query(param)}%" for param in params]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


class SearchContains(TrigramContains):
    """trigram_contains, through the column's search-key index when the text has Indic characters.

    A match then has those characters too, each run of them unchanged (they have no case), so its key
    contains each run's key: the key conditions only narrow the rows, through the index, and the ILIKE
    on the column decides, as trigram_contains does alone."""

    lookup_name = "search_contains"

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        runs = indic_runs(self.rhs) if isinstance(self.rhs, str) else []
        if not runs:
            return sql, params
        indic_sql, indic_params = compiler.compile(Regex(self.lhs, INDIC))
        lhs, lhs_params = self.process_lhs(compiler, connection)
        key_sql = f"search_key({lhs}) LIKE '%%' || search_key(%s) || '%%'"
        # The ILIKE first: where the planner walks the name index and filters, it turns down most rows
        # at the cost of a LIKE, where the regular expression would read each name through.
        return (
            " AND ".join([f"({sql}", indic_sql, *[key_sql] * len(runs)]) + ")",
            [*params, *indic_params, *[param for run in runs for param in (*lhs_params, run)]],
        )


def register() -> None:
    for field in (CharField, TextField):
        field.register_lookup(TrigramContains)
        field.register_lookup(SearchContains)

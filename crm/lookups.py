"""`field__trigram_contains=text`: a case-insensitive "contains" that the pg_trgm indexes serve.

Django's `icontains` becomes UPPER(column) LIKE UPPER(pattern) on PostgreSQL, which a
gin_trgm_ops index on the plain column cannot answer, so search fell back to reading every
row. ILIKE on the column itself is what those indexes are built for."""

from django.db.models import CharField, Lookup, TextField


class TrigramContains(Lookup):
    lookup_name = "trigram_contains"

    def process_rhs(self, compiler, connection):
        sql, params = super().process_rhs(compiler, connection)
        return sql, [f"%{connection.ops.prep_for_like_query(param)}%" for param in params]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


def register() -> None:
    CharField.register_lookup(TrigramContains)
    TextField.register_lookup(TrigramContains)

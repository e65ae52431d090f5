"""Full-text product search with each database's own engine.

SQLite: the FTS5 table `product_search` (porter stemming), ranked by bm25 with
the name weighted over tags over description. PostgreSQL: the generated
`product.search_vector` (weights A/B/C) with its GIN index, ranked by
ts_rank_cd. The user's text is reduced to word tokens and always sent as a
bound parameter; each token matches as a prefix, all tokens must match.

Both rank expressions are "lower is better", so one keyset ordering serves both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Float, cast, func, literal_column, select, text
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE

MAX_TERMS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


def search_terms(query: str) -> list[str]:
    """Word tokens of the user's text (punctuation and operators dropped)."""
    return [t[:64] for t in _WORD.findall(query.lower())][:MAX_TERMS]


@dataclass(frozen=True, slots=True)
class SearchJoin:
    """What a product query needs to search: a join target or a condition, and a rank."""

    subquery: CTE | None
    condition: ColumnElement[bool] | None
    rank: ColumnElement[float]


def sqlite_search(terms: list[str]) -> SearchJoin:
    # Each token quoted (so FTS5 operators in it are literal) and used as a prefix.
    match = " ".join('"' + t.replace('"', '""') + '"*' for t in terms)
    matches = (
        select(
            literal_column("product_search.rowid").label("product_id"),
            literal_column("bm25(product_search, 10.0, 4.0, 1.0)").label("rank"),
        )
        .select_from(text("product_search"))
        .where(text("product_search MATCH :fts_query").bindparams(fts_query=match))
        # Materialised: the match runs once. As a plain subquery the planner may walk
        # the products and re-run the match for each one (10,000 products: 350 ms).
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    return SearchJoin(subquery=matches, condition=None, rank=matches.c.rank)


def postgres_search(terms: list[str]) -> SearchJoin:
    # Tokens are \w+ only, so the tsquery syntax around them cannot be broken.
    query = " & ".join(f"{t}:*" for t in terms)
    tsquery = func.to_tsquery(literal_column("'english'::regconfig"), query)
    vector = literal_column("product.search_vector")
    rank = cast(-func.ts_rank_cd(vector, tsquery), Float)
    return SearchJoin(subquery=None, condition=vector.op("@@")(tsquery), rank=rank)


def search_join(dialect: str, terms: list[str]) -> SearchJoin:
    return sqlite_search(terms) if dialect == "sqlite" else postgres_search(terms)

"""The fixed-width table of figures."""

from __future__ import annotations

from bench.load import Result

_COLUMNS = (
    ("scenario", 36),
    ("requests", 9),
    ("errors", 7),
    ("userErrors", 10),
    ("req/s", 8),
    ("p50 ms", 8),
    ("p90 ms", 8),
    ("p99 ms", 8),
    ("max ms", 8),
    ("SQL min/med/max", 17),
)


def table(results: list[Result]) -> str:
    header = _row([name for name, _ in _COLUMNS])
    lines = [header, "-" * len(header)]
    for result in results:
        span = result.statement_range()
        sql = f"{span[0]} / {span[1]:g} / {span[2]}" if span else "n/a"
        lines.append(
            _row(
                [
                    result.scenario,
                    str(result.requests),
                    str(result.errors),
                    str(result.user_errors),
                    f"{result.per_second:.1f}",
                    *(f"{result.latency_ms(f):.1f}" for f in (0.5, 0.9, 0.99, 1.0)),
                    sql,
                ]
            )
        )
    for r in results:
        if r.first_error:
            lines.append(f"  {r.scenario}: first error: {r.first_error}")
        if r.first_user_error:
            lines.append(f"  {r.scenario}: first userError: {r.first_user_error}")
    return "\n".join(lines)


def _row(cells: list[str]) -> str:
    widths = [width for _, width in _COLUMNS]
    first = cells[0].ljust(widths[0])
    rest = (cell.rjust(width + 1) for cell, width in zip(cells[1:], widths[1:], strict=True))
    return (first + "".join(rest)).rstrip()

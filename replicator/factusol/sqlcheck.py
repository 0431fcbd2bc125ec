"""What may be sent to FactuSOL: the Access-SQL checker, the stand-in's translation, and the statement record.

`check_access_sql` refuses what Access would reject (LIMIT, upserts, back-ticks, date literals, three JOINs...)
before a statement reaches the driver; `translate_for_sqlite` turns the few Access-only forms we allow into SQLite
for the stand-in; every statement is recorded in `STATEMENT_LOG` (and handed to `STATEMENT_HOOKS`), so tests can
prove nothing Access would reject was ever sent.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import AccessSqlError


_DATE_LITERAL = re.compile(
    r"\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*"
)
# (pattern on the upper-cased statement with string literals blanked, message)
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), m)
    for p, m in [
        (r"\bLIMIT\b", "LIMIT does not exist in Access; use SELECT TOP n"),
        (r"\bOFFSET\b", "Access has no OFFSET; read everything and page in memory"),
        (r"\bFETCH\s+(FIRST|NEXT)\b", "FETCH FIRST/NEXT does not exist in Access"),
        (r"\bON\s+CONFLICT\b", "ON CONFLICT (upsert) does not exist in Access"),
        (r"\bON\s+DUPLICATE\s+KEY\b", "ON DUPLICATE KEY does not exist in Access"),
        (r"\bINSERT\s+OR\b", "INSERT OR REPLACE/IGNORE does not exist in Access"),
        (r"\bREPLACE\s+INTO\b", "REPLACE INTO does not exist in Access"),
        (r"\bINSERT\s+IGNORE\b", "INSERT IGNORE does not exist in Access"),
        (r"\bUPSERT\b|\bMERGE\s+INTO\b", "MERGE/UPSERT does not exist in Access"),
        (r"\bRETURNING\b", "RETURNING does not exist in Access"),
        (r"`", "back-tick identifiers are MySQL; use [brackets]"),
        (r'"', "double-quoted identifiers/strings are rejected; use [brackets] and parameters"),
        (r"#", "#date# literals: pass dates as parameters (datetime objects)"),
        (r"!=", "Access uses <> not !="),
        (r"\|\|", "|| is not Access concatenation (&) and not portable"),
        (r"--|/\*", "Access SQL has no comments"),
        (r"::", "::type casts do not exist in Access"),
        (r"\bCAST\s*\(", "CAST does not exist in Access (CStr/CLng/CCur)"),
        (r"\b(COALESCE|IFNULL|NULLIF|NVL)\s*\(", "COALESCE/IFNULL/NULLIF do not exist in Access (IIf/Nz)"),
        (r"\bCASE\b", "CASE does not exist in Access SQL (IIf/Switch)"),
        (
            r"\b(SUBSTR|SUBSTRING|LENGTH|CHAR_LENGTH|CONCAT|GROUP_CONCAT|STRING_AGG|UNICODE|ASCII)\s*\(",
            "not an Access function (Mid/Len/Asc/&)",
        ),
        (
            r"\b(STRFTIME|JULIANDAY|DATETIME|DATE_FORMAT|TO_CHAR)\s*\(",
            "not an Access date function; pass dates as parameters",
        ),
        (
            r"\bCURRENT_(DATE|TIME|TIMESTAMP)\b",
            "CURRENT_DATE/TIMESTAMP do not exist in Access; pass dates as parameters",
        ),
        (r"\bILIKE\b", "ILIKE does not exist in Access"),
        (r"\bIF\s+(NOT\s+)?EXISTS\b", "IF [NOT] EXISTS is not Access DDL"),
        (r"\bTRUNCATE\b", "TRUNCATE does not exist in Access; use DELETE FROM"),
        (
            r"\bFULL\s+(OUTER\s+)?JOIN\b|\bCROSS\s+JOIN\b|\bNATURAL\s+JOIN\b",
            "Access supports only INNER/LEFT/RIGHT JOIN",
        ),
        (r"\bUSING\s*\(", "JOIN ... USING does not exist in Access"),
        (r"\bTOP\s*\?", "TOP takes a literal number in Access, not a parameter"),
        (r"%S|%\(|\$\d|(?<![:\w]):[A-Z_]\w*|@[A-Z_]\w*", "only ? placeholders work with the Access ODBC driver"),
    ]
]


def _blank_literals(sql: str) -> tuple[str, list[str]]:
    """The statement with every '...' literal replaced by '' and the list of literal contents."""
    out, literals, i, n = [], [], 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch != "'":
            out.append(ch)
            i += 1
            continue
        j, buf = i + 1, []
        while j < n:
            if sql[j] == "'":
                if j + 1 < n and sql[j + 1] == "'":
                    buf.append("'")
                    j += 2
                    continue
                break
            buf.append(sql[j])
            j += 1
        if j >= n:
            raise AccessSqlError(f"unterminated string literal: {sql!r}")
        literals.append("".join(buf))
        out.append("''")
        i = j + 1
    return "".join(out), literals


@functools.lru_cache(maxsize=2048)  # pure: the same statement text is checked once (batches repeat it)
def check_access_sql(sql: str) -> str:
    """Return ``sql`` unchanged if Access would accept it as far as we can tell cheaply, else raise AccessSqlError."""
    if not sql or not sql.strip():
        raise AccessSqlError("empty statement")
    skeleton, literals = _blank_literals(sql)
    for lit in literals:
        if _DATE_LITERAL.fullmatch(lit):
            raise AccessSqlError(f"literal date {lit!r}: pass dates as parameters (datetime objects): {sql!r}")
    # Bracketed identifiers are Access's own quoting: their contents are names, never keywords.
    upper = re.sub(r"\[[^\[\]]*\]", "[X]", skeleton).upper()
    if "[" in upper.replace("[X]", ""):
        raise AccessSqlError(f"unbalanced [brackets]: {sql!r}")
    body = upper.rstrip().rstrip(";")
    if ";" in body:
        raise AccessSqlError(f"one statement per call; Access ODBC rejects batches: {sql!r}")
    for pattern, message in _RULES:
        if pattern.search(upper):
            raise AccessSqlError(f"{message}: {sql!r}")
    joins = len(re.findall(r"\bJOIN\b", upper))
    if joins >= 3:
        raise AccessSqlError(f"three or more JOINs fail through Access ODBC ('query too complex'); use EXISTS: {sql!r}")
    if joins == 2 and not re.search(r"\bFROM\s*\(", upper):
        raise AccessSqlError(f"Access needs parentheses around the first JOIN when joining three tables: {sql!r}")
    return sql


_TOP = re.compile(r"^(\s*SELECT\s+(?:DISTINCT\s+)?)TOP\s+(\d+)\s+", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def translate_for_sqlite(sql: str) -> str:
    """Rewrite the Access-only forms we allow into SQLite for the stand-in (after the Access check passed).  Cached:
    a scan sends the same statements again and again (a page sums' statement over F_ART took 0.3 ms to rewrite)."""
    m = _TOP.match(sql)
    if m:
        sql = (m.group(1) + sql[m.end() :]).rstrip().rstrip(";") + f" LIMIT {m.group(2)}"
    if _LEN.search(sql):  # Access's Len() is SQLite's length()
        sql = _LEN.sub("LENGTH(", sql)
    if _TEXT_OPS.search(sql):  # page sums' fingerprints (pages.py), row prints (stamped.py); not in a literal or [name]
        sql = _RIGHT1.sub(r"SUBSTR(\1, -1, 1)", sql)  # Right([X], 1): the last character
        sql = "".join(part if part[:1] in ("'", "[") else _text_ops(part) for part in _QUOTED.split(sql))
    return sql


_LEN = re.compile(r"\bLEN\(", re.IGNORECASE)
_TEXT_OPS = re.compile(r"\b(?:ASC|RIGHT|CHR)\(|&", re.IGNORECASE)
_QUOTED = re.compile(r"('(?:[^']|'')*'|\[[^\]]*\])")
_RIGHT1 = re.compile(r"\bRIGHT\((\[[^\]]*\]), 1\)", re.IGNORECASE)
_ASC = re.compile(r"\bASC\(", re.IGNORECASE)
_CHR = re.compile(r"\bCHR\(", re.IGNORECASE)


def _text_ops(sql: str) -> str:
    # Asc -> unicode (the code of the first character), Chr -> char, & -> ||
    return _CHR.sub("CHAR(", _ASC.sub("UNICODE(", sql)).replace("&", "||")


# --------------------------------------------------------------------------------------------------------------------
# Statement recorder


@dataclass(frozen=True)
class StatementRecord:
    seq: int
    sql: str  # the Access SQL as the caller wrote it
    sent: bool  # False when the checker refused it (it never reached the driver)
    error: str = ""


# Bounded so a long-running replicator does not grow without limit; tests read it, hooks see everything.
STATEMENT_LOG: deque[StatementRecord] = deque(maxlen=100_000)
STATEMENT_HOOKS: list[Callable[[StatementRecord], None]] = []
_SEQ = itertools.count(1)


def record_statement(sql: str, sent: bool, error: str = "") -> StatementRecord:
    rec = StatementRecord(next(_SEQ), sql, sent, error)
    STATEMENT_LOG.append(rec)
    for hook in list(STATEMENT_HOOKS):
        hook(rec)
    return rec


def last_statement_seq() -> int:
    return STATEMENT_LOG[-1].seq if STATEMENT_LOG else 0

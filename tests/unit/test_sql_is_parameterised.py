"""Parameterised SQL, statically: no SQL text in include/ is built from variables.

Every query goes through SQLAlchemy Core (values bound as parameters). A raw `sa.text(...)`,
`execute(...)` or `exec_driver_sql(...)` whose SQL is an f-string, a `%` format, a `.format()`
call, a `+` concatenation with anything but literals, or a variable handed to `text()` is a finding, unless it is allowlisted
below with its reason. The dynamic counterpart (injection strings through every value that
reaches the store) is in tests/integration/test_what_people_see.py.
"""

from __future__ import annotations

import ast

from tests.pipeline import ROOT

INCLUDE = ROOT / "include" / "followthrough"
SQL_CALLS = {"text", "execute", "exec_driver_sql"}
# (path relative to include/followthrough, the SQL's first characters): why it is safe
ALLOWLIST = {
    ("deploy.py", 'f"CREATE DATABASE {quoted}"'):
        "an identifier cannot be a bound parameter; `quoted` is the database name quoted by the dialect's "
        "identifier preparer, and the name comes from the operator's own Connection, not from tracker data",
    ("store/bulk.py", "sql"):
        "the SQL text of a SQLAlchemy Core statement compiled by SQLAlchemy (positional parameters); the "
        "values go to the driver as parameters beside it (SQLite bulk path, see bulk._execute_rows)",
}


def _built_from_variables(node: ast.expr) -> bool:
    """SQL text assembled at run time from something other than literals."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return not (isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant))
    return bool(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format")


def dynamic_sql(source: str, name: str) -> list[tuple[str, int, str]]:
    """(file, line, SQL source) of every SQL call whose text is built from variables."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if called not in SQL_CALLS:
            continue
        if called == "text" and isinstance(func, ast.Attribute) and not (
                isinstance(func.value, ast.Name) and func.value.id in ("sa", "sqlalchemy")):
            continue  # another library's text(), e.g. matplotlib's ax.text
        argument = node.args[0]
        if called == "execute" and isinstance(argument, ast.Call):  # execute(sa.text(...)) is checked as text(...)
            continue
        if _built_from_variables(argument) or (called in ("text", "exec_driver_sql") and isinstance(argument, ast.Name)):
            found.append((name, node.lineno, ast.get_source_segment(source, argument) or ""))
    return sorted(found)


def test_no_sql_in_include_is_built_from_variables() -> None:
    findings = []
    for path in sorted(INCLUDE.rglob("*.py")):
        for name, line, sql in dynamic_sql(path.read_text(), str(path.relative_to(INCLUDE))):
            if (name, sql[:60]) not in {(f, s[:60]) for f, s in ALLOWLIST}:
                findings.append(f"{name}:{line}: {sql}")
    assert not findings, "SQL built from variables (bind parameters instead, or allowlist with a reason):\n" + \
        "\n".join(findings)


def test_every_allowlisted_statement_still_exists() -> None:
    """A stale allowlist entry would hide a new statement of the same shape: each must still be there."""
    for name, sql in ALLOWLIST:
        found = [s for _, _, s in dynamic_sql((INCLUDE / name).read_text(), name)]
        assert sql in found, f"{name}: {sql} is allowlisted but gone"


def test_the_check_sees_each_way_of_building_sql() -> None:
    source = '''
import sqlalchemy as sa
def f(connection, team, table):
    connection.execute(sa.text(f"SELECT * FROM ft_findings WHERE team_id = '{team}'"))
    connection.execute(sa.text("SELECT * FROM ft_findings WHERE team_id = '%s'" % team))
    connection.execute(sa.text("SELECT * FROM " + table))
    connection.exec_driver_sql("DELETE FROM {}".format(table))
    connection.execute("SELECT 1 FROM t WHERE a = '" + team + "'")
    connection.execute(sa.text("SELECT * FROM ft_findings WHERE team_id = :team"), {"team": team})
    connection.execute(sa.text("SELECT " "1"))
    query = f"DROP TABLE {table}"
    connection.execute(sa.text(query))
'''
    assert [line for _, line, _ in dynamic_sql(source, "x.py")] == [4, 5, 6, 7, 8, 12]

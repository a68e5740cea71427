"""Disclosure control for theme tables: primary and complementary cell suppression.

*Primary* suppression hides every cell with fewer than ``min_cell`` participants (zeros
included). That alone is not enough: a table publishes its margins, and a hidden cell can follow
from them — with a Total of 11 = Kazakhstan 3 + Russia 4 and four single-expert countries
hidden, each of the four must be 1. *Complementary* suppression hides further cells until no
hidden cell can be worked out.

"Worked out" is decided by an attacker who knows everything the table publishes and solves
the integer program it implies (:func:`cell_ranges`, with SciPy's MILP solver, HiGHS): for each
hidden cell ``x`` the smallest and largest value consistent with

- the margins: along a row, the groups add up to the Total column (when every participant is
  in exactly one group, i.e. the groups' N add up to the Total's N; segments always do);
- the group sizes: ``0 <= x <= N`` of its group (the attacker is not told which hidden cells
  are small: all are shown the same way);
- the table's structure: the "any" row is at least every other row and at most their sum;
  at code level a code is at least each of its sub-codes.

A cell whose smallest and largest possible values are equal is *exposed*. While one is, the
smallest published cell of its row is hidden as well (a group, else the row's Total),
preferring a cell that protects it at once. Every hidden cell is shown the same way
(:data:`MARK`, "[c]" as the UK Government Statistical Service writes confidential cells), so a
reader cannot tell a small cell from a complementary one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from coder.reports.frequencies import ThemeTable

MARK = "[c]"

Cell = tuple[str, str]          # (group, key)


@dataclass
class Layout:
    """What the attacker sees: groups (last: the Total column), rows (last: the any row),
    each group's base, every cell's value, and the structure of the rows."""

    groups: list[str]
    total: str
    keys: list[str]
    any_key: str
    base: dict[str, int]
    value: dict[Cell, int]
    parents: dict[str, str]             # code → parent code (code level)
    top: list[str]                      # the keys the any row sums over (themes)

    @property
    def additive(self) -> bool:
        return sum(self.base[g] for g in self.groups) == self.base[self.total]


class _Model:
    """The attacker's integer program for one set of hidden cells."""

    def __init__(self, layout: Layout, hidden: set[Cell]):
        import numpy as np
        from scipy.optimize import Bounds, LinearConstraint

        self.layout = layout
        self.order = sorted(hidden)
        self.index = {c: i for i, c in enumerate(self.order)}
        n = len(self.order)
        rows_a: list = []
        lo: list[float] = []
        hi: list[float] = []

        def add(terms: list[tuple[float, Cell]], low: float, high: float) -> None:
            """Σ coef·cell within [low, high]; published cells move to the bounds."""
            a = np.zeros(n)
            const = 0.0
            for coef, cell in terms:
                if cell in self.index:
                    a[self.index[cell]] += coef
                else:
                    const += coef * layout.value[cell]
            if a.any():
                rows_a.append(a)
                lo.append(low - const)
                hi.append(high - const)

        columns = [*layout.groups, layout.total]
        keys = [*layout.keys, layout.any_key]
        upper = 0 if layout.additive else np.inf   # else: the Total is at most the sum
        for k in keys:
            add([(1.0, (g, k)) for g in layout.groups] + [(-1.0, (layout.total, k))], 0, upper)
        for g in columns:
            for k in layout.keys:
                add([(1.0, (g, layout.any_key)), (-1.0, (g, k))], 0, np.inf)
                parent = layout.parents.get(k)
                if parent is not None:
                    add([(1.0, (g, parent)), (-1.0, (g, k))], 0, np.inf)
            add([(1.0, (g, k)) for k in layout.top] + [(-1.0, (g, layout.any_key))], 0, np.inf)
        self.bounds = Bounds(np.zeros(n),
                             np.array([float(layout.base[c[0]]) for c in self.order]))
        from scipy.sparse import csr_array

        self.constraints = ([LinearConstraint(csr_array(np.array(rows_a)), lo, hi)]
                            if rows_a else [])
        self.true = np.array([float(layout.value[c]) for c in self.order])

    def solve(self, objective) -> "list[int] | None":
        """An integer solution minimising ``objective`` (None if the solver fails).

        The LP relaxation first: an integral LP optimum is an integer optimum too (the LP
        bound is never worse); only a fractional one needs the MILP solver."""
        import numpy as np
        from scipy.optimize import milp

        n = len(self.order)
        for integrality in (np.zeros(n), np.ones(n)):
            res = milp(objective, constraints=self.constraints, bounds=self.bounds,
                       integrality=integrality)
            if res.status != 0:
                return None
            if np.allclose(res.x, np.round(res.x), atol=1e-7):
                return [int(round(v)) for v in res.x]
        return None

    def moved(self, solution: "list[int] | None") -> set[Cell]:
        """The cells a solution gives another value than the true one."""
        if solution is None:            # cannot happen for a true table: treat as protected
            return set(self.order)
        return {c for c, v, t in zip(self.order, solution, self.true) if v != t}

    def unit(self, cell: Cell, sign: float):
        import numpy as np

        c = np.zeros(len(self.order))
        c[self.index[cell]] = sign
        return c

    def range_of(self, cell: Cell) -> tuple[int, int]:
        lo = self.solve(self.unit(cell, 1.0))
        hi = self.solve(self.unit(cell, -1.0))
        if lo is None or hi is None:
            return (0, self.layout.base[cell[0]])
        i = self.index[cell]
        return lo[i], hi[i]

    def pinned(self, cells: Iterable[Cell]) -> list[Cell]:
        """Of ``cells``, those every solution gives their true value. A cell another value in
        any solution found on the way is free, which saves most solves."""
        import numpy as np

        todo = [c for c in cells if c in self.index]
        free: set[Cell] = set()
        rng = np.random.default_rng(0)          # deterministic: the same table, the same cells
        while len([c for c in todo if c not in free]) > 1:
            left = [c for c in todo if c not in free]
            weights = np.zeros(len(self.order))
            for c in left:
                weights[self.index[c]] = rng.choice((-1.0, 1.0))
            before = len(free)
            for sign in (1.0, -1.0):
                free |= self.moved(self.solve(sign * weights))
            if len(free) == before:
                break
        out = []
        for cell in todo:
            if cell in free:
                continue
            for sign in (-1.0, 1.0):
                moved = self.moved(self.solve(self.unit(cell, sign)))
                free |= moved
                if cell in moved:
                    break
            else:
                out.append(cell)
        return out


def cell_ranges(layout: Layout, hidden: set[Cell], cells: Iterable[Cell] | None = None
                ) -> dict[Cell, tuple[int, int]]:
    """The smallest and largest value of each hidden cell (or of ``cells``) that the
    published table allows (see the module docstring)."""
    if not hidden:
        return {}
    model = _Model(layout, hidden)
    return {c: model.range_of(c) for c in (model.order if cells is None else cells)}


def exposed(layout: Layout, hidden: set[Cell]) -> list[Cell]:
    """Hidden cells whose value the published table determines."""
    if not hidden:
        return []
    return _Model(layout, hidden).pinned(sorted(hidden, key=lambda c: (c[1], c[0])))


def _options(layout: Layout, hidden: set[Cell], target: Cell) -> list[Cell]:
    """Cells to hide for ``target``: the published groups of its row, smallest first, then
    the row's Total; failing those, the smallest published cells of its column."""
    group, key = target
    options = [c for _v, _i, c in sorted(
        (layout.value[(g, key)], i, (g, key)) for i, g in enumerate(layout.groups)
        if (g, key) not in hidden)]
    if (layout.total, key) not in hidden:
        options.append((layout.total, key))
    if not options:
        options = sorted((c for c in layout.value if c[0] == group and c not in hidden),
                         key=lambda c: (layout.value[c], c))
    return options


def protect(layout: Layout, primary: set[Cell]) -> set[Cell]:
    """Primary cells plus the complementary ones that leave none of them exposed."""
    hidden = set(primary)
    while hidden:
        open_cells = exposed(layout, hidden)
        if not open_cells:
            break
        fallback, progress = None, False
        for target in open_cells:
            if progress and not _Model(layout, hidden).pinned([target]):
                continue            # freed by a cell hidden for an earlier one
            options = _options(layout, hidden, target)
            fallback = fallback or (options[0] if options else None)
            fix = next((o for o in options
                        if not _Model(layout, hidden | {o}).pinned([target])), None)
            if fix is not None:
                hidden.add(fix)
                progress = True
        if not progress:
            if fallback is None:
                break           # everything that could be hidden is
            hidden.add(fallback)
    return hidden


def table_layout(table: "ThemeTable") -> Layout:
    """The attacker's view of a theme table (see :class:`Layout`)."""
    from coder.reports.frequencies import ANY, TOTAL

    columns = [*table.groups, TOTAL]
    keys = list(table.keys)
    key_set = set(keys)
    value = {(g, k): table.count(g, k) for g in columns for k in [*keys, ANY]}
    parents = {k: k.rsplit(".", 1)[0] for k in keys
               if "." in k and k.rsplit(".", 1)[0] in key_set}
    top = [k for k in keys if "." not in k]
    return Layout(groups=list(table.groups), total=TOTAL, keys=keys, any_key=ANY,
                  base={g: table.base(g) for g in columns}, value=value, parents=parents,
                  top=top)


def suppress_table(table: "ThemeTable") -> set[Cell]:
    """The cells of ``table`` to hide: those under ``min_cell`` participants and their
    complements (see the module docstring)."""
    from coder.reports.frequencies import ANY, TOTAL

    assert table.min_cell is not None
    primary = {(g, k) for g in [*table.groups, TOTAL] for k in [*table.keys, ANY]
               if table.cells[(g, k)].participants < table.min_cell}
    return protect(table_layout(table), primary)


def suppression_note(table: "ThemeTable") -> str:
    """The table note: what the mark means and how the hidden cells were chosen."""
    k = table.min_cell
    primary = sum(1 for (g, key) in table.hidden if table.cells[(g, key)].participants < k)
    note = f"{MARK}: not shown — fewer than {k} participants, which could identify a person"
    if len(table.hidden) > primary:
        note += ", or hidden with such cells so that they cannot be worked out from the totals"
    return note + ("; no hidden cell follows from the published totals and group sizes "
                   "(complementary suppression)")

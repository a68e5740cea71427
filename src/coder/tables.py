"""Reading the tables users give us — codings sheets and participants files — as CSV, TSV or XLSX.

What spreadsheet programs really write is read without asking:

- **Encoding**: UTF-8 (with or without BOM) and UTF-16 with BOM (Excel's "Unicode Text") are
  recognized; anything else needs ``encoding`` (``--encoding cp1252`` for Excel on Windows),
  and the message says so, with the line of the first undecodable byte.
- **Delimiter**: comma, tab, semicolon (Excel in much of Europe) or ``|``, chosen by which one
  splits the header row into the columns we need; when none does, the message shows the header
  as it was seen.
- **XLSX** is checked as a ZIP archive first (:func:`coder.safeio.check_office_zip`) and then
  read by calamine (Rust), which reads the cells that exist: the sheet's declared dimension is
  not trusted, and the rows and cells read are capped (:data:`MAX_ROWS`, :data:`MAX_CELLS`).

Refused with a one-line error naming the file and line: NUL bytes (a binary file, not text),
a field longer than :data:`MAX_FIELD` characters (usually one unclosed quote swallowing the rest
of the file: the message names the line where the field starts), a column named twice in the
header, a file over :data:`MAX_BYTES`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from coder.errors import InputError
from coder.safeio import check_office_zip

MAX_FIELD = 131_072           # characters in one cell (Python's csv default, made explicit)
MAX_BYTES = 256 * 2**20       # a table file
MAX_ROWS = 2_000_000
MAX_CELLS = 5_000_000
DELIMITERS = (",", "\t", ";", "|")
_NAMES = {",": "commas", "\t": "tabs", ";": "semicolons", "|": "bars"}


@dataclass
class Table:
    """``header`` (stripped, as written) and ``rows``: (row number in the file, cells)."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]


def read_table(path: str | Path, *, what: str, required: tuple[str, ...],
               encoding: str | None = None, fix: str, lower: bool = True) -> Table:
    """Read a CSV/TSV/XLSX table whose header must name ``required`` columns.

    ``what`` names the file in messages ("codings file"); ``fix`` says how to write a good one.
    With ``lower`` the header is matched case-insensitively (and returned lower-cased).
    """
    from coder.fileio import read_input

    path = Path(path)
    data = read_input(path, what, "check the path")
    if len(data) > MAX_BYTES:
        raise InputError(path, f"the {what} is {len(data):,} bytes (more than "
                         f"{MAX_BYTES // 2**20} MB), refused", "split it into smaller files")
    if path.suffix.lower() in (".xlsx", ".xlsm") or data[:4] == b"PK\x03\x04":
        cells = _xlsx_cells(path, data)
        table, delimiter = [(n, row) for n, row in enumerate(cells, start=1)], None
    elif data[:4] == b"\xd0\xcf\x11\xe0":
        raise InputError(path, f"an old Excel (.xls) or Word file, not a {what}",
                         "save it as .xlsx or as CSV UTF-8 and import that")
    else:
        text = decode_table(path, data, encoding, what)
        table, delimiter = _csv_rows(path, text, required, lower)
    if not table or not any(h.strip() for h in table[0][1]):
        raise InputError(path, "empty file, no header row", fix, line=1)
    line, raw_header = table[0]
    header = [h.strip().lower() if lower else h.strip() for h in raw_header]
    _check_header(path, header, required, raw_header, fix, line, delimiter)
    return Table(path, header, [(n, row) for n, row in table[1:]
                                if any(cell.strip() for cell in row)])


def decode_table(path: Path, data: bytes, encoding: str | None, what: str) -> str:
    """Bytes of a text table → str with ``\\n`` line ends (the csv module handles quotes)."""
    if encoding:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise InputError(path, f"unknown encoding {encoding!r}",
                             "give a codec name such as cp1252, cp1251 or latin-1") from None
        except UnicodeDecodeError as exc:
            raise InputError(path, f"byte 0x{data[exc.start]:02x} cannot be read as "
                             f"{encoding}", "check the --encoding value",
                             line=data.count(b"\n", 0, exc.start) + 1) from None
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(path, "broken UTF-16 text", "save the file again as CSV UTF-8") \
                from None
    else:
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        if b"\x00" in data:
            head = data[:1024]
            if len(head) >= 8 and head[1::2].count(0) >= 0.9 * len(head[1::2]):
                raise InputError(path, "UTF-16 text without a byte-order mark",
                                 "pass --encoding utf-16-le, or save it as CSV UTF-8")
            where = data.index(b"\x00")
            raise InputError(path, f"a NUL byte at offset {where:,}: a binary file, not a "
                             f"CSV or TSV {what}", "save the sheet as .xlsx or as CSV UTF-8 "
                             "and import that", line=data.count(b"\n", 0, where) + 1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(path, f"byte 0x{data[exc.start]:02x} is not UTF-8",
                             "pass --encoding cp1252 (Excel on Windows; cp1251 for Cyrillic), "
                             "or save the sheet as CSV UTF-8",
                             line=data.count(b"\n", 0, exc.start) + 1) from None
    if "\x00" in text:
        at = text.index("\x00")
        raise InputError(path, f"a NUL character: a binary file, not a CSV or TSV {what}",
                         "save the sheet as .xlsx or as CSV UTF-8 and import that",
                         line=text.count("\n", 0, at) + 1)
    return text.lstrip("\ufeff")


def sniff_delimiter(header_line: str, required: tuple[str, ...], lower: bool = True) -> str:
    """The delimiter that splits ``header_line`` into the most ``required`` columns (ties: the
    most columns, then the order of :data:`DELIMITERS`)."""
    def score(delimiter: str) -> tuple[int, int]:
        try:
            cells = next(csv.reader([header_line], delimiter=delimiter))
        except (csv.Error, StopIteration):
            return (0, 0)
        names = {c.strip().lower() if lower else c.strip() for c in cells}
        return (sum(1 for r in required if r in names), len(cells))

    return max(DELIMITERS, key=lambda d: (*score(d), -DELIMITERS.index(d)))


def _csv_rows(path: Path, text: str, required: tuple[str, ...], lower: bool
              ) -> tuple[list[tuple[int, list[str]]], str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = text.split("\n", 1)[0]
    delimiter = sniff_delimiter(first, required, lower)
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problem = str(exc)
            if "field larger than field limit" in problem:
                raise InputError(path, f"a field longer than {MAX_FIELD:,} characters starts "
                                 "here — usually a quote (\") that is never closed",
                                 "close or remove the stray quote on this line",
                                 line=start) from None
            raise InputError(path, f"not readable as CSV ({problem})",
                             "save the sheet again as CSV UTF-8", line=start) from None
        rows.append((start, row))
        if len(rows) > MAX_ROWS:
            raise InputError(path, f"more than {MAX_ROWS:,} rows, refused",
                             "split the file", line=start)
        start = reader.line_num + 1
    return rows, delimiter


def _check_header(path: Path, header: list[str], required: tuple[str, ...],
                  raw: list[str], fix: str, line: int, delimiter: str | None) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if not name:
            continue
        if name in seen:
            raise InputError(path, f"column {name!r} appears twice in the header (columns "
                             f"{seen[name]} and {i})", "rename or remove one of them",
                             line=line)
        seen[name] = i
    missing = [c for c in required if c not in seen]
    if missing:
        shown = ", ".join(repr(h) for h in raw[:8]) + (", …" if len(raw) > 8 else "")
        how = f" separated by {_NAMES[delimiter]}" if delimiter else ""
        what = (f"no `{missing[0]}` column" if len(required) == 1
                else f"missing column(s) {', '.join(missing)}")
        raise InputError(path, f"{what} (the header row reads {len(raw)} column(s){how}: "
                         f"{shown})", fix, line=line)


def _xlsx_cells(path: Path, data: bytes) -> list[list[str]]:
    """The first sheet's cells as text, read by calamine within the caps."""
    fix = "open it in Excel or LibreOffice and save it again as .xlsx (or as CSV UTF-8)"
    check_office_zip(path, data, "XLSX file", fix)
    _check_span(path, data)
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - a declared dependency
        raise InputError(path, "reading XLSX needs python-calamine",
                         "pip install python-calamine, or save the sheet as CSV") from None
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = workbook.sheet_names
        if not names:
            raise InputError(path, "the XLSX file has no sheet", fix)
        sheet = workbook.get_sheet_by_index(0)
        height, width = sheet.height, sheet.width
        if height * max(width, 1) > MAX_CELLS or height > MAX_ROWS:
            raise InputError(path, f"the first sheet spans {height:,} rows × {width:,} "
                             f"columns (more than {MAX_CELLS:,} cells), refused",
                             "delete the unused rows and columns, or save the sheet as CSV")
        rows = []
        for row in sheet.iter_rows():
            rows.append([_cell_text(v) for v in row])
    except InputError:
        raise
    except Exception as exc:  # calamine raises its own error types for broken files
        raise InputError(path, f"not a readable XLSX file ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:200] if str(exc) else ''})", fix) from None
    return rows


_CELL_REF = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*[\"']([A-Za-z]{1,3})"
                       rb"([0-9]{1,9})[\"']")
_ROW_REF = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?\br\s*=\s*[\"']([0-9]{1,9})[\"']")
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")


def _check_span(path: Path, data: bytes) -> None:
    """Refuse a sheet whose cells span more than :data:`MAX_CELLS` (calamine allocates the
    whole rectangle from the first to the last cell), found from the cells' own ``r``
    references in the sheet XML, never from its ``<dimension>``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            name = info.filename.replace("\\", "/").lower()
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            xml = archive.read(info)  # sizes were checked by check_office_zip
            rows = max((int(m) for m in _ROW_REF.findall(xml)), default=0)
            cols = 0
            for letters, number in _CELL_REF.findall(xml):
                rows = max(rows, int(number))
                col = 0
                for ch in letters.upper():
                    col = col * 26 + ch - 64
                cols = max(cols, col)
            cells = len(_CELL.findall(xml))
            if rows * max(cols, 1) > MAX_CELLS or cells > MAX_CELLS or rows > MAX_ROWS:
                raise InputError(path, f"a sheet spans {rows:,} rows × {cols:,} columns "
                                 f"({cells:,} cells written; more than {MAX_CELLS:,} cells), "
                                 "refused", "delete the unused rows and columns, or save the "
                                 "sheet as CSV")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)

"""XML reading with line numbers, for error messages that point into the robot file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

import numpy as np

from ._description import file_error

__all__ = ["XmlDoc", "parse_xml"]


class XmlDoc:
    """An element tree plus the source line of every element."""

    def __init__(self, path: Path, root: ET.Element, lines: dict[int, tuple[Path, int]]) -> None:
        self.path = path
        self.root = root
        self._lines = lines
        # Keep the elements alive: ``lines`` is keyed by id().
        self._elements = list(root.iter())

    def absorb(self, other: XmlDoc) -> None:
        """Take over the source locations of ``other``'s elements (for ``<include>``)."""
        self._lines.update(other._lines)
        self._elements.extend(other._elements)

    def where(self, element: ET.Element) -> tuple[Path, int | None]:
        """File and line ``element`` was read from."""
        return self._lines.get(id(element), (self.path, None))

    def error(self, element: ET.Element, message: str):
        """A :class:`RobotFileError` naming the file, the element's line, tag and name."""
        name = element.get("name")
        desc = f"<{element.tag} name={name!r}>" if name else f"<{element.tag}>"
        path, line = self.where(element)
        return file_error(path, line, desc, message)

    def floats(
        self, element: ET.Element, attr: str, count: int | tuple[int, ...] | None = None
    ) -> np.ndarray | None:
        """Attribute ``attr`` as float64 numbers (``None`` when absent); checks the count."""
        text = element.get(attr)
        if text is None:
            return None
        return self.parse_floats(element, attr, text, count)

    def parse_floats(
        self, element: ET.Element, attr: str, text: str, count: int | tuple[int, ...] | None
    ) -> np.ndarray:
        """Parse ``text`` (the value of ``attr``) as numbers, naming the element on failure."""
        try:
            values = np.array([float(t) for t in text.split()], dtype=np.float64)
        except ValueError:
            raise self.error(element, f"attribute {attr}={text!r}: expected numbers") from None
        allowed = (count,) if isinstance(count, int) else count
        if allowed is not None and values.size not in allowed:
            expected = " or ".join(str(c) for c in allowed)
            raise self.error(
                element,
                f"attribute {attr}={text!r}: expected {expected} numbers, got {values.size}",
            )
        if not np.all(np.isfinite(values)):
            raise self.error(element, f"attribute {attr}={text!r}: expected finite numbers")
        return values


def parse_xml(path: Path) -> XmlDoc:
    """Read ``path`` into an :class:`XmlDoc`; malformed XML raises with the line number."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise file_error(path, None, "file", f"cannot be read ({exc.strerror})") from None
    lines: dict[int, tuple[Path, int]] = {}
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()

    def start(tag: str, attrs: dict[str, str]) -> None:
        elem = builder.start(tag, attrs)
        lines[id(elem)] = (path, parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
        root = builder.close()
    except expat.ExpatError as exc:
        raise file_error(path, exc.lineno, "XML", f"malformed XML ({exc})") from None
    return XmlDoc(path, root, lines)

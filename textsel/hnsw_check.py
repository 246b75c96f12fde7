"""Check an hnswlib graph file's structure before hnswlib reads it.

hnswlib trusts its input: a graph whose link ids point past the last element, or whose upper-level lists are
longer than their header says, makes ``load_index`` or a later search read outside its buffers and crash the
process (SIGSEGV). Checksums only catch damage, not a file made that way on purpose, so a project received from
someone else could crash the reader. :func:`check_hnsw_graph` parses the file as hnswlib 0.8 writes it
(``HierarchicalNSW::saveIndex``) and refuses anything hnswlib could not read safely: header fields that disagree
with the index settings, an element count or file length that disagrees with the header, a neighbour count over
the layer's maximum, a link id out of range or to an element without that layer, an entry point that is not on
the top layer, and labels (document ids) or deletion marks that differ from the index's id files. It reads the
level-0 block in chunks through a memory map, so checking costs one pass over the file.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np

from textsel.errors import DataError

# offsetLevel0, max_elements, cur_element_count, size_data_per_element, label_offset, offsetData (size_t),
# maxlevel (int), enterpoint_node (uint32), maxM, maxM0, M (size_t), mult (double), ef_construction (size_t)
_HEADER = struct.Struct("<QQQQQQiIQQQdQ")
_UINT32 = struct.Struct("<I")
_MAX_LEVEL = 64  # hnswlib draws levels as -ln(U) * mult; 64 is far beyond any real graph
_CHUNK = 65_536


def check_hnsw_graph(path: str | Path, *, dim: int, M: int, count: int, ids: np.ndarray,  # noqa: N803 - hnswlib's M
                     deleted: np.ndarray | None = None, fix: str = "rebuild the index") -> None:
    """Raise DataError (naming ``path`` and ``fix``) unless the graph at ``path`` is one hnswlib can read safely
    and it holds exactly ``count`` elements labeled ``ids`` (``deleted``: the ids marked deleted), for vectors of
    ``dim`` floats and degree ``M``."""
    path = Path(path)

    def refuse(what: str) -> DataError:
        return DataError(f"the index graph is not one hnswlib could read safely ({what}); {fix}", file=str(path))

    if not all(isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**40
               for value in (dim, M, count)) or dim < 1 or M < 2:
        raise refuse(f"its settings are not sizes: dim {dim!r}, M {M!r}, count {count!r}")

    data = np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.zeros(0, np.uint8)
    if len(data) < _HEADER.size:
        raise refuse("shorter than its header")
    (offset_level0, _max_elements, elements, size_per_element, label_offset, offset_data, max_level, entry,
     max_m, max_m0, m, mult, _ef_construction) = _HEADER.unpack(bytes(data[:_HEADER.size]))
    links0 = max_m0 * 4 + 4
    expected = {"offsetLevel0": (offset_level0, 0), "elements": (elements, count), "maxM": (max_m, M),
                "maxM0": (max_m0, 2 * M), "M": (m, M), "offsetData": (offset_data, links0),
                "label_offset": (label_offset, links0 + 4 * dim), "size_data_per_element": (size_per_element,
                                                                                            links0 + 4 * dim + 8)}
    for name, (found, wanted) in expected.items():
        if found != wanted:
            raise refuse(f"header field {name} is {found}, the index settings need {wanted}")
    if not 0 <= max_level < _MAX_LEVEL or not math.isfinite(mult) or (count and entry >= count):
        raise refuse(f"header: top level {max_level}, entry point {entry} of {count} elements")
    if len(ids) != count:
        raise refuse(f"{len(ids)} ids for {count} elements")
    level0_end = _HEADER.size + count * size_per_element
    if len(data) < level0_end:
        raise refuse("the file ends inside the level-0 block")
    labels, marked = _check_level0(data, count, size_per_element, max_m0, label_offset, refuse)
    if not np.array_equal(np.sort(labels), np.sort(np.asarray(ids, dtype=np.uint64))):
        raise refuse("its labels differ from the index's id file")
    if deleted is not None and not np.array_equal(np.sort(labels[marked]), np.sort(np.asarray(deleted, np.uint64))):
        raise refuse("its deletion marks differ from the index's deleted-id file")
    levels, lists = _read_upper_levels(data, level0_end, count, max_m * 4 + 4, max_level, refuse)
    if count and levels[entry] != max_level:
        raise refuse(f"the entry point is on level {levels[entry]}, not on the top level {max_level}")
    for level, block in lists.items():
        _check_links(block, max_m, count, refuse, levels=levels, level=level)


def _check_level0(data: np.ndarray, count: int, size_per_element: int, max_m0: int, label_offset: int,
                  refuse) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001 - refuse: a function making the error
    """Check every level-0 neighbour list; return the labels and the deletion marks (booleans)."""
    labels, marked = np.empty(count, dtype=np.uint64), np.empty(count, dtype=bool)
    for start in range(0, count, _CHUNK):
        stop = min(count, start + _CHUNK)
        rows = np.asarray(data[_HEADER.size + start * size_per_element:_HEADER.size + stop * size_per_element])
        rows = rows.reshape(stop - start, size_per_element)
        _check_links(rows[:, :4 + 4 * max_m0], max_m0, count, refuse)
        marked[start:stop] = (rows[:, 2] & 1).astype(bool)
        labels[start:stop] = np.ascontiguousarray(rows[:, label_offset:label_offset + 8]).view("<u8")[:, 0]
    return labels, marked


def _read_upper_levels(data: np.ndarray, start: int, count: int, size_per_level: int, max_level: int,
                       refuse) -> tuple[np.ndarray, dict[int, np.ndarray]]:  # noqa: ANN001
    """Each element's level and, per level, the rows of its neighbour lists (as bytes, ``size_per_level`` wide);
    the file must end exactly after the last list."""
    levels = np.zeros(count, dtype=np.int64)
    rows: dict[int, list[tuple[int, int]]] = {}
    tail = bytes(data[start:])
    position = 0
    for element in range(count):
        if position + 4 > len(tail):
            raise refuse("the file ends inside the upper-level lists")
        (size,) = _UINT32.unpack_from(tail, position)
        position += 4
        if size:
            if size % size_per_level or size // size_per_level > max_level:
                raise refuse(f"element {element} has an upper-level block of {size} bytes")
            levels[element] = size // size_per_level
            for level in range(1, levels[element] + 1):
                rows.setdefault(level, []).append((element, position + (level - 1) * size_per_level))
            position += size
            if position > len(tail):
                raise refuse("the file ends inside the upper-level lists")
    if position != len(tail):
        raise refuse(f"{len(tail) - position} bytes follow the last list")
    buffer = np.frombuffer(tail, dtype=np.uint8)
    lists = {level: np.stack([buffer[offset:offset + size_per_level] for _, offset in entries])
             for level, entries in rows.items()}
    return levels, lists


def _check_links(rows: np.ndarray, max_links: int, count: int, refuse, *, levels: np.ndarray | None = None,  # noqa: ANN001
                 level: int = 0) -> None:
    """Rows of neighbour lists (a uint16 count, 2 flag bytes, then ``max_links`` uint32 ids): each count at most
    ``max_links``, each used id below ``count`` and, on upper levels, an element that has ``level``."""
    rows = np.ascontiguousarray(rows)
    sizes = rows[:, :2].view("<u2")[:, 0]
    if (sizes > max_links).any():
        raise refuse(f"a level-{level} list holds {int(sizes.max())} links, at most {max_links} fit")
    links = rows[:, 4:4 + 4 * max_links].view("<u4")
    used = links[np.arange(max_links)[None, :] < sizes[:, None]]
    if (used >= count).any():
        raise refuse(f"a level-{level} link points to element {int(used.max())} of {count}")
    if levels is not None and (levels[used.astype(np.int64)] < level).any():
        raise refuse(f"a level-{level} link points to an element without that level")

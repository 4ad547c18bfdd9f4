"""Zip-based files (.docx): refuse bombs before anything is inflated or parsed.

Three checks, each before the memory it guards is used: the number of entries is counted in
the raw central directory (``zipfile`` would build an object per entry first); the sizes the
directory declares are summed; then every entry is inflated as a stream and counted, since a
directory can lie about sizes. Nothing inflated is kept, so the check itself runs in a few
hundred kilobytes whatever the file holds.
"""

import io
import struct
import zipfile
import zlib

from supercore_core.errors import CorruptFileError, DocumentLimitError
from supercore_core.ingest.limits import IngestLimits, setting_name, size_text

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_CENTRAL = b"PK\x01\x02"
_READ = 64 * 1024


def check_zip(data: bytes, name: str, limits: IngestLimits) -> None:
    """Raise unless ``data`` is a zip within the entry and inflated-size limits.

    Raises:
        CorruptFileError: It is not a readable zip (or an entry fails its checksum).
        DocumentLimitError: Too many entries, or it inflates past ``max_inflated_bytes``.
    """
    start, end = _central_directory(data, name)
    entries = _count_entries(data, start, end, limits.max_zip_entries)
    if entries > limits.max_zip_entries:
        raise DocumentLimitError(
            f"{name} holds more than {limits.max_zip_entries:,} files inside, over the limit "
            f"({setting_name('max_zip_entries')}): it may be a zip bomb; re-save it in Word"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            _check_inflated(sum(i.file_size for i in infos), name, limits, streamed=False)
            _check_xml(sum(i.file_size for i in infos if _is_xml(i)), name, limits)
            inflated = 0
            for info in infos:
                inflated = _inflate(archive, info, inflated, name, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise CorruptFileError(
            f"{name} is not a readable Word document ({exc}): open it in Word and save it "
            "again as .docx"
        ) from exc


def _check_inflated(total: int, name: str, limits: IngestLimits, *, streamed: bool) -> None:
    if total > limits.max_inflated_bytes:
        size = (
            f"more than {size_text(limits.max_inflated_bytes)} (its zip directory says less)"
            if streamed
            else size_text(total)
        )
        raise DocumentLimitError(
            f"{name} unzips to {size}, over the {size_text(limits.max_inflated_bytes)} limit "
            f"({setting_name('max_inflated_bytes')}): it may be a zip bomb; split the document "
            "or raise the limit"
        )


def _is_xml(info: zipfile.ZipInfo) -> bool:
    return info.filename.lower().endswith((".xml", ".rels"))


def _check_xml(total: int, name: str, limits: IngestLimits) -> None:
    """XML parts become a tree about 20 times their size: bound them on their own."""
    if total > limits.max_xml_bytes:
        raise DocumentLimitError(
            f"{name} holds {size_text(total)} of XML once unzipped, over the "
            f"{size_text(limits.max_xml_bytes)} limit ({setting_name('max_xml_bytes')}): split "
            "the document or raise the limit"
        )


def _inflate(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, total: int, name: str, limits: IngestLimits
) -> int:
    """Inflate one entry as a stream, counting; returns the running total."""
    with archive.open(info) as stream:
        while block := stream.read(_READ):
            total += len(block)
            _check_inflated(total, name, limits, streamed=True)
    return total


def _central_directory(data: bytes, name: str) -> tuple[int, int]:
    """Byte offsets (start, end) of the central directory, located from the end record."""
    end = data.rfind(_EOCD, max(0, len(data) - 22 - 65535))
    if end < 0 or len(data) < end + 22:
        raise CorruptFileError(
            f"{name} is not a readable Word document (it is not a zip file): open it in Word "
            "and save it again as .docx"
        )
    (size,) = struct.unpack_from("<L", data, end + 12)
    locator = end - 20
    if locator >= 0 and data[locator : locator + 4] == _EOCD64_LOCATOR:
        (record,) = struct.unpack_from("<Q", data, locator + 8)
        if data[record : record + 4] == b"PK\x06\x06" and len(data) >= record + 56:
            (size,) = struct.unpack_from("<Q", data, record + 40)
            end = record
    return max(0, end - size), end


def _count_entries(data: bytes, start: int, end: int, most: int) -> int:
    """Entries in the central directory, counting no further than ``most + 1``."""
    count, position = 0, start
    while position + 46 <= end and data[position : position + 4] == _CENTRAL and count <= most:
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, position + 28)
        position += 46 + name_len + extra_len + comment_len
        count += 1
    return count

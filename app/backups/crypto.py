"""The backup file format: authenticated encryption in chunks, a fresh key per file wrapped by the master key.

    MAGIC | header length (4 bytes) | header (JSON) | chunk length (4 bytes) | chunk | ...

The header names the format, the master key's id (so a wrong key is told apart from a damaged file), the
file key wrapped with AES-256-GCM under the master key, and a nonce prefix. Each chunk is AES-256-GCM over
at most CHUNK bytes of the plaintext, with the nonce `prefix | counter | last` and the header as associated
data: a chunk moved, dropped, changed or cut off at the end, or a changed header, fails to decrypt. Nothing
is written unencrypted: the writer encrypts a chunk as soon as it is full.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"JXCBAK01"
CHUNK = 1 << 20
FORMAT = 1
_LEN = struct.Struct(">I")
_MAX_HEADER = 64 * 1024


class BackupFileError(Exception):
    """A backup file that cannot be read: `reason` is 'not_a_backup', 'corrupt', 'wrong_key' or 'truncated'."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def master_key(secret: str) -> bytes:
    """The 256-bit master key derived from the configured secret (JXC_BACKUP_KEY or the key file)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"jxc-backup-master").derive(
        secret.strip().encode("utf-8")
    )


def key_id(master: bytes) -> str:
    """A short public name of the master key: tells 'wrong key' from 'damaged file'."""
    return hmac.new(master, b"jxc-backup-key-id", hashlib.sha256).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only stream that encrypts into `out` (which only ever receives ciphertext)."""

    def __init__(self, out: BinaryIO, master: bytes) -> None:
        self.out = out
        file_key = AESGCM.generate_key(bit_length=256)
        wrap_nonce = os.urandom(12)
        self._prefix = os.urandom(7)
        header = {
            "format": FORMAT,
            "key_id": key_id(master),
            "wrap_nonce": _b64(wrap_nonce),
            "wrapped_key": _b64(AESGCM(master).encrypt(wrap_nonce, file_key, MAGIC)),
            "nonce_prefix": _b64(self._prefix),
            "chunk": CHUNK,
        }
        self._header = json.dumps(header, sort_keys=True).encode("ascii")
        self._aad = MAGIC + self._header
        self._aead = AESGCM(file_key)
        self._buffer = bytearray()
        self._counter = 0
        self.closed = False
        out.write(MAGIC + _LEN.pack(len(self._header)) + self._header)

    def _emit(self, data: bytes, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter, last), data, self._aad)
        self.out.write(_LEN.pack(len(sealed)) + sealed)
        self._counter += 1

    def write(self, data: bytes) -> int:
        """Add plaintext; every full chunk is encrypted and written at once."""
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep at least one byte back: the last chunk is marked as such
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        """Encrypt what is left as the last chunk (a file without one is refused as cut off)."""
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True


def read_header(handle: BinaryIO) -> tuple[dict, bytes]:
    """The header of a backup file (and the bytes it was read from), or BackupFileError: 'not_a_backup' (no JXC
    backup's first bytes: another file chosen), 'corrupt'."""
    start = handle.read(len(MAGIC) + _LEN.size)
    if len(start) < len(MAGIC) + _LEN.size or not start.startswith(MAGIC):
        raise BackupFileError("not_a_backup", "not a JXC backup file")
    (length,) = _LEN.unpack(start[len(MAGIC) :])
    if length > _MAX_HEADER:
        raise BackupFileError("corrupt", "header too long")
    raw = handle.read(length)
    try:
        header = json.loads(raw)
        if header.get("format") != FORMAT:
            raise ValueError(header.get("format"))
    except ValueError as exc:
        raise BackupFileError("corrupt", f"bad header ({exc})") from exc
    return header, raw


def decrypt(handle: BinaryIO, master: bytes) -> Iterator[bytes]:
    """The plaintext of a backup file, chunk by chunk; raises BackupFileError at the first bad byte.

    A caller that acts on the plaintext before the end must be ready to undo it: only reaching the end
    without an error proves the whole file is intact."""
    header, raw = read_header(handle)
    if header.get("key_id") != key_id(master):
        raise BackupFileError("wrong_key")
    try:
        file_key = AESGCM(master).decrypt(_unb64(header["wrap_nonce"]), _unb64(header["wrapped_key"]), MAGIC)
        prefix = _unb64(header["nonce_prefix"])
        limit = int(header["chunk"]) + 16
    except (InvalidTag, KeyError, ValueError, TypeError) as exc:
        raise BackupFileError("corrupt", "bad key block") from exc
    aead, aad, counter = AESGCM(file_key), MAGIC + raw, 0
    while True:
        size = handle.read(_LEN.size)
        if len(size) < _LEN.size:
            raise BackupFileError("truncated")
        (length,) = _LEN.unpack(size)
        if length > limit:
            raise BackupFileError("corrupt", "chunk too long")
        sealed = handle.read(length)
        if len(sealed) < length:
            raise BackupFileError("truncated")
        for last in (False, True):
            try:
                plain = aead.decrypt(_nonce(prefix, counter, last), sealed, aad)
            except InvalidTag:
                continue
            break
        else:
            raise BackupFileError("corrupt", f"chunk {counter}")
        counter += 1
        if plain:
            yield plain
        if last:
            if handle.read(1):
                raise BackupFileError("corrupt", "data after the last chunk")
            return


class PlainReader:
    """read(n) over decrypt()'s chunks (to parse the manifest, then hand the rest on)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left with -1)."""
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

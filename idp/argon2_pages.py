"""argon2 verification whose working memory is mapped in huge pages for each verify.

argon2id fills its whole memory cost (19 MiB by default) on every verify. From
malloc that memory either stays with the worker for good (glibc keeps it in
the heap after the first verify) or, returned to the system, comes back as
4 KiB pages that the kernel faults in and zeroes one by one: about 9 ms of
system time per verify, half again the hash itself, on a 2-core VM. Mapped
for the verify and advised as transparent huge pages it takes about ten
faults and under 1 ms, and is unmapped when the verify ends.

argon2-cffi lets a caller supply that memory only through the raw context
(`argon2.low_level.core`), so the PHC string is read here and the result is
compared here; `argon2.extract_parameters` reads and checks the parameters.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import mmap

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import core, error_to_str, ffi, lib, verify_secret

HUGE_PAGE = 2 << 20
_PRIVATE = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
_mapped: dict[int, tuple[mmap.mmap, object]] = {}  # by the address handed to argon2


def _allocate(memory, size):  # type: ignore[no-untyped-def]
    try:
        block = mmap.mmap(-1, size + HUGE_PAGE, flags=_PRIVATE)
    except OSError:
        memory[0] = ffi.NULL  # argon2 answers ARGON2_MEMORY_ALLOCATION_ERROR
        return -1
    try:
        block.madvise(mmap.MADV_HUGEPAGE)
    except (OSError, AttributeError):
        pass  # no transparent huge pages here: 4 KiB pages, slower but the same result
    view = ffi.from_buffer("uint8_t[]", block)
    start = view + (-int(ffi.cast("uintptr_t", view)) % HUGE_PAGE)  # huge pages need 2 MiB alignment
    _mapped[int(ffi.cast("uintptr_t", start))] = (block, view)
    memory[0] = start
    return 0


def _free(memory, size):  # type: ignore[no-untyped-def]
    block, view = _mapped.pop(int(ffi.cast("uintptr_t", memory)))
    ffi.release(view)
    block.close()


try:
    CALLBACKS: tuple[object, object] | None = (
        ffi.callback("int(uint8_t **, size_t)", _allocate),
        ffi.callback("void(uint8_t *, size_t)", _free),
    )
except (MemoryError, OSError):
    # A host that forbids writable and executable memory (SELinux deny_execmem)
    # allows no callbacks: argon2-cffi's own verify, with malloc's memory.
    CALLBACKS = None


def _b64(text: str) -> bytes:
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidHashError(text) from e
    # libargon2 refuses an encoding whose unused last bits are set; Python's
    # decoder drops them, and two strings would then name the same hash.
    if base64.b64encode(raw).rstrip(b"=").decode() != text:
        raise VerificationError("Decoding failed")
    return raw


def verify(encoded: str, password: str) -> bool:
    """Whether `password` matches the PHC string `encoded`.

    Raises InvalidHashError for a string that is not an argon2 hash and
    VerificationError should argon2 itself fail, as argon2-cffi's verify does.
    """
    params = extract_parameters(encoded)
    if CALLBACKS is None:
        try:
            return verify_secret(encoded.encode(), password.encode(), params.type)
        except VerifyMismatchError:
            return False
    allocate, free = CALLBACKS
    salt, expected = (_b64(part) for part in encoded.rsplit("$", 2)[1:])
    secret = password.encode()
    out = ffi.new("uint8_t[]", len(expected))
    pwd, salt_buf = ffi.new("uint8_t[]", secret), ffi.new("uint8_t[]", salt)
    context = ffi.new(
        "argon2_context *",
        {
            "out": out, "outlen": len(expected),
            "pwd": pwd, "pwdlen": len(secret),
            "salt": salt_buf, "saltlen": len(salt),
            "secret": ffi.NULL, "secretlen": 0, "ad": ffi.NULL, "adlen": 0,
            "t_cost": params.time_cost, "m_cost": params.memory_cost,
            "lanes": params.parallelism, "threads": params.parallelism,
            "version": params.version,
            "allocate_cbk": allocate, "free_cbk": free,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )  # fmt: skip
    result = core(context, params.type.value)
    if result != lib.ARGON2_OK:
        raise VerificationError(error_to_str(result))
    return hmac.compare_digest(bytes(ffi.buffer(out, len(expected))), expected)

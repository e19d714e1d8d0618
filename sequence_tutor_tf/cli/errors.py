"""How a command reports a failure the user caused: one line on stderr, exit code 2.

Commands raise `UserError("--flag VALUE: what was expected")`; `cli.main.main` prints it as
`sequence-tutor COMMAND: error: MESSAGE` and returns 2. It does the same for the library errors
that bad input produces (ValueError, OSError, a truncated checkpoint's `tf.errors.OpError`,
undecodable JSON), so commands need not wrap every call. With `--log-level DEBUG` the exception
is raised instead, traceback and all.

TensorFlow-free: importing this module must stay cheap (`--help` never loads TensorFlow).
"""
import errno
import sys

EXIT_USER_ERROR = 2
MAX_MESSAGE_CHARS = 2000


class UserError(Exception):
    """A failure the user can fix: the message names the flag, file or value and what was
    expected. Printed as one line by `cli.main`, exit code 2, no traceback."""


def _tf_error_types():
    """tf.errors.OpError, only when TensorFlow is already loaded (never import it for this)."""
    tf_module = sys.modules.get("tensorflow")
    errors = getattr(tf_module, "errors", None) if tf_module is not None else None
    op_error = getattr(errors, "OpError", None)
    return (op_error,) if isinstance(op_error, type) else ()


def user_error_types():
    """The exception types `main` turns into one-line messages."""
    return (UserError, ValueError, OSError, UnicodeDecodeError, RecursionError,
            MemoryError) + _tf_error_types()


def one_line(text, limit=MAX_MESSAGE_CHARS):
    """`text` on one line: newlines become '; ', runs of spaces one space, long text cut."""
    parts = [" ".join(line.split()) for line in str(text).splitlines()]
    line = "; ".join(p for p in parts if p).replace(":;", ":")
    if len(line) > limit:
        line = line[:limit - 25].rstrip() + f" ... ({len(line)} chars)"
    return line


def _is_disk_full(exc):
    return ((isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT))
            or "No space left on device" in str(exc))


def describe(exc, output_dir=None):
    """The one-line message for an exception `main` caught (without the command prefix)."""
    if isinstance(exc, UserError):
        return one_line(exc)
    if _is_disk_full(exc):
        where = getattr(exc, "filename", None) or output_dir or "the output directory"
        return one_line(f"no space left on the device writing {where}: free some space (or "
                        "choose another --output-dir) and rerun the same command; files written "
                        "before are left as they were")
    if isinstance(exc, UnicodeDecodeError):
        return one_line(f"a file is not UTF-8 text ({exc}); expected a UTF-8 JSON or text file")
    if isinstance(exc, (RecursionError, MemoryError)):
        return one_line(f"an input is too large or too deeply nested to read "
                        f"({type(exc).__name__}: {exc})")
    if _tf_error_types() and isinstance(exc, _tf_error_types()):
        # OpError's own message names the file; its first lines are the useful part.
        message = getattr(exc, "message", None) or str(exc)
        first = "; ".join(str(message).strip().splitlines()[:3])
        return one_line(f"TensorFlow could not read or write a file ({type(exc).__name__}): "
                        f"{first}; a checkpoint that is truncated or corrupted must be "
                        "replaced by a good copy")
    if isinstance(exc, OSError):
        text = str(exc)
        if exc.filename and str(exc.filename) not in text:
            text += f": {exc.filename}"
        return one_line(text)
    return one_line(exc)

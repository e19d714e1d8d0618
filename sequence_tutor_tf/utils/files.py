"""Atomic file writes (a reader never sees half a file, an interrupted run never leaves one), and
the checks that keep a run's own files inside its directory.

`inside_directory(path, root)` and `resolve_inside(root, relpath, what)` are for every file name
read from a state file, config or TF `checkpoint` index: a crafted or copied run directory must
not make us read, overwrite or delete anything outside it.
"""
import os
import tempfile


def check_export_dir(source, out_dir, overwrite, what, kind, is_previous, not_previous,
                     error=ValueError):
    """Raises unless writing `out_dir` is safe: new or empty, or (with `overwrite`) a previous
    export as `is_previous(path)` recognises it; never the source, a directory holding it, or the
    working directory. `what` names what is written ("the SavedModel"), `kind` the export
    ("export", "Magenta.js export"), `not_previous` says what a previous one holds; `error` is
    raised for a bad --out."""
    if not str(out_dir).strip():
        raise error(f"--out is empty: expected a directory to write {what} to")
    out_abs = os.path.abspath(out_dir)
    if os.path.exists(source) and inside_directory(source, out_abs, allow_root=True):
        raise error(f"--out {out_dir}: it is, or holds, the source --checkpoint {source}; "
                    "choose a directory outside it")
    if inside_directory(os.getcwd(), out_abs, allow_root=True):
        raise error(f"--out {out_dir}: it is, or holds, the working directory; choose a new "
                    f"directory for {what}")
    if not os.path.exists(out_abs) or (os.path.isdir(out_abs) and not os.listdir(out_abs)):
        return
    if not os.path.isdir(out_abs):
        raise FileExistsError(f"--out {out_dir} is a file; choose a new directory")
    if not overwrite:
        raise FileExistsError(f"--out {out_dir} already exists and is not empty; choose a new "
                              "directory or pass --overwrite")
    if not is_previous(out_abs):
        raise FileExistsError(f"--out {out_dir} already exists and is not a previous {kind} "
                              f"{not_previous}; --overwrite only replaces an earlier {kind}, "
                              "so nothing was deleted")


class UnsafePathError(ValueError):
    """A path read from a file points outside the directory it must stay in."""


def _real(path):
    return os.path.realpath(os.path.abspath(os.fspath(path)))


def inside_directory(path, root, allow_root=False):
    """True when `path` (resolved, symlinks followed) lies strictly inside directory `root`;
    `allow_root=True` also accepts `root` itself."""
    path, root = _real(path), _real(root)
    if path == root:
        return allow_root
    return os.path.commonpath([path, root]) == root


def resolve_inside(root, relpath, what="path"):
    """The absolute path of `relpath` under `root`; an UnsafePathError unless it stays inside.

    `relpath` may be relative to `root`, or absolute when it already lies inside `root` (files
    written by older TensorFlow savers name themselves absolutely). `what` names the field in
    the message, e.g. "engine_state.json 'engine_arrays'".
    """
    if not isinstance(relpath, (str, os.PathLike)) or not os.fspath(relpath):
        raise UnsafePathError(f"{what}: expected a file name inside {root}, got {relpath!r}")
    relpath = os.fspath(relpath)
    if "\0" in relpath:
        raise UnsafePathError(f"{what}: {relpath!r} is not a file name")
    candidate = relpath if os.path.isabs(relpath) else os.path.join(root, relpath)
    if not inside_directory(candidate, root):
        raise UnsafePathError(
            f"{what}: {relpath!r} points outside {root}; a run's state and checkpoint files may "
            "only name files inside their own directory (was the directory copied from "
            "elsewhere, or edited?)")
    return os.path.abspath(candidate)


def same_or_nested(a, b):
    """True when directories/files `a` and `b` are the same, or one lies inside the other."""
    return inside_directory(a, b, allow_root=True) or inside_directory(b, a, allow_root=True)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data: bytes):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".")
    try:
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp makes 0600; give what open() would
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path, text: str):
    atomic_write_bytes(path, text.encode("utf-8"))

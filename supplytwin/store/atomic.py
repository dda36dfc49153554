"""Atomic writes: a reader never sees a half-written file or a results folder that looks complete.

Files are written to a temporary name in the same folder and renamed into place (``os.replace``
is atomic on POSIX). A results folder is built under a hidden temporary name beside its target
and renamed when complete; a run killed half-way leaves only a ``.tmp-*`` folder, never a
folder with the final name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def is_result_folder(folder: Path) -> bool:
    """A folder supplytwin wrote: it holds a ``manifest.json`` (written last, see above)."""
    return (Path(folder) / "manifest.json").is_file()


def check_output_folder(target: Path, overwrite: bool) -> None:
    """Refuse a results folder that would destroy something that is not a supplytwin result.

    Called before simulating, so a bad ``--out`` costs nothing. The current folder (or one
    that contains it) is never a results folder: replacing it would pull the ground from under
    the shell that ran the command.
    """
    from supplytwin.errors import SupplytwinError

    target = Path(target)
    here = Path.cwd().resolve()
    resolved = target.resolve()
    if resolved == here or resolved in here.parents:
        raise SupplytwinError(f"--out {target}: the current folder (or one containing it) cannot "
                              "be a results folder; name a new folder, e.g. --out results/run1")
    if resolved.exists() and not resolved.is_dir():
        raise SupplytwinError(f"--out {target}: exists and is not a folder")
    if resolved.is_dir() and any(resolved.iterdir()):
        if not overwrite:
            raise SupplytwinError(f"--out {target}: folder exists and is not empty (use "
                                  "--overwrite to replace an earlier result)")
        if not is_result_folder(resolved):
            raise SupplytwinError(f"--out {target}: folder is not a supplytwin result (no "
                                  "manifest.json), so --overwrite will not delete it")


@contextlib.contextmanager
def output_lock(target: Path) -> Iterator[None]:
    """One writer per results folder: ``.NAME.lock`` beside it holds the owner's pid.

    A second run with the same ``--out`` is refused at once, before it simulates; a lock left
    by a killed process (its pid is gone) is stale and taken over.
    """
    from supplytwin.errors import SupplytwinError

    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.parent / f".{target.name}.lock"
    for _attempt in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            try:
                owner = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                owner = 0
            if owner and _pid_alive(owner):
                raise SupplytwinError(f"--out {target}: another supplytwin process (pid {owner}) "
                                      "is writing this folder; wait for it or choose another "
                                      "--out") from None
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()  # stale: its owner is gone
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        break
    else:
        raise SupplytwinError(f"--out {target}: cannot take the lock {lock}")
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_directory(target: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it becomes ``target``."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"{target} exists and is not empty (use --overwrite to replace it)")
        if not is_result_folder(target):
            from supplytwin.errors import SupplytwinError

            raise SupplytwinError(f"{target} is not a supplytwin result (no manifest.json), so "
                                  "it is not replaced")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; a results folder follows the umask
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)

"""libsegment: customer segmentation inside SQLite.

    import sqlite3, sqlite_segment
    db = sqlite3.connect("shop.db")
    sqlite_segment.load(db)
    db.execute("SELECT segment, count(*) FROM rfm_score('orders') GROUP BY 1")

loadable_path() is the path to give to any SQLite host's load_extension()
(sqlite-utils --load-extension, apsw, ...), without the file suffix, which
SQLite adds.
"""
import os

try:
    from importlib.metadata import version as _version

    __version__ = _version("sqlite-segment")
except Exception:  # not installed (a source checkout on sys.path)
    __version__ = None

__all__ = ["loadable_path", "load", "__version__"]


def loadable_path():
    """The path of the bundled extension, without its suffix (.so, .dylib,
    .dll)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "libsegment")


def load(conn):
    """Load libsegment into the sqlite3 connection conn.  Extension loading
    is enabled for the load and disabled again afterwards.  Raises
    RuntimeError when this Python's sqlite3 module was built without
    extension loading (macOS's system Python, some pyenv builds)."""
    if not hasattr(conn, "enable_load_extension"):
        raise RuntimeError(
            "libsegment: this Python's sqlite3 module cannot load extensions "
            "(built without SQLITE_ENABLE_LOAD_EXTENSION); use a Python that can, "
            "such as Debian's python3"
        )
    conn.enable_load_extension(True)
    try:
        conn.load_extension(loadable_path())
    finally:
        conn.enable_load_extension(False)

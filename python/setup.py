"""libsegment for Python: builds the SQLite extension from ../ext/*.c into
the package, as sqlite_segment/libsegment.so (.dylib, .dll), a file for
sqlite3's load_extension(), not a Python module.

    pip install ./python                    (from a clone)
    pip install --no-build-isolation --no-index ./python   (offline)

The version is SEGMENT_VERSION in ext/segmentInt.h, the one place it is
written."""
import glob
import os
import re
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

here = os.path.dirname(os.path.abspath(__file__))
# The sources are the repository's ext/ (pip builds in place).
ext_dir = os.path.join(os.path.dirname(here), "ext")
with open(os.path.join(ext_dir, "segmentInt.h"), encoding="utf-8") as f:
    version = re.search(r'^#define SEGMENT_VERSION "([^"]+)"', f.read(), re.M).group(1)

if sys.platform == "darwin":
    suffix = ".dylib"
elif sys.platform == "win32":
    suffix = ".dll"
else:
    suffix = ".so"


class build_sqlite_ext(build_ext):
    """Names the library libsegment.so (no Python ABI tag: SQLite derives
    the entry point, sqlite3_segment_init, from the file name) and exports
    that entry point rather than PyInit_*."""

    def get_ext_filename(self, fullname):
        return os.path.join(*fullname.split(".")) + suffix

    def get_export_symbols(self, ext):
        return ["sqlite3_segment_init"]

    def get_libraries(self, ext):
        return ext.libraries  # no libpython


sources = sorted(glob.glob(os.path.join(ext_dir, "*.c")))

setup(
    name="sqlite-segment",
    version=version,
    description="Customer segmentation inside SQLite (RFM, lifecycle, CLV, cohorts): the loadable extension",
    long_description=__doc__,
    long_description_content_type="text/plain",
    license="see the repository",
    packages=["sqlite_segment"],
    ext_modules=[
        Extension(
            "sqlite_segment.libsegment",
            sources=sources,
            include_dirs=[ext_dir],
            libraries=[] if sys.platform == "win32" else ["m", "pthread"],
            extra_compile_args=[] if sys.platform == "win32" else ["-O2", "-Wall", "-Wextra"],
        )
    ],
    cmdclass={"build_ext": build_sqlite_ext},
    python_requires=">=3.7",
    zip_safe=False,
)

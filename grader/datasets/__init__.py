"""Data sets the reference tasks grade against (read outside the sandbox only)."""

from grader.datasets.idx import IdxError, read_idx, read_pair
from grader.datasets.mnist import (
    DEMO_DIR,
    DatasetError,
    download_mnist,
    import_mnist,
    load_split,
)

__all__ = [
    "DEMO_DIR",
    "DatasetError",
    "IdxError",
    "download_mnist",
    "import_mnist",
    "load_split",
    "read_idx",
    "read_pair",
]

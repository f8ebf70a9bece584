"""Names and sizes of the canonical CIFAR-10 archive and of the folder it unpacks to."""

from __future__ import annotations

CANONICAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CANONICAL_MD5 = "c58f30108f718f92721af3b95e74349a"
CANONICAL_SIZE = 170_498_071

# The single top folder of the archive; also the default name of the destination.
FOLDER_NAME = "cifar-10-batches-py"
PICKLED_FILES = (
    "data_batch_1",
    "data_batch_2",
    "data_batch_3",
    "data_batch_4",
    "data_batch_5",
    "test_batch",
    "batches.meta",
)
REQUIRED_FILES = PICKLED_FILES + ("readme.html",)

# Every name this tool writes beside the destination matches the project's .gitignore patterns
# `cifar-10-python.tar.gz*` and `.cifar10-*`, so no download state is ever committed by accident.
ARCHIVE_NAME = "cifar-10-python.tar.gz"
PART_SUFFIX = ".part"
PART_STATE_SUFFIX = ".part.json"
TEMP_PREFIX = ".cifar10-"
EXTRACT_PREFIX = TEMP_PREFIX + "extract-"
OLD_COPY_PREFIX = TEMP_PREFIX + "old-"
LOCK_NAME = TEMP_PREFIX + "lock"
MANIFEST_NAME = TEMP_PREFIX + "manifest.json"

# The unpacked canonical archive is about 5% larger than the archive; 1.15 leaves a margin.
UNPACKED_TO_ARCHIVE_RATIO = 1.15
# CIFAR-10 unpacks to about 180 MB; anything that unpacks to more is not this data set (or a gzip bomb).
MAX_UNPACKED_BYTES = 1 << 30

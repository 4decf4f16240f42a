"""Shared fixtures: where the corpus and the flowscope binary are.

The corpus is found as the C++ tests find it (tests/test_support.h corpus_root):
$FLOWSCOPE_CORPUS, else tests/data/corpus in the source tree; tests that need it skip
with the reason when it is absent.
"""

import os
import pathlib
import shutil

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("FLOWSCOPE_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))


def corpus_root():
    env = os.environ.get("FLOWSCOPE_CORPUS")
    if env:
        return pathlib.Path(env)
    return SOURCE_DIR / "tests" / "data" / "corpus"


@pytest.fixture(scope="session")
def flowtools_dir():
    d = corpus_root() / "flowtools"
    if not d.is_dir():
        pytest.skip(f"corpus not found at {d} (set FLOWSCOPE_CORPUS)")
    return d


@pytest.fixture(scope="session")
def netflow_dir():
    d = corpus_root() / "netflow"
    if not d.is_dir():
        pytest.skip(f"corpus not found at {d} (set FLOWSCOPE_CORPUS)")
    return d


@pytest.fixture(scope="session")
def flowscope_bin():
    path = os.environ.get("FLOWSCOPE_BIN") or shutil.which("flowscope")
    if not path or not os.path.exists(path):
        candidate = SOURCE_DIR / "build" / "release" / "bin" / "flowscope"
        if not candidate.exists():
            pytest.skip("flowscope binary not found (set FLOWSCOPE_BIN)")
        path = str(candidate)
    return path

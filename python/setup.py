"""pip install ./python: builds flowscope's extension with the project's CMake (the same
target `make` builds) and installs the flowscope and flowtools packages. Uses Debian's
pybind11-dev, python3-dev and setuptools; nothing is downloaded:

    pip install --no-build-isolation ./python
"""

import os
import pathlib
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = ROOT / "build" / "python-wheel"
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                        "-DFLOWSCOPE_BUILD_TESTS=OFF", "-DFLOWSCOPE_BUILD_BENCH=OFF",
                        "-DFLOWSCOPE_PYTHON=ON"], check=True)
        subprocess.run(["cmake", "--build", str(build), "--target", "flowscope_python", "-j",
                        str(os.cpu_count() or 1)], check=True)
        built = next((build / "python" / "flowscope").glob("_native*.so"))
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)


setup(
    name="flowscope",
    version="0.1.0",
    description="flowscope network flow analytics, and a pyflowtools-compatible flowtools module",
    packages=["flowscope", "flowtools"],
    ext_modules=[Extension("flowscope._native", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
)

#!/bin/sh
# build-python.sh SUITE PACKAGE: compile CPython from the upstream tarball of
# Debian's source package PACKAGE in SUITE into /opt/paas/python/X.Y.Z.
# Run by the `cpython` stage of the Containerfile, once per version so that
# each is a cached layer of its own.
set -eu
suite=$1 pkg=$2
mkdir -p /src /opt/paas/python
cd /src
echo "deb-src http://deb.debian.org/debian $suite main" >/etc/apt/sources.list.d/paas-src-$suite.list
apt-get update -qq
apt-get source --download-only "$pkg" 2>&1 | grep -v -e '^NOTICE' -e '^Please use' -e '^git clone' -e '^https://salsa' -e 'to retrieve the latest' || true
tarball=$(ls "${pkg}"_*.orig.tar.xz "${pkg}"_*.orig.tar.gz 2>/dev/null | head -n 1)
version=${tarball#"${pkg}"_}
version=${version%.orig.tar.*}
echo "CPython $version from $tarball"
mkdir "$pkg-src"
tar -C "$pkg-src" --strip-components=1 -xf "$tarball"
cd "$pkg-src"
./configure --prefix="/opt/paas/python/$version" --with-ensurepip=install --without-static-libpython >/dev/null
make -j"$(nproc)" >/dev/null 2>make.err || { tail -50 make.err; exit 1; }
make install >/dev/null 2>make-install.err || { tail -50 make-install.err; exit 1; }
cd /
rm -rf /src /etc/apt/sources.list.d/paas-src-$suite.list
prefix=/opt/paas/python/$version
"$prefix/bin/python3" -c 'import ssl, sqlite3, ctypes, bz2, lzma, zlib, uuid, readline'
rm -rf "$prefix"/lib/python*/test "$prefix"/lib/python*/idlelib "$prefix"/lib/python*/tkinter

#!/bin/sh
# build-runtime.sh LANGUAGE SUITE PACKAGE: compile a runtime (python or ruby)
# from the upstream tarball of Debian's source package PACKAGE in SUITE into
# /opt/paas/LANGUAGE/X.Y.Z. Run by a stage of the Containerfile, once per
# version so that each is a cached layer of its own.
set -eu
lang=$1 suite=$2 pkg=$3
mkdir -p /src "/opt/paas/$lang"
cd /src
echo "deb-src http://deb.debian.org/debian $suite main" >"/etc/apt/sources.list.d/paas-src-$suite.list"
# Unstable suites carry a short Valid-Until; the archive this reaches may be a snapshot.
apt-get -o Acquire::Check-Valid-Until=false update -qq
apt-get source --download-only "$pkg" 2>&1 | grep -v -e '^NOTICE' -e '^Please use' -e '^git clone' -e '^https://salsa' -e 'to retrieve the latest' || true
tarball=$(ls "${pkg}"_*.orig.tar.xz "${pkg}"_*.orig.tar.gz 2>/dev/null | head -n 1)
version=${tarball#"${pkg}"_}
version=${version%.orig.tar.*}
version=${version%%+*}
prefix="/opt/paas/$lang/$version"
echo "$lang $version from $tarball"
mkdir "$pkg-src"
tar -C "$pkg-src" --strip-components=1 -xf "$tarball"
cd "$pkg-src"
case $lang in
  python)
    ./configure --prefix="$prefix" --with-ensurepip=install --without-static-libpython >/dev/null ;;
  ruby)
    ./configure --prefix="$prefix" --enable-load-relative --disable-install-doc \
      --with-baseruby=no >/dev/null ;;
esac
make -j"$(nproc)" >/dev/null 2>make.err || { tail -50 make.err; exit 1; }
# The bytecode of the standard library is compiled by both cores at once.
make install COMPILEALL_OPTS=-j0 >/dev/null 2>make-install.err || { tail -50 make-install.err; exit 1; }
cd /
rm -rf /src "/etc/apt/sources.list.d/paas-src-$suite.list"
case $lang in
  python)
    "$prefix/bin/python3" -c 'import ssl, sqlite3, ctypes, bz2, lzma, zlib, uuid, readline'
    rm -rf "$prefix"/lib/python*/test "$prefix"/lib/python*/idlelib "$prefix"/lib/python*/tkinter ;;
  ruby)
    "$prefix/bin/ruby" -e 'require "openssl"; require "psych"; require "zlib"; require "fiddle"; require "bundler"; puts RUBY_DESCRIPTION' ;;
esac

#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drives libtke from Python through GObject Introspection (PyGObject).

Run with /usr/bin/python3 (Debian's, which has gi), GI_TYPELIB_PATH and
LD_LIBRARY_PATH pointing at the build's src/libtke.  Prints TAP.

usage: test-gir.py EXPECTED_VERSION
"""
import hashlib
import sys

import gi

gi.require_version('Tke', '1')
from gi.repository import GLib, GObject, Tke  # noqa: E402

tests = []


def test(fn):
    tests.append(fn)
    return fn


@test
def version():
    assert Tke.get_version() == sys.argv[1], Tke.get_version()


@test
def secret():
    key = Tke.Secret.new_from_data(bytes(range(32)))
    assert key.get_size() == 32
    assert key.is_secure(), 'a secret from Python must live in the secure heap too'
    assert key.equal(Tke.Secret.new_from_data(bytes(range(32))))
    assert not key.equal(Tke.Secret.new_from_data(bytes(32)))
    assert Tke.Secret.new_random(32).get_size() == 32


@test
def verification_pattern():
    # The VP is the SHA-256 of the key value; an XOR of two parts gives the
    # VP of the key, as a ceremony's check does.
    part1, part2 = bytes(range(32)), bytes(range(100, 132))
    key = Tke.crypto_xor(Tke.Secret.new_from_data(part1), Tke.Secret.new_from_data(part2))
    value = bytes(a ^ b for a, b in zip(part1, part2))
    vp = Tke.crypto_verification_pattern(key)
    assert bytes(vp) == hashlib.sha256(value).digest(), bytes(vp).hex()
    assert Tke.crypto_hex_encode(vp) == hashlib.sha256(value).hexdigest()
    assert bytes(Tke.crypto_wkid(key)) == hashlib.sha256(value).digest()[:16]


@test
def key_wrap():
    kek = Tke.Secret.new_random(32)
    root_key = b'a root key of 32 bytes, wrapped!'
    wrapped = Tke.crypto_kwp_wrap(kek, root_key)
    unwrapped = Tke.crypto_kwp_unwrap(kek, wrapped.get_data())
    assert unwrapped.equal(Tke.Secret.new_from_data(root_key))


@test
def error_domain():
    assert GObject.type_name(Tke.Error) == 'TkeError'
    assert Tke.error_quark() == GLib.quark_from_string('tke-error-quark')
    try:
        Tke.crypto_hex_decode('abc')
    except GLib.Error as e:
        assert e.matches(Tke.error_quark(), Tke.Error.INVALID_DATA), (e.domain, e.code)
        assert 'odd number of digits' in e.message, e.message
    else:
        raise AssertionError('odd hex was accepted')
    try:
        Tke.crypto_kwp_unwrap(Tke.Secret.new_random(32), bytes(24))
    except GLib.Error as e:
        assert e.matches(Tke.error_quark(), Tke.Error.INTEGRITY), (e.domain, e.code)
    else:
        raise AssertionError('a wrong key-encrypting key unwrapped')


@test
def openssl_types_are_skipped():
    # Functions that take an EVP_PKEY* are (skip): no half-usable binding.
    for name in ('crypto_sign', 'crypto_verify', 'crypto_seal', 'crypto_ec_generate'):
        assert not hasattr(Tke, name), name


def main():
    print('1..%d' % len(tests))
    failed = 0
    for i, fn in enumerate(tests, 1):
        try:
            fn()
            print('ok %d - %s' % (i, fn.__name__))
        except Exception as e:  # noqa: BLE001 - report every failure as TAP
            failed += 1
            print('not ok %d - %s: %r' % (i, fn.__name__, e))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
# test-get-attrib.py: SCardGetAttrib() on the virtual readers through the real pcscd, with pyscard
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# What pcsc-lite's UnitaryTests (SCardGetAttrib.py, getAttrib.py) ask a
# reader, checked against what libccid answers for a CCID reader: the ATR
# (SCARD_ATTR_ATR_STRING, the same as SCardStatus), the vendor name and IFD
# version, the serial number (success, empty: the reader has none), card
# presence and contact status (with a card and without, over a direct
# connection), the longest command, and an attribute no reader has.
# Written for this project; TAP output.

import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

n = 0
failed = False


def check(what, condition, detail=""):
    global n, failed
    n += 1
    if condition:
        print(f"ok {n} - {what}")
    else:
        failed = True
        print(f"not ok {n} - {what}")
        if detail:
            print(f"# {detail}")


def run_card(card, pins, *args):
    with open("pins", "w") as f:
        f.write(pins)
    subprocess.run([card, "--pin-file", "pins", *args], check=True, stdout=subprocess.DEVNULL)


def start_readers(work, card1):
    state = os.path.join(work, "state")
    launcher = subprocess.Popen(
        [os.environ["TKE_VIRTUAL_READERS"], "--state-dir", state, "--card1", card1],
        stdout=subprocess.PIPE, text=True)
    ready = launcher.stdout.readline()
    if not ready.startswith("ready PCSCLITE_CSOCK_NAME="):
        launcher.kill()
        sys.exit(f"Bail out! no ready line from tke-virtual-readers: {ready!r}")
    return launcher


def main():
    work = tempfile.mkdtemp(prefix="tke-get-attrib-")
    os.chdir(work)
    os.environ["TKE_CARD_CHIP_KEY"] = os.path.join(work, "chip.key")
    # Read once by libpcsclite, at the first PC/SC call: set before pyscard runs.
    os.environ["PCSCLITE_CSOCK_NAME"] = os.path.join(work, "state", "pcscd.comm")
    card = os.environ["TKE_CARD"]
    run_card(card, "111111\n222222\n", "create-ca", "--zone-description", "Zone",
             "--description", "CA", "ca.card")
    run_card(card, "111111\n222222\n123456\n", "create", "--zone", "ca.card",
             "--description", "Admin", "admin.card")
    launcher = start_readers(work, os.path.join(work, "admin.card"))
    try:
        attributes(os.environ["TKE_IFD_VERSION"])
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"1..{n}")
    return 1 if failed else 0


def get(handle, attribute):
    from smartcard import scard
    rv, value = scard.SCardGetAttrib(handle, attribute)
    return rv, bytes(value) if value is not None else b""


def wait_present(context, reader):
    from smartcard import scard
    states = [(reader, scard.SCARD_STATE_UNAWARE)]
    for _ in range(50):
        rv, new = scard.SCardGetStatusChange(context, 200, states)
        if rv == scard.SCARD_S_SUCCESS:
            if new[0][1] & scard.SCARD_STATE_PRESENT:
                return True
            states = [(reader, new[0][1] & ~scard.SCARD_STATE_CHANGED)]
    return False


def attributes(ifd_version):
    from smartcard import scard
    rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_SYSTEM)
    check("SCardEstablishContext", rv == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(rv))
    rv, readers = scard.SCardListReaders(context, [])
    reader1 = [r for r in readers if r.startswith("TKE Virtual PIN Pad Reader 1")]
    reader2 = [r for r in readers if r.startswith("TKE Virtual PIN Pad Reader 2")]
    check("both readers listed", len(reader1) == 1 and len(reader2) == 1, repr(readers))
    check("a card in reader 1", wait_present(context, reader1[0]))

    rv, handle, protocol = scard.SCardConnect(
        context, reader1[0], scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    check("SCardConnect reader 1", rv == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(rv))
    rv, name, state, protocol, atr = scard.SCardStatus(handle)
    check("SCardStatus", rv == scard.SCARD_S_SUCCESS and len(atr) > 0)

    rv, value = get(handle, scard.SCARD_ATTR_ATR_STRING)
    check("SCARD_ATTR_ATR_STRING is the ATR of SCardStatus",
          rv == scard.SCARD_S_SUCCESS and value == bytes(atr),
          f"{scard.SCardGetErrorMessage(rv)} {value.hex()} vs {bytes(atr).hex()}")
    rv, value = get(handle, scard.SCARD_ATTR_VENDOR_NAME)
    check("SCARD_ATTR_VENDOR_NAME", rv == scard.SCARD_S_SUCCESS and value == b"TKE\0", repr(value))
    rv, value = get(handle, scard.SCARD_ATTR_VENDOR_IFD_VERSION)
    check("SCARD_ATTR_VENDOR_IFD_VERSION: a DWORD 0xMMmmbbbb of the project's version",
          rv == scard.SCARD_S_SUCCESS and len(value) == 4
          and struct.unpack("<I", value)[0] == int(ifd_version),
          f"{scard.SCardGetErrorMessage(rv)} {value.hex()}")
    rv, value = get(handle, scard.SCARD_ATTR_VENDOR_IFD_SERIAL_NO)
    check("SCARD_ATTR_VENDOR_IFD_SERIAL_NO: success, empty (no serial number)",
          rv == scard.SCARD_S_SUCCESS and value == b"", f"{scard.SCardGetErrorMessage(rv)} {value!r}")
    rv, value = get(handle, scard.SCARD_ATTR_ICC_PRESENCE)
    check("SCARD_ATTR_ICC_PRESENCE with a card: 2", rv == scard.SCARD_S_SUCCESS and value == b"\x02",
          f"{scard.SCardGetErrorMessage(rv)} {value!r}")
    rv, value = get(handle, scard.SCARD_ATTR_ICC_INTERFACE_STATUS)
    check("SCARD_ATTR_ICC_INTERFACE_STATUS with a card: 1",
          rv == scard.SCARD_S_SUCCESS and value == b"\x01", f"{scard.SCardGetErrorMessage(rv)} {value!r}")
    rv, value = get(handle, scard.SCARD_ATTR_MAXINPUT)
    check("SCARD_ATTR_MAXINPUT: a DWORD, at least a short APDU",
          rv == scard.SCARD_S_SUCCESS and len(value) == 4 and struct.unpack("<I", value)[0] >= 261,
          f"{scard.SCardGetErrorMessage(rv)} {value.hex()}")
    rv, value = get(handle, scard.SCARD_ATTR_CHARACTERISTICS)
    check("an attribute the reader does not have: SCARD_E_UNSUPPORTED_FEATURE",
          rv == scard.SCARD_E_UNSUPPORTED_FEATURE, scard.SCardGetErrorMessage(rv))
    scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)

    # Reader 2 is empty: a direct connection, as to a reader without a card.
    rv, handle, protocol = scard.SCardConnect(context, reader2[0], scard.SCARD_SHARE_DIRECT, 0)
    check("SCardConnect reader 2 (direct, no card)", rv == scard.SCARD_S_SUCCESS,
          scard.SCardGetErrorMessage(rv))
    rv, value = get(handle, scard.SCARD_ATTR_ICC_PRESENCE)
    check("SCARD_ATTR_ICC_PRESENCE without a card: 0",
          rv == scard.SCARD_S_SUCCESS and value == b"\x00", f"{scard.SCardGetErrorMessage(rv)} {value!r}")
    rv, value = get(handle, scard.SCARD_ATTR_ICC_INTERFACE_STATUS)
    check("SCARD_ATTR_ICC_INTERFACE_STATUS without a card: 0",
          rv == scard.SCARD_S_SUCCESS and value == b"\x00", f"{scard.SCardGetErrorMessage(rv)} {value!r}")
    rv, value = get(handle, scard.SCARD_ATTR_ATR_STRING)
    check("SCARD_ATTR_ATR_STRING without a card: empty", rv == scard.SCARD_S_SUCCESS and value == b"",
          f"{scard.SCardGetErrorMessage(rv)} {value!r}")
    scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
    scard.SCardReleaseContext(context)


if __name__ == "__main__":
    sys.exit(main())

#!/bin/sh
# Runs the GObject Introspection dumper of a sanitizer build.
#
# libtke links libcurl, and through GnuTLS p11-kit, whose constructor calls
# newlocale().  The dumper is not instrumented but loads the ASan runtime;
# when the runtime initializes lazily inside that newlocale() call, glibc's
# setlocale lock is left held and the dumper deadlocks at exit (freelocale()
# in p11-kit's destructor).  With P11_KIT_DEBUG set, p11-kit's constructor
# calls into the runtime before newlocale() and all is well.  Checked with
# Debian 12's gcc 12 libasan and p11-kit 0.24.1.
P11_KIT_DEBUG=${P11_KIT_DEBUG:-none}
export P11_KIT_DEBUG
exec "$@"

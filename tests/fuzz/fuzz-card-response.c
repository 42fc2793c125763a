/* fuzz-card-response.c: libtke's parsing of what a card and a reader answer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A card (or a reader, or whatever sits behind PC/SC) is not trusted:
 * GET CARD INFO's TLVs, the reader's FEATURE list, the card's texts and
 * every status word go through src/libtke/tke-pcsc.c, which is compiled in
 * (its functions are internal to libtke).  The first byte picks the
 * parser, the rest is the answer.  Oracles: a parsed GET CARD INFO has a
 * hex serial of twice the serial TLV's length, a known card type and UTF-8
 * texts; a refusal is a TKE_ERROR with a message; status words other than
 * 9000 are errors.
 */

#include <string.h>

#include <winscard.h>

#include "fuzz-common.h"
#include "tke-error.h"
#include "tke-pcsc-private.h"

static void
check_error (gboolean ok, GError *error, const char *what)
{
  if (ok != (error == NULL))
    fuzz_fail ("%s: the result and the error disagree", what);
  if (error != NULL && (error->domain != TKE_ERROR || error->message[0] == '\0' ||
                        !g_utf8_validate (error->message, -1, NULL)))
    fuzz_fail ("%s: an error that is not a TKE_ERROR with a message", what);
}

static void
check_hex (const char *hex, const char *what)
{
  for (const char *p = hex; p != NULL && *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p))
      fuzz_fail ("the %s “%s” is not hex", what, hex);
}

static void
card_info (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkePcscCardInfo) info = NULL;

  info = _tke_pcsc_parse_card_info (data, size, &error);
  check_error (info != NULL, error, "GET CARD INFO");
  if (info == NULL)
    return;
  if (info->serial == NULL ||
      (info->card_type != TKE_CARD_TYPE_CA && info->card_type != TKE_CARD_TYPE_EP11 &&
       info->card_type != TKE_CARD_TYPE_BLANK))
    fuzz_fail ("GET CARD INFO parsed without a serial or a card type");
  check_hex (info->serial, "serial");
  check_hex (info->zone, "zone");
  if ((info->zone_description != NULL && !g_utf8_validate (info->zone_description, -1, NULL)) ||
      (info->description != NULL && !g_utf8_validate (info->description, -1, NULL)))
    fuzz_fail ("a card text that is not UTF-8");
}

static void
features (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  TkePcscFeatures f;
  gboolean ok = _tke_pcsc_parse_features (data, size, &f, &error);

  check_error (ok, error, "FEATURE list");
  if (ok && size % 6 != 0)
    fuzz_fail ("a feature list of %zu bytes parsed", size);
}

static void
text (const uint8_t *data, size_t size)
{
  g_autofree char *value = _tke_pcsc_utf8_value (data, size);

  if (!g_utf8_validate (value, -1, NULL))
    fuzz_fail ("a card text that is not UTF-8");
}

static void
status (const uint8_t *data, size_t size)
{
  guint sw;
  glong rv;
  guint reader;
  gboolean ok;

  if (size < 7)
    return;
  sw = (guint) data[0] << 8 | data[1];
  reader = data[2];
  rv = (glong) (gint32) ((guint32) data[3] << 24 | (guint32) data[4] << 16 |
                         (guint32) data[5] << 8 | data[6]);
  {
    g_autoptr (GError) error = NULL;

    ok = _tke_pcsc_check_status (sw, &error);
    check_error (ok, error, "status word");
    if (ok != (sw == 0x9000))
      fuzz_fail ("status word %04X: %s", sw, ok ? "accepted" : "refused");
  }
  {
    g_autoptr (GError) error = NULL;

    ok = _tke_pcsc_check_pin_status (sw, reader, &error);
    check_error (ok, error, "PIN status word");
    if (ok != (sw == 0x9000))
      fuzz_fail ("PIN status word %04X: %s", sw, ok ? "accepted" : "refused");
  }
  if (rv != SCARD_S_SUCCESS)
    {
      g_autoptr (GError) error = NULL;

      _tke_pcsc_set_error (rv, reader, &error);
      check_error (FALSE, error, "PC/SC code");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init ();
  if (size < 1)
    return 0;
  switch (data[0] % 4)
    {
    case 0:
      card_info (data + 1, size - 1);
      break;
    case 1:
      features (data + 1, size - 1);
      break;
    case 2:
      text (data + 1, size - 1);
      break;
    default:
      status (data + 1, size - 1);
      break;
    }
  return 0;
}

/* tke-ceremony-report-pdf.c: the ceremony report as a PDF, for auditors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same report as tke_ceremony_report_format_text(), laid out on A4
 * pages with cairo and pango: a header (the instance, the unit root's and
 * the workstation key's fingerprints, who signed), the ceremonies and
 * their outcomes, each unit's registers before and after, then every
 * record in order with its hash, the units' registers as it saw them,
 * the advice followed, and the signatures.
 * Steps that failed are marked.  The PDF is for reading: the JSON report
 * is what verifies.
 */

#include "config.h"

#include <string.h>

#include <cairo-pdf.h>
#include <glib/gi18n-lib.h>
#include <pango/pangocairo.h>

#include "tke-audit-trail-private.h"
#include "tke-ceremony-report-private.h"
#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-json-private.h"
#include "tke-unit-identity.h"

/* A4, in points, with 2 cm margins. */
#define PAGE_WIDTH 595.0
#define PAGE_HEIGHT 842.0
#define MARGIN 56.0

typedef struct
{
  cairo_t *cr;
  double y;
  guint page;
} Pdf;

static void
new_page (Pdf *pdf)
{
  if (pdf->page > 0)
    cairo_show_page (pdf->cr);
  pdf->page++;
  pdf->y = MARGIN;
}

/* One paragraph of pango markup, on the next page if it does not fit;
 * its wrapped lines @hang points further in than its first. */
static void
hanging_paragraph (
    Pdf *pdf, const char *markup, const char *font, double indent, double hang, double space_before)
{
  g_autoptr (PangoLayout) layout = pango_cairo_create_layout (pdf->cr);
  PangoFontDescription *description = pango_font_description_from_string (font);
  int width, height;

  pango_layout_set_font_description (layout, description);
  pango_font_description_free (description);
  /* Pango's negative indent: the first line full width, the others in. */
  pango_layout_set_width (layout, (int) ((PAGE_WIDTH - 2 * MARGIN - indent) * PANGO_SCALE));
  pango_layout_set_indent (layout, (int) (-hang * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_markup (layout, markup, -1);
  pango_layout_get_size (layout, &width, &height);
  pdf->y += space_before;
  if (pdf->y + (double) height / PANGO_SCALE > PAGE_HEIGHT - MARGIN)
    new_page (pdf);
  cairo_move_to (pdf->cr, MARGIN + indent, pdf->y);
  pango_cairo_show_layout (pdf->cr, layout);
  pdf->y += (double) height / PANGO_SCALE;
}

static void
paragraph (Pdf *pdf, const char *markup, const char *font, double indent, double space_before)
{
  hanging_paragraph (pdf, markup, font, indent, 0, space_before);
}

/* A record's details, a line each: a line that does not fit wraps under
 * its own start, so that each detail still reads as one. */
static void
record_details (Pdf *pdf, char *details)
{
  g_auto (GStrv) lines = g_strsplit (g_strchomp (details), "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *escaped = g_markup_escape_text (g_strstrip (lines[i]), -1);

      if (escaped[0] != '\0')
        hanging_paragraph (pdf, escaped, "Monospace 7", 24, 24, 1);
    }
}

static void
heading (Pdf *pdf, const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  paragraph (pdf, escaped, "Sans Bold 13", 0, 14);
  pdf->y += 4;
}

/* "label: value", the value in monospace (fingerprints, hashes). */
static void
field (Pdf *pdf, const char *label, const char *value, gboolean mono)
{
  g_autofree char *l = g_markup_escape_text (label, -1);
  g_autofree char *v = g_markup_escape_text (value != NULL ? value : "—", -1);
  g_autofree char *markup = g_strdup_printf (mono ? "<b>%s</b>" : "<b>%s</b>  %s", l, v);

  paragraph (pdf, markup, "Sans 9", 0, 2);
  if (mono)
    {
      /* A fingerprint in its groups, as it is read aloud. */
      g_autofree char *value_markup = g_strdup_printf ("<tt>%s</tt>", v);

      paragraph (pdf, value_markup, "Sans 9", 12, 1);
    }
}

static char *
fingerprint_of (GBytes *point)
{
  g_autofree char *fingerprint = point != NULL ? tke_unit_root_fingerprint (point) : NULL;

  return fingerprint != NULL ? tke_unit_root_format_fingerprint (fingerprint) : NULL;
}

/* The instance the records' units belong to (the first one named). */
static char *
instance_of (const char *const *records)
{
  for (guint i = 0; records[i] != NULL; i++)
    {
      g_autoptr (JsonObject) record = _tke_ceremony_report_parse (records[i]);
      JsonArray *units = record != NULL ? _tke_json_get_array (record, "units") : NULL;

      if (units != NULL && json_array_get_length (units) > 0)
        {
          JsonNode *node = json_array_get_element (units, 0);

          if (JSON_NODE_HOLDS_OBJECT (node))
            return g_strdup (_tke_json_get_string (json_node_get_object (node), "instance"));
        }
    }
  return NULL;
}

static void
write_header (Pdf *pdf, TkeCeremonyReport *self, JsonObject *summary)
{
  const char *const *records = _tke_ceremony_report_get_records (self);
  g_autoptr (GBytes) root = tke_ceremony_report_dup_unit_root (self);
  g_autoptr (GBytes) workstation = tke_ceremony_report_dup_workstation_key (self);
  g_autofree char *root_fingerprint = fingerprint_of (root);
  g_autofree char *workstation_fingerprint = fingerprint_of (workstation);
  g_autofree char *instance = instance_of (records);
  g_auto (GStrv) signers = tke_ceremony_report_dup_signer_names (self);
  g_autofree char *signed_by = g_strjoinv (", ", signers);
  g_autofree char *title = g_markup_escape_text (_ ("Ceremony report"), -1);
  g_autofree char *n_records =
      g_strdup_printf ("%u", records != NULL ? g_strv_length ((GStrv) records) : 0);

  paragraph (pdf, title, "Sans Bold 20", 0, 0);
  pdf->y += 8;
  field (pdf, _ ("Instance:"), instance, TRUE);
  field (pdf, _ ("Unit root fingerprint (SHA-256):"), root_fingerprint, TRUE);
  field (pdf, _ ("Workstation key fingerprint (SHA-256):"), workstation_fingerprint, TRUE);
  field (pdf, _ ("Signed by:"), signed_by, FALSE);
  field (pdf, _ ("Made:"), summary != NULL ? _tke_json_get_string (summary, "created") : NULL,
         FALSE);
  field (pdf, _ ("Records:"), n_records, FALSE);
  paragraph (pdf,
             _ ("<i>This PDF is for reading. The JSON report is what verifies: run “tke report "
                "verify FILE” on it, with the unit root you trust.</i>"),
             "Sans 8", 0, 6);
}

static void
write_ceremonies (Pdf *pdf, JsonObject *summary)
{
  JsonArray *ceremonies = summary != NULL ? _tke_json_get_array (summary, "ceremonies") : NULL;

  heading (pdf, _ ("Ceremonies"));
  for (guint i = 0; ceremonies != NULL && i < json_array_get_length (ceremonies); i++)
    {
      JsonNode *node = json_array_get_element (ceremonies, i);
      JsonObject *ceremony = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *outcome;
      g_autofree char *text = NULL;
      g_autofree char *markup = NULL;

      if (ceremony == NULL)
        continue;
      outcome = _tke_json_get_string (ceremony, "outcome") ?: "";
      text = g_markup_printf_escaped ("<b>%s</b>  %s – %s  %s",
                                      _tke_json_get_string (ceremony, "kind") ?: "?",
                                      _tke_json_get_string (ceremony, "started") ?: "?",
                                      _tke_json_get_string (ceremony, "ended") ?: "?", outcome);
      markup = g_strcmp0 (outcome, "ok") == 0 || outcome[0] == '\0'
                   ? g_strdup (text)
                   : g_strdup_printf ("<span foreground=\"#c01c28\">%s</span>", text);
      hanging_paragraph (pdf, markup, "Sans 9", 0, 24, 2);
    }
}

/* The before/after table, as the report dialog shows it: a ceremony's
 * line and each unit's name in bold, its registers indented under it. */
static void
write_units (Pdf *pdf, TkeCeremonyReport *self)
{
  g_autofree char *units = tke_ceremony_report_format_units (self);
  g_auto (GStrv) lines = g_strsplit (units, "\n", -1);

  if (units[0] == '\0')
    return;
  heading (pdf, _ ("Crypto units before and after"));
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize depth = strspn (lines[i], " ");
      g_autofree char *escaped = g_markup_escape_text (lines[i] + depth, -1);
      g_autofree char *bold = NULL;

      if (escaped[0] == '\0')
        continue;
      if (depth == 0)
        {
          bold = g_strdup_printf ("<b>%s</b>", escaped);
          paragraph (pdf, bold, "Sans 9", 0, 4);
        }
      else
        paragraph (pdf, escaped, "Monospace 8", 6.0 * (double) depth, 1);
    }
}

static void
write_records (Pdf *pdf, const char *const *records)
{
  heading (pdf, _ ("Timeline: every record, in order"));
  for (guint i = 0; records[i] != NULL; i++)
    {
      g_autoptr (JsonObject) record = _tke_ceremony_report_parse (records[i]);
      g_autoptr (GString) text = g_string_new (NULL);
      g_autofree char *hash = _tke_audit_hash_line (records[i]);
      g_autofree char *hash_markup = NULL;
      gboolean deviation;
      char *newline;

      if (record == NULL)
        continue;
      deviation = _tke_audit_record_is_deviation (record);
      _tke_ceremony_report_append_record (text, record);
      /* The first line is the record's own (its number, time, step). */
      newline = strchr (text->str, '\n');
      if (newline != NULL)
        *newline = '\0';
      {
        g_autofree char *first = g_markup_escape_text (g_strstrip (text->str), -1);
        g_autofree char *markup =
            deviation
                ? g_markup_printf_escaped ("<span foreground=\"#c01c28\"><b>%s</b>  %s</span>",
                                           g_strstrip (text->str), _ ("(a deviation)"))
                : g_strdup_printf ("<b>%s</b>", first);

        paragraph (pdf, markup, "Sans 9", 0, 6);
      }
      hash_markup = g_markup_printf_escaped ("<tt>%s %s</tt>", _ ("SHA-256:"), hash ?: "?");
      paragraph (pdf, hash_markup, "Sans 7", 12, 1);
      if (newline != NULL && newline[1] != '\0')
        record_details (pdf, newline + 1);
    }
}

static void
write_signatures (Pdf *pdf, TkeCeremonyReport *self)
{
  JsonArray *signatures = _tke_ceremony_report_get_signatures (self);

  heading (pdf, _ ("Signatures over the summary"));
  for (guint i = 0; i < json_array_get_length (signatures); i++)
    {
      JsonNode *node = json_array_get_element (signatures, i);
      JsonObject *signature = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      g_autoptr (GBytes) key = NULL;
      g_autofree char *fingerprint = NULL;
      g_autofree char *label = NULL;

      if (signature == NULL)
        continue;
      key = tke_crypto_hex_decode (_tke_json_get_string (signature, "public_key") ?: "", NULL);
      fingerprint = fingerprint_of (key);
      label = g_strdup_printf ("%u. %s %s", i + 1, _tke_json_get_string (signature, "role") ?: "?",
                               _tke_json_get_string (signature, "name") ?: "");
      field (pdf, label, fingerprint, TRUE);
    }
}

static cairo_status_t
write_to_stream (void *closure, const unsigned char *data, unsigned int length)
{
  GOutputStream *stream = closure;

  return g_output_stream_write_all (stream, data, length, NULL, NULL, NULL)
             ? CAIRO_STATUS_SUCCESS
             : CAIRO_STATUS_WRITE_ERROR;
}

/**
 * tke_ceremony_report_write_pdf:
 * @self: a report
 * @path: the PDF file to write (replaced if it exists)
 * @error: return location for a #GError (%TKE_ERROR_IO)
 *
 * Renders the report for people as a PDF: the instance, the unit root and
 * workstation key fingerprints and who signed; the ceremonies and their
 * outcomes; every record in order with its SHA-256, the units' registers
 * before and after, the service's messages, the advice followed (steps
 * that failed marked as deviations); and the signatures.  Nothing in it is
 * secret, as nothing in the report is.
 *
 * Returns: %TRUE if the file is written
 */
gboolean
tke_ceremony_report_write_pdf (TkeCeremonyReport *self, const char *path, GError **error)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFileOutputStream) stream = NULL;
  g_autoptr (JsonObject) summary = NULL;
  g_autoptr (GError) local_error = NULL;
  cairo_surface_t *surface;
  cairo_status_t status;
  Pdf pdf = { 0 };

  g_return_val_if_fail (TKE_IS_CEREMONY_REPORT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  file = g_file_new_for_path (path);
  stream =
      g_file_replace (file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, NULL, &local_error);
  if (stream == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The PDF “%s” cannot be written: %s"), path,
                   local_error->message);
      return FALSE;
    }
  surface = cairo_pdf_surface_create_for_stream (write_to_stream, stream, PAGE_WIDTH, PAGE_HEIGHT);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, _ ("Ceremony report"));
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Trusted Key Entry");
  pdf.cr = cairo_create (surface);
  summary = _tke_ceremony_report_parse (_tke_ceremony_report_get_summary (self));
  new_page (&pdf);
  write_header (&pdf, self, summary);
  write_ceremonies (&pdf, summary);
  write_units (&pdf, self);
  write_records (&pdf, _tke_ceremony_report_get_records (self));
  write_signatures (&pdf, self);
  cairo_destroy (pdf.cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS ||
      !g_output_stream_close (G_OUTPUT_STREAM (stream), NULL, &local_error))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The PDF “%s” cannot be written: %s"), path,
                   local_error != NULL ? local_error->message : cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

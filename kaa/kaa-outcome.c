/* kaa-outcome.c: what an operation ends with, a value or an error
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The outcome's setters that copy or allocate, and its GValue form; the
 * cheap parts (clear, move, the scalars) are inline in
 * kaa-outcome-private.h. The thread that holds an outcome is the only
 * one that touches it: an InProgress's is written once before its final
 * state is published, and read after.
 */
#include "config.h"

#include "kaa-outcome-private.h"
#include "kaa-signal-args.h"

#include <gio/gio.h>

void
kaa_outcome_set_string (KaaOutcome *self,
                        const char *value)
{
  kaa_outcome_take_pointer (self, KAA_OUTCOME_STRING, g_strdup (value), g_free);
}

/* A NULL object has no destroy: kaa_outcome_clear() would hand
 * g_object_unref() a NULL. */
void
kaa_outcome_set_object (KaaOutcome *self,
                        gpointer    object)
{
  if (object != NULL)
    kaa_outcome_take_pointer (self, KAA_OUTCOME_OBJECT, g_object_ref (object), g_object_unref);
  else
    kaa_outcome_take_pointer (self, KAA_OUTCOME_OBJECT, NULL, NULL);
}

static void
value_free (gpointer value)
{
  g_value_unset (value);
  g_free (value);
}

void
kaa_outcome_take_value (KaaOutcome *self,
                        GValue     *value)
{
  kaa_outcome_take_pointer (self, KAA_OUTCOME_VALUE, value, value_free);
}

void
kaa_outcome_set_value (KaaOutcome   *self,
                       const GValue *value)
{
  GValue *copy = g_new0 (GValue, 1);

  g_value_init (copy, G_VALUE_TYPE (value));
  g_value_copy (value, copy);
  kaa_outcome_take_value (self, copy);
}

const char *
kaa_outcome_kind_name (KaaOutcomeKind kind)
{
  switch (kind)
    {
    case KAA_OUTCOME_POINTER: return "pointer";
    case KAA_OUTCOME_BOOLEAN: return "boolean";
    case KAA_OUTCOME_INT64:   return "int64";
    case KAA_OUTCOME_DOUBLE:  return "double";
    case KAA_OUTCOME_STRING:  return "string";
    case KAA_OUTCOME_OBJECT:  return "object";
    case KAA_OUTCOME_VALUE:   return "value";
    case KAA_OUTCOME_ERROR:   return "error";
    case KAA_OUTCOME_NONE:
    case KAA_OUTCOME_FORWARD:
    default:                  return "none";
    }
}

/* A pointer whose destroy notify frees a boxed type is of that type: the
 * wrappers' GBytes, GVariant and strv results (issue #22), and any a
 * producer stores the same way, reach a binding as a boxed GValue
 * instead of a bare gpointer. */
static void
pointer_to_value (const KaaOutcome *self,
                  GValue           *value)
{
  GDestroyNotify destroy = self->destroy;
  gpointer pointer = self->v.v_pointer;
  GType type = G_TYPE_POINTER;

  if (pointer == NULL)
    type = G_TYPE_POINTER;
  else if (destroy == (GDestroyNotify) g_bytes_unref)
    type = G_TYPE_BYTES;
  else if (destroy == (GDestroyNotify) g_variant_unref)
    type = G_TYPE_VARIANT;
  else if (destroy == (GDestroyNotify) g_strfreev)
    type = G_TYPE_STRV;
  else if (destroy == (GDestroyNotify) kaa_signal_args_unref)
    type = KAA_TYPE_SIGNAL_ARGS;
  else if (destroy == (GDestroyNotify) g_resolver_free_addresses)
    {
      /* A GList has no GType: the addresses go into a list model. */
      GListStore *store = g_list_store_new (G_TYPE_INET_ADDRESS);

      for (GList *l = pointer; l != NULL; l = l->next)
        g_list_store_append (store, l->data);
      g_value_take_object (g_value_init (value, G_TYPE_LIST_STORE), store);
      return;
    }

  g_value_init (value, type);
  if (type == G_TYPE_POINTER)
    g_value_set_pointer (value, pointer);
  else if (type == G_TYPE_VARIANT)   /* a fundamental type, not a boxed one */
    g_value_set_variant (value, pointer);
  else
    g_value_set_boxed (value, pointer);
}

void
kaa_outcome_to_value (const KaaOutcome *self,
                      GValue           *value)
{
  switch (self->kind)
    {
    case KAA_OUTCOME_BOOLEAN:
      g_value_set_boolean (g_value_init (value, G_TYPE_BOOLEAN), self->v.v_boolean);
      break;
    case KAA_OUTCOME_INT64:
      g_value_set_int64 (g_value_init (value, G_TYPE_INT64), self->v.v_int64);
      break;
    case KAA_OUTCOME_DOUBLE:
      g_value_set_double (g_value_init (value, G_TYPE_DOUBLE), self->v.v_double);
      break;
    case KAA_OUTCOME_STRING:
      g_value_set_string (g_value_init (value, G_TYPE_STRING), self->v.v_pointer);
      break;
    case KAA_OUTCOME_OBJECT:
      g_value_init (value, self->v.v_pointer != NULL
                             ? G_OBJECT_TYPE (self->v.v_pointer) : G_TYPE_OBJECT);
      g_value_set_object (value, self->v.v_pointer);
      break;
    case KAA_OUTCOME_VALUE:
      g_value_init (value, G_VALUE_TYPE ((GValue *) self->v.v_pointer));
      g_value_copy (self->v.v_pointer, value);
      break;
    case KAA_OUTCOME_POINTER:
      pointer_to_value (self, value);
      break;
    case KAA_OUTCOME_NONE:
    case KAA_OUTCOME_FORWARD:
    case KAA_OUTCOME_ERROR:
    default:
      g_value_init (value, G_TYPE_POINTER);
      break;
    }
}

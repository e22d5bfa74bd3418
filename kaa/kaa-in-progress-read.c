/* kaa-in-progress-read.c: reading an InProgress's outcome
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The consumer's getters, typed and as a GValue, and the checks the typed
 * awaits make first. They require a settled InProgress, whose result
 * fields no longer change (kaa-in-progress-result.c); after
 * kaa_in_progress_finish_from() they read the InProgress it forwards to.
 */
#include "config.h"

#include "kaa-i18n-private.h"
#include "kaa-error.h"
#include "kaa-in-progress-impl-private.h"
#include "kaa-signal-args.h"

#include <gio/gio.h>

static void
result_not_done (KaaInProgress *self,
                 const char    *function)
{
  g_critical ("%s: InProgress %s (%p) is not done yet: its outcome can be read once it "
              "has settled (await it, wait for it, or connect a callback)",
              function, in_progress_name (self), self);
}

/* The InProgress whose result a getter reads: @self, or, after
 * finish_from, the one it forwards to. NULL if @self did not finish. */
static KaaInProgress *
result_holder (KaaInProgress *self,
               const char    *function)
{
  gint state;

  if (in_progress_is_freed (self))
    {
      kaa_in_progress_report_freed (self, function);
      return NULL;
    }
  state = g_atomic_int_get (&self->state);
  if (!state_is_final (state))
    {
      result_not_done (self, function);
      return NULL;
    }
  if (state != KAA_STATE_FINISHED)
    return NULL;
  while (self->kind == RESULT_FORWARD)
    self = self->result.v_pointer;
  return self;
}

/* The name of a result type in messages: the suffix of the finish
 * function that stores it. */
static const char *
result_kind_name (ResultKind kind)
{
  switch (kind)
    {
    case RESULT_POINTER: return "pointer";
    case RESULT_BOOLEAN: return "boolean";
    case RESULT_INT64:   return "int64";
    case RESULT_DOUBLE:  return "double";
    case RESULT_STRING:  return "string";
    case RESULT_OBJECT:  return "object";
    case RESULT_VALUE:   return "value";
    case RESULT_NONE:
    case RESULT_FORWARD:
    default:             return "none";
    }
}

/* A read of the wrong type is a programming error: a critical, and for
 * the typed awaits also a GError, both naming the two types. */
static void
result_refuse (KaaInProgress  *holder,
               const char     *function,
               const char     *expected,
               GError        **error)
{
  g_critical ("%s: InProgress %s (%p) finished with a result of type %s, not %s",
              function, in_progress_name (holder), holder,
              result_kind_name (holder->kind), expected);
  g_set_error (error, KAA_ERROR, KAA_ERROR_WRONG_RESULT_TYPE,
               _("InProgress %s finished with a result of type %s, not %s"),
               in_progress_name (holder), result_kind_name (holder->kind), expected);
}

/* The getters' check: @kind, or @also (a NULL string or object). */
static gboolean
result_check_kind_full (KaaInProgress  *holder,
                        const char     *function,
                        ResultKind      kind,
                        ResultKind      also,
                        GError        **error)
{
  if (holder->kind == kind || holder->kind == also)
    return TRUE;
  result_refuse (holder, function, result_kind_name (kind), error);
  return FALSE;
}

static gboolean
result_check_kind (KaaInProgress *holder,
                   const char    *function,
                   ResultKind     kind,
                   ResultKind     also)
{
  return result_check_kind_full (holder, function, kind, also, NULL);
}

/* For the typed awaits, before they call the getter for @type on @self,
 * which finished: the getter's check, plus a GError naming both types. */
gboolean
kaa_in_progress_check_result_type (KaaInProgress *self,
                                   GType          type,
                                   const char    *function,
                                   GError       **error)
{
  KaaInProgress *holder = result_holder (self, function);
  ResultKind kind, also;

  if (holder == NULL)
    return TRUE;   /* not finished: the getter gives its empty value */
  if (type == G_TYPE_BOOLEAN)
    kind = RESULT_BOOLEAN;
  else if (type == G_TYPE_INT64)
    kind = RESULT_INT64;
  else if (type == G_TYPE_DOUBLE)
    kind = RESULT_DOUBLE;
  else if (type == G_TYPE_STRING)
    kind = RESULT_STRING;
  else
    kind = RESULT_OBJECT;
  /* A string or an object may be NULL: finished with nothing. */
  also = kind == RESULT_STRING || kind == RESULT_OBJECT ? RESULT_NONE : kind;
  return result_check_kind_full (holder, function, kind, also, error);
}

/* For kaa_await_bytes(): a new reference to the GBytes result of @self
 * (a pointer freed with g_bytes_unref(), or a G_TYPE_BYTES value), %NULL
 * for an empty one; another result is the programming error of the
 * typed awaits. */
GBytes *
kaa_in_progress_dup_bytes (KaaInProgress *self,
                           const char    *function,
                           GError       **error)
{
  KaaInProgress *holder = result_holder (self, function);

  if (holder == NULL || holder->kind == RESULT_NONE)
    return NULL;
  if (holder->kind == RESULT_POINTER && (holder->result.v_pointer == NULL ||
                                         holder->result_destroy == (GDestroyNotify) g_bytes_unref))
    return holder->result.v_pointer != NULL ? g_bytes_ref (holder->result.v_pointer) : NULL;
  if (holder->kind == RESULT_VALUE && G_VALUE_HOLDS (holder->result.v_pointer, G_TYPE_BYTES))
    return g_value_dup_boxed (holder->result.v_pointer);
  result_refuse (holder, function, "GBytes", error);
  return NULL;
}

/* For kaa_await_pointer(): moves the pointer result of @self (or of what
 * it follows after finish_from) out to the caller, who frees it now; the
 * holder keeps %NULL and no destroy notify, as with g_task_propagate_pointer().
 * %NULL for an empty result; another result is the programming error of
 * the typed awaits. */
gpointer
kaa_in_progress_take_pointer (KaaInProgress *self,
                              const char    *function,
                              GError       **error)
{
  KaaInProgress *holder = result_holder (self, function);

  if (holder == NULL || holder->kind == RESULT_NONE)
    return NULL;
  if (holder->kind == RESULT_POINTER)
    {
      holder->result_destroy = NULL;
      return g_steal_pointer (&holder->result.v_pointer);
    }
  result_refuse (holder, function, "a pointer", error);
  return NULL;
}

/**
 * kaa_in_progress_propagate:
 * @self: a done [struct@Kaa.InProgress]
 * @error: return location for the error of @self
 *
 * Tells whether @self finished, and if not, why. The error keeps its own
 * domain and code (`G_IO_ERROR_CANCELLED` after a cancel). Reading it
 * counts as handling it.
 *
 * Returns: %TRUE if @self finished, %FALSE with @error set otherwise
 * Since: 0.1
 */
gboolean
kaa_in_progress_propagate (KaaInProgress *self,
                           GError       **error)
{
  gint state;

  g_return_val_if_fail (self != NULL, FALSE);
  in_progress_return_val_if_freed (self, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  state = g_atomic_int_get (&self->state);
  if (!state_is_final (state))
    {
      result_not_done (self, G_STRFUNC);
      return FALSE;
    }

  if (state == KAA_STATE_FINISHED)
    return TRUE;
  kaa_in_progress_mark_error_seen (self);
  g_propagate_error (error, g_error_copy (self->error));
  return FALSE;
}

/**
 * kaa_in_progress_get_error:
 * @self: a done [struct@Kaa.InProgress]
 *
 * The error @self failed or was cancelled with. Reading it counts as
 * handling it.
 *
 * Returns: (transfer none) (nullable): the error, or %NULL if @self finished
 * Since: 0.1
 */
const GError *
kaa_in_progress_get_error (KaaInProgress *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  in_progress_return_val_if_freed (self, NULL);
  if (!in_progress_is_final (self))
    {
      result_not_done (self, G_STRFUNC);
      return NULL;
    }

  kaa_in_progress_mark_error_seen (self);
  return self->error;
}

/**
 * kaa_in_progress_get_pointer: (skip)
 * @self: a done [struct@Kaa.InProgress]
 *
 * The result of @self as a pointer: what finish_pointer, finish_string or
 * finish_object stored. %NULL if @self failed or was cancelled.
 *
 * C only: language bindings read any result with
 * [method@Kaa.InProgress.get_value] or a typed getter.
 *
 * On a failed or cancelled @self every getter returns its empty value
 * (%FALSE, 0, 0.0, %NULL, a %NULL pointer #GValue) without a critical;
 * [method@Kaa.InProgress.propagate] tells why. Reading @self before it is
 * done, or as another type than it holds, is a programming error: a
 * critical, and the same empty value.
 *
 * Returns: (transfer none) (nullable): the result, owned by @self
 * Since: 0.1
 */
gpointer
kaa_in_progress_get_pointer (KaaInProgress *self)
{
  KaaInProgress *holder;

  g_return_val_if_fail (self != NULL, NULL);

  holder = result_holder (self, G_STRFUNC);
  if (holder == NULL || holder->kind == RESULT_NONE)
    return NULL;
  if (holder->kind != RESULT_STRING && holder->kind != RESULT_OBJECT &&
      !result_check_kind (holder, G_STRFUNC, RESULT_POINTER, RESULT_POINTER))
    return NULL;
  return holder->result.v_pointer;
}

/**
 * kaa_in_progress_get_boolean:
 * @self: a done [struct@Kaa.InProgress]
 *
 * Reads the boolean result of @self.
 *
 * On a failed or cancelled @self every getter returns its empty value
 * (%FALSE, 0, 0.0, %NULL, a %NULL pointer #GValue) without a critical;
 * [method@Kaa.InProgress.propagate] tells why. Reading @self before it is
 * done, or as another type than it holds, is a programming error: a
 * critical, and the same empty value.
 *
 * Returns: the boolean result, or %FALSE if @self failed or was cancelled
 * Since: 0.1
 */
gboolean
kaa_in_progress_get_boolean (KaaInProgress *self)
{
  KaaInProgress *holder;

  g_return_val_if_fail (self != NULL, FALSE);

  holder = result_holder (self, G_STRFUNC);
  if (holder == NULL || !result_check_kind (holder, G_STRFUNC, RESULT_BOOLEAN, RESULT_BOOLEAN))
    return FALSE;
  return holder->result.v_boolean;
}

/**
 * kaa_in_progress_get_int64:
 * @self: a done [struct@Kaa.InProgress]
 *
 * Reads the integer result of @self.
 *
 * On a failed or cancelled @self every getter returns its empty value
 * (%FALSE, 0, 0.0, %NULL, a %NULL pointer #GValue) without a critical;
 * [method@Kaa.InProgress.propagate] tells why. Reading @self before it is
 * done, or as another type than it holds, is a programming error: a
 * critical, and the same empty value.
 *
 * Returns: the integer result, or 0 if @self failed or was cancelled
 * Since: 0.1
 */
gint64
kaa_in_progress_get_int64 (KaaInProgress *self)
{
  KaaInProgress *holder;

  g_return_val_if_fail (self != NULL, 0);

  holder = result_holder (self, G_STRFUNC);
  if (holder == NULL || !result_check_kind (holder, G_STRFUNC, RESULT_INT64, RESULT_INT64))
    return 0;
  return holder->result.v_int64;
}

/**
 * kaa_in_progress_get_double:
 * @self: a done [struct@Kaa.InProgress]
 *
 * Reads the double result of @self.
 *
 * On a failed or cancelled @self every getter returns its empty value
 * (%FALSE, 0, 0.0, %NULL, a %NULL pointer #GValue) without a critical;
 * [method@Kaa.InProgress.propagate] tells why. Reading @self before it is
 * done, or as another type than it holds, is a programming error: a
 * critical, and the same empty value.
 *
 * Returns: the double result, or 0.0 if @self failed or was cancelled
 * Since: 0.1
 */
gdouble
kaa_in_progress_get_double (KaaInProgress *self)
{
  KaaInProgress *holder;

  g_return_val_if_fail (self != NULL, 0.0);

  holder = result_holder (self, G_STRFUNC);
  if (holder == NULL || !result_check_kind (holder, G_STRFUNC, RESULT_DOUBLE, RESULT_DOUBLE))
    return 0.0;
  return holder->result.v_double;
}

/**
 * kaa_in_progress_get_string:
 * @self: a done [struct@Kaa.InProgress]
 *
 * Reads the string result of @self.
 *
 * On a failed or cancelled @self every getter returns its empty value
 * (%FALSE, 0, 0.0, %NULL, a %NULL pointer #GValue) without a critical;
 * [method@Kaa.InProgress.propagate] tells why. Reading @self before it is
 * done, or as another type than it holds, is a programming error: a
 * critical, and the same empty value.
 *
 * Returns: (transfer none) (nullable): the string result, owned by @self,
 *   or %NULL if @self failed or was cancelled
 * Since: 0.1
 */
const char *
kaa_in_progress_get_string (KaaInProgress *self)
{
  KaaInProgress *holder;

  g_return_val_if_fail (self != NULL, NULL);

  holder = result_holder (self, G_STRFUNC);
  if (holder == NULL || !result_check_kind (holder, G_STRFUNC, RESULT_STRING, RESULT_NONE))
    return NULL;
  return holder->result.v_pointer;
}

/**
 * kaa_in_progress_dup_string:
 * @self: a done [struct@Kaa.InProgress]
 *
 * Reads a copy of the string result of @self.
 *
 * On a failed or cancelled @self every getter returns its empty value
 * (%FALSE, 0, 0.0, %NULL, a %NULL pointer #GValue) without a critical;
 * [method@Kaa.InProgress.propagate] tells why. Reading @self before it is
 * done, or as another type than it holds, is a programming error: a
 * critical, and the same empty value.
 *
 * Returns: (transfer full) (nullable): a copy of the string result, or
 *   %NULL if @self failed or was cancelled
 * Since: 0.1
 */
char *
kaa_in_progress_dup_string (KaaInProgress *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_strdup (kaa_in_progress_get_string (self));
}

/**
 * kaa_in_progress_get_object:
 * @self: a done [struct@Kaa.InProgress]
 *
 * Reads the object result of @self.
 *
 * On a failed or cancelled @self every getter returns its empty value
 * (%FALSE, 0, 0.0, %NULL, a %NULL pointer #GValue) without a critical;
 * [method@Kaa.InProgress.propagate] tells why. Reading @self before it is
 * done, or as another type than it holds, is a programming error: a
 * critical, and the same empty value.
 *
 * Returns: (type GObject) (transfer none) (nullable): the object result,
 *   owned by @self, or %NULL if @self failed or was cancelled
 * Since: 0.1
 */
gpointer
kaa_in_progress_get_object (KaaInProgress *self)
{
  KaaInProgress *holder;

  g_return_val_if_fail (self != NULL, NULL);

  holder = result_holder (self, G_STRFUNC);
  if (holder == NULL || !result_check_kind (holder, G_STRFUNC, RESULT_OBJECT, RESULT_NONE))
    return NULL;
  return holder->result.v_pointer;
}

/**
 * kaa_in_progress_dup_object:
 * @self: a done [struct@Kaa.InProgress]
 *
 * Reads the object result of @self and takes a reference to it.
 *
 * On a failed or cancelled @self every getter returns its empty value
 * (%FALSE, 0, 0.0, %NULL, a %NULL pointer #GValue) without a critical;
 * [method@Kaa.InProgress.propagate] tells why. Reading @self before it is
 * done, or as another type than it holds, is a programming error: a
 * critical, and the same empty value.
 *
 * Returns: (type GObject) (transfer full) (nullable): a new reference to
 *   the object result, or %NULL if @self failed or was cancelled
 * Since: 0.1
 */
gpointer
kaa_in_progress_dup_object (KaaInProgress *self)
{
  gpointer object;

  g_return_val_if_fail (self != NULL, NULL);

  object = kaa_in_progress_get_object (self);
  return object != NULL ? g_object_ref (object) : NULL;
}

/* A pointer result whose destroy notify frees a boxed type is of that
 * type: the wrappers' GBytes, GVariant and strv results (issue #22), and
 * any a producer stores the same way, reach a binding as a boxed GValue
 * instead of a bare gpointer. */
static void
pointer_to_value (KaaInProgress *holder,
                  GValue        *value)
{
  GDestroyNotify destroy = holder->result_destroy;
  GType type = G_TYPE_POINTER;

  if (holder->result.v_pointer == NULL)
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

      for (GList *l = holder->result.v_pointer; l != NULL; l = l->next)
        g_list_store_append (store, l->data);
      g_value_take_object (g_value_init (value, G_TYPE_LIST_STORE), store);
      return;
    }

  g_value_init (value, type);
  if (type == G_TYPE_POINTER)
    g_value_set_pointer (value, holder->result.v_pointer);
  else if (type == G_TYPE_VARIANT)   /* a fundamental type, not a boxed one */
    g_value_set_variant (value, holder->result.v_pointer);
  else
    g_value_set_boxed (value, holder->result.v_pointer);
}

/**
 * kaa_in_progress_get_value:
 * @self: a done [struct@Kaa.InProgress]
 * @value: (out caller-allocates): an uninitialized #GValue
 *
 * Copies any kind of result into @value: a value stored with
 * finish_value keeps its type, the other kinds become the matching
 * fundamental type. A pointer stored with the destroy notify of a boxed
 * type — g_bytes_unref(), g_variant_unref(), g_strfreev() — becomes that
 * type (`G_TYPE_BYTES`, `G_TYPE_VARIANT`, `G_TYPE_STRV`), and the #GList
 * of [func@Kaa.resolver_lookup_by_name] (freed with
 * g_resolver_free_addresses()) a new #GListStore of its #GInetAddresses,
 * and the arguments of a signal emission (freed with
 * kaa_signal_args_unref()) a [struct@Kaa.SignalArgs]:
 * so the results of the GIO wrappers reach a binding; another pointer
 * becomes `G_TYPE_POINTER`. If @self failed or was cancelled, @value holds a
 * %NULL pointer.
 *
 * On a failed or cancelled @self every getter returns its empty value
 * (%FALSE, 0, 0.0, %NULL, a %NULL pointer #GValue) without a critical;
 * [method@Kaa.InProgress.propagate] tells why. Reading @self before it is
 * done is a programming error: a critical, and the same empty value.
 *
 * Since: 0.1
 */
void
kaa_in_progress_get_value (KaaInProgress *self,
                           GValue        *value)
{
  KaaInProgress *holder;

  g_return_if_fail (self != NULL);
  g_return_if_fail (value != NULL && !G_IS_VALUE (value));

  holder = result_holder (self, G_STRFUNC);
  switch (holder != NULL ? holder->kind : RESULT_NONE)
    {
    case RESULT_BOOLEAN:
      g_value_set_boolean (g_value_init (value, G_TYPE_BOOLEAN), holder->result.v_boolean);
      break;
    case RESULT_INT64:
      g_value_set_int64 (g_value_init (value, G_TYPE_INT64), holder->result.v_int64);
      break;
    case RESULT_DOUBLE:
      g_value_set_double (g_value_init (value, G_TYPE_DOUBLE), holder->result.v_double);
      break;
    case RESULT_STRING:
      g_value_set_string (g_value_init (value, G_TYPE_STRING), holder->result.v_pointer);
      break;
    case RESULT_OBJECT:
      g_value_init (value, holder->result.v_pointer != NULL
                             ? G_OBJECT_TYPE (holder->result.v_pointer) : G_TYPE_OBJECT);
      g_value_set_object (value, holder->result.v_pointer);
      break;
    case RESULT_VALUE:
      g_value_init (value, G_VALUE_TYPE ((GValue *) holder->result.v_pointer));
      g_value_copy (holder->result.v_pointer, value);
      break;
    case RESULT_POINTER:
      pointer_to_value (holder, value);
      break;
    case RESULT_NONE:
    case RESULT_FORWARD:
    default:
      g_value_init (value, G_TYPE_POINTER);
      break;
    }
}

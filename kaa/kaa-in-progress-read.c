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
  while (self->outcome.kind == KAA_OUTCOME_FORWARD)
    self = self->outcome.v.v_pointer;
  return self;
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
              kaa_outcome_kind_name (holder->outcome.kind), expected);
  g_set_error (error, KAA_ERROR, KAA_ERROR_WRONG_RESULT_TYPE,
               _("InProgress %s finished with a result of type %s, not %s"),
               in_progress_name (holder), kaa_outcome_kind_name (holder->outcome.kind),
               expected);
}

/* The getters' check: @kind, or @also (a NULL string or object). */
static gboolean
result_check_kind_full (KaaInProgress  *holder,
                        const char     *function,
                        KaaOutcomeKind  kind,
                        KaaOutcomeKind  also,
                        GError        **error)
{
  if (holder->outcome.kind == kind || holder->outcome.kind == also)
    return TRUE;
  result_refuse (holder, function, kaa_outcome_kind_name (kind), error);
  return FALSE;
}

static gboolean
result_check_kind (KaaInProgress  *holder,
                   const char     *function,
                   KaaOutcomeKind  kind,
                   KaaOutcomeKind  also)
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
  KaaOutcomeKind kind, also;

  if (holder == NULL)
    return TRUE;   /* not finished: the getter gives its empty value */
  if (type == G_TYPE_BOOLEAN)
    kind = KAA_OUTCOME_BOOLEAN;
  else if (type == G_TYPE_INT64)
    kind = KAA_OUTCOME_INT64;
  else if (type == G_TYPE_DOUBLE)
    kind = KAA_OUTCOME_DOUBLE;
  else if (type == G_TYPE_STRING)
    kind = KAA_OUTCOME_STRING;
  else
    kind = KAA_OUTCOME_OBJECT;
  /* A string or an object may be NULL: finished with nothing. */
  also = kind == KAA_OUTCOME_STRING || kind == KAA_OUTCOME_OBJECT ? KAA_OUTCOME_NONE : kind;
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
  KaaOutcome *result;

  if (holder == NULL || holder->outcome.kind == KAA_OUTCOME_NONE)
    return NULL;
  result = &holder->outcome;
  if (result->kind == KAA_OUTCOME_POINTER &&
      (result->v.v_pointer == NULL || result->destroy == (GDestroyNotify) g_bytes_unref))
    return result->v.v_pointer != NULL ? g_bytes_ref (result->v.v_pointer) : NULL;
  if (result->kind == KAA_OUTCOME_VALUE && G_VALUE_HOLDS (result->v.v_pointer, G_TYPE_BYTES))
    return g_value_dup_boxed (result->v.v_pointer);
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

  if (holder == NULL || holder->outcome.kind == KAA_OUTCOME_NONE)
    return NULL;
  if (holder->outcome.kind == KAA_OUTCOME_POINTER)
    {
      holder->outcome.destroy = NULL;
      return g_steal_pointer (&holder->outcome.v.v_pointer);
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
  g_propagate_error (error, g_error_copy (kaa_outcome_get_error (&self->outcome)));
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
  return kaa_outcome_get_error (&self->outcome);
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
  if (holder == NULL || holder->outcome.kind == KAA_OUTCOME_NONE)
    return NULL;
  if (holder->outcome.kind != KAA_OUTCOME_STRING &&
      holder->outcome.kind != KAA_OUTCOME_OBJECT &&
      !result_check_kind (holder, G_STRFUNC, KAA_OUTCOME_POINTER, KAA_OUTCOME_POINTER))
    return NULL;
  return holder->outcome.v.v_pointer;
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
  if (holder == NULL ||
      !result_check_kind (holder, G_STRFUNC, KAA_OUTCOME_BOOLEAN, KAA_OUTCOME_BOOLEAN))
    return FALSE;
  return holder->outcome.v.v_boolean;
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
  if (holder == NULL ||
      !result_check_kind (holder, G_STRFUNC, KAA_OUTCOME_INT64, KAA_OUTCOME_INT64))
    return 0;
  return holder->outcome.v.v_int64;
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
  if (holder == NULL ||
      !result_check_kind (holder, G_STRFUNC, KAA_OUTCOME_DOUBLE, KAA_OUTCOME_DOUBLE))
    return 0.0;
  return holder->outcome.v.v_double;
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
  if (holder == NULL ||
      !result_check_kind (holder, G_STRFUNC, KAA_OUTCOME_STRING, KAA_OUTCOME_NONE))
    return NULL;
  return holder->outcome.v.v_pointer;
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
  if (holder == NULL ||
      !result_check_kind (holder, G_STRFUNC, KAA_OUTCOME_OBJECT, KAA_OUTCOME_NONE))
    return NULL;
  return holder->outcome.v.v_pointer;
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
  if (holder != NULL)
    kaa_outcome_to_value (&holder->outcome, value);
  else
    g_value_init (value, G_TYPE_POINTER);
}

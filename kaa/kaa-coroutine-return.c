/* kaa-coroutine-return.c: what a body reads of its coroutine and what it
 * settles with, and tail calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The body sets its outcome while it runs; kaa-coroutine.c settles the
 * InProgress with it once the body (and every body it became) returned.
 * Only the running coroutine may set its own outcome.
 */
#include "config.h"

#include "kaa-i18n-private.h"

#include "kaa-coroutine-private.h"

static gboolean
coroutine_check_self (KaaCoroutine *self,
                      const char   *function)
{
  if (G_LIKELY (self != NULL && self == kaa_coroutine_self ()))
    return TRUE;
  g_critical (_("%s: only the running coroutine may set its own outcome"), function);
  return FALSE;
}

/* Replaces what the body set with @next, which is moved. */
static void
return_set (KaaCoroutine *self,
            KaaOutcome   *next)
{
  kaa_outcome_clear (&self->outcome);
  kaa_outcome_move (&self->outcome, next);
}

/* For what the body hands over (a pointer, an error). Handed the very
 * one it holds (a pointer returned twice): keep it, since freeing the old
 * one would free the new. */
static void
return_take (KaaCoroutine   *self,
             KaaOutcomeKind  kind,
             gpointer        pointer,
             GDestroyNotify  destroy)
{
  KaaOutcome next = KAA_OUTCOME_INIT;

  if (pointer != NULL && kind == self->outcome.kind && pointer == self->outcome.v.v_pointer)
    self->outcome.destroy = NULL;
  kaa_outcome_take_pointer (&next, kind, pointer, destroy);
  return_set (self, &next);
}

/**
 * kaa_coroutine_return_pointer: (skip)
 * @self: the running coroutine
 * @result: (transfer full) (nullable): the result
 * @destroy: (nullable): frees @result
 *
 * Sets what the InProgress finishes with when the body returns; a later
 * return or throw replaces it (and frees it, unless it is the same
 * pointer again).
 *
 * C only, as [func@Kaa.Coroutine.spawn] is.
 *
 * Since: 0.1
 */
void
kaa_coroutine_return_pointer (KaaCoroutine  *self,
                              gpointer       result,
                              GDestroyNotify destroy)
{
  if (!coroutine_check_self (self, G_STRFUNC))
    {
      if (destroy != NULL)
        destroy (result);
      return;
    }
  return_take (self, KAA_OUTCOME_POINTER, result, destroy);
}

/**
 * kaa_coroutine_return_boolean:
 * @self: the running coroutine
 * @result: the result
 *
 * As [method@Kaa.Coroutine.return_pointer], for a boolean.
 *
 * Since: 0.1
 */
void
kaa_coroutine_return_boolean (KaaCoroutine *self,
                              gboolean      result)
{
  if (!coroutine_check_self (self, G_STRFUNC))
    return;
  kaa_outcome_clear (&self->outcome);
  kaa_outcome_set_boolean (&self->outcome, result);
}

/**
 * kaa_coroutine_return_int64:
 * @self: the running coroutine
 * @result: the result
 *
 * As [method@Kaa.Coroutine.return_pointer], for an integer.
 *
 * Since: 0.1
 */
void
kaa_coroutine_return_int64 (KaaCoroutine *self,
                            gint64        result)
{
  if (!coroutine_check_self (self, G_STRFUNC))
    return;
  kaa_outcome_clear (&self->outcome);
  kaa_outcome_set_int64 (&self->outcome, result);
}

/**
 * kaa_coroutine_return_double:
 * @self: the running coroutine
 * @result: the result
 *
 * As [method@Kaa.Coroutine.return_pointer], for a double.
 *
 * Since: 0.1
 */
void
kaa_coroutine_return_double (KaaCoroutine *self,
                             gdouble       result)
{
  if (!coroutine_check_self (self, G_STRFUNC))
    return;
  kaa_outcome_clear (&self->outcome);
  kaa_outcome_set_double (&self->outcome, result);
}

/**
 * kaa_coroutine_return_string:
 * @self: the running coroutine
 * @result: (nullable): the result, copied
 *
 * As [method@Kaa.Coroutine.return_pointer], for a copy of a string.
 *
 * Since: 0.1
 */
void
kaa_coroutine_return_string (KaaCoroutine *self,
                             const char   *result)
{
  if (!coroutine_check_self (self, G_STRFUNC))
    return;
  kaa_outcome_clear (&self->outcome);
  kaa_outcome_set_string (&self->outcome, result);
}

/**
 * kaa_coroutine_return_object:
 * @self: the running coroutine
 * @object: (type GObject) (transfer none) (nullable): the result
 *
 * As [method@Kaa.Coroutine.return_pointer], for a new reference to an
 * object.
 *
 * Since: 0.1
 */
void
kaa_coroutine_return_object (KaaCoroutine *self,
                             gpointer      object)
{
  KaaOutcome next = KAA_OUTCOME_INIT;

  if (!coroutine_check_self (self, G_STRFUNC))
    return;
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  /* The new reference first: @object may be the one held now, by its
   * last reference. */
  kaa_outcome_set_object (&next, object);
  return_set (self, &next);
}

/**
 * kaa_coroutine_throw:
 * @self: the running coroutine
 * @error: (transfer full): the error
 *
 * Makes the InProgress fail with @error when the body returns; a later
 * return or throw replaces it.
 *
 * Since: 0.1
 */
void
kaa_coroutine_throw (KaaCoroutine *self,
                     GError       *error)
{
  g_return_if_fail (error != NULL);
  if (!coroutine_check_self (self, G_STRFUNC))
    {
      g_error_free (error);
      return;
    }
  return_take (self, KAA_OUTCOME_ERROR, error, (GDestroyNotify) g_error_free);
}

/**
 * kaa_coroutine_become: (skip)
 * @self: the running coroutine
 * @func: (scope notified) (closure user_data) (destroy destroy): the next body
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when that body is done
 *
 * A tail call: once the current body returns, its frame is gone and
 * @func continues the same InProgress on the same stack, so an unbounded
 * chain of states runs in constant memory. Call it, then return. A
 * cancelled coroutine does not start the next body. Handing on the
 * current body's own user data (a state machine passing its state along)
 * moves it: it is freed once, by the destroy notify of the last body.
 *
 * C only, as [func@Kaa.Coroutine.spawn] is.
 *
 * Since: 0.1
 */
void
kaa_coroutine_become (KaaCoroutine     *self,
                      KaaCoroutineFunc  func,
                      gpointer          user_data,
                      GDestroyNotify    destroy)
{
  g_return_if_fail (func != NULL);
  if (!coroutine_check_self (self, G_STRFUNC))
    {
      if (destroy != NULL)
        destroy (user_data);
      return;
    }
  /* A second become with the same data keeps it: freeing it would hand
   * the next body freed memory. */
  if (self->next_destroy != NULL && self->next_data != user_data)
    self->next_destroy (self->next_data);
  self->next_func = func;
  self->next_data = user_data;
  self->next_destroy = destroy;
}

/**
 * kaa_coroutine_get_in_progress:
 * @self: a running coroutine
 *
 * The InProgress the coroutine will settle, for reporting progress on it.
 *
 * Returns: (transfer none) (nullable): the InProgress, or %NULL once the
 *   body is done
 * Since: 0.1
 */
KaaInProgress *
kaa_coroutine_get_in_progress (KaaCoroutine *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->in_progress;
}

/**
 * kaa_coroutine_get_name:
 * @self: a coroutine
 *
 * Tells the coroutine's name, from its definition.
 *
 * Returns: the name of its stack, as a stack overflow would report it
 * Since: 0.1
 */
const char *
kaa_coroutine_get_name (KaaCoroutine *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->fiber != NULL ? kaa_fiber_get_name (self->fiber) : "coroutine";
}

/**
 * kaa_coroutine_get_last:
 * @self: a coroutine
 *
 * For a call of a %KAA_POLICY_PASS_LAST definition: the InProgress of
 * the most recent call that was still unfinished when this one was made,
 * so that a new call can cancel, await or build on the one before.
 *
 * Returns: (transfer none) (nullable): that InProgress, or %NULL when
 *   there was none (always for other policies)
 * Since: 0.1
 */
KaaInProgress *
kaa_coroutine_get_last (KaaCoroutine *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->last;
}

/**
 * kaa_coroutine_is_cancelled:
 * @self: a coroutine
 *
 * Tells whether @self was cancelled, for a body that wants to stop early
 * between awaits.
 *
 * Returns: %TRUE once the InProgress of @self was cancelled
 * Since: 0.1
 */
gboolean
kaa_coroutine_is_cancelled (KaaCoroutine *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->cancelled;
}

/* kaa-in-progress-result.c: setting an InProgress's outcome
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The producer's finish_* and fail calls; the consumer's getters are in
 * kaa-in-progress-read.c. Each puts its argument in a KaaOutcome
 * (kaa-outcome-private.h) and hands it to kaa_in_progress_settle_outcome(),
 * which claims the InProgress with one CAS before it stores the outcome
 * (kaa-in-progress.c), so the getters, which require a settled
 * InProgress, read fields that no longer change.
 */
#include "config.h"

#include "kaa-error.h"
#include "kaa-in-progress-impl-private.h"

#include <gio/gio.h>

/**
 * kaa_in_progress_finish_pointer: (skip)
 * @self: a pending [struct@Kaa.InProgress]
 * @result: (nullable) (transfer full): the result
 * @destroy: (nullable): frees @result when @self is released
 *
 * Finishes @self with @result and calls the callbacks: on the owner
 * thread, those already connected run inside this call, in the order they
 * were connected; from another thread they run on the owner context.
 * Any thread. If @self was cancelled meanwhile, @result is freed with
 * @destroy and nothing else happens; finishing twice is a programming
 * error (a critical; the first result stays).
 *
 * C only: language bindings cannot hand over a raw pointer and its destroy
 * notify; they use [method@Kaa.InProgress.finish_value] or a typed form.
 *
 * Since: 0.1
 */
void
kaa_in_progress_finish_pointer (KaaInProgress *self,
                                gpointer       result,
                                GDestroyNotify destroy)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  g_return_if_fail (self != NULL);

  kaa_outcome_take_pointer (&outcome, KAA_OUTCOME_POINTER, result, destroy);
  kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, FALSE);
}

/**
 * kaa_in_progress_finish_boolean:
 * @self: a pending [struct@Kaa.InProgress]
 * @result: the result
 *
 * Finishes @self with a boolean, as [method@Kaa.InProgress.finish_pointer]
 * does.
 *
 * Since: 0.1
 */
void
kaa_in_progress_finish_boolean (KaaInProgress *self,
                                gboolean       result)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  g_return_if_fail (self != NULL);

  kaa_outcome_set_boolean (&outcome, result);
  kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, FALSE);
}

/**
 * kaa_in_progress_finish_int64:
 * @self: a pending [struct@Kaa.InProgress]
 * @result: the result
 *
 * Finishes @self with an integer, as [method@Kaa.InProgress.finish_pointer]
 * does.
 *
 * Since: 0.1
 */
void
kaa_in_progress_finish_int64 (KaaInProgress *self,
                              gint64         result)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  g_return_if_fail (self != NULL);

  kaa_outcome_set_int64 (&outcome, result);
  kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, FALSE);
}

/**
 * kaa_in_progress_finish_double:
 * @self: a pending [struct@Kaa.InProgress]
 * @result: the result
 *
 * Finishes @self with a double, as [method@Kaa.InProgress.finish_pointer]
 * does.
 *
 * Since: 0.1
 */
void
kaa_in_progress_finish_double (KaaInProgress *self,
                               gdouble        result)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  g_return_if_fail (self != NULL);

  kaa_outcome_set_double (&outcome, result);
  kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, FALSE);
}

/**
 * kaa_in_progress_finish_string:
 * @self: a pending [struct@Kaa.InProgress]
 * @result: (nullable): the result, copied
 *
 * Finishes @self with a copy of @result, as
 * [method@Kaa.InProgress.finish_pointer] does.
 *
 * Since: 0.1
 */
void
kaa_in_progress_finish_string (KaaInProgress *self,
                               const char    *result)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  g_return_if_fail (self != NULL);

  kaa_outcome_set_string (&outcome, result);
  kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, FALSE);
}

/**
 * kaa_in_progress_finish_object:
 * @self: a pending [struct@Kaa.InProgress]
 * @object: (type GObject) (nullable) (transfer none): the result
 *
 * Finishes @self with a new reference to @object, as
 * [method@Kaa.InProgress.finish_pointer] does.
 *
 * Since: 0.1
 */
void
kaa_in_progress_finish_object (KaaInProgress *self,
                               gpointer       object)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  g_return_if_fail (self != NULL);
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  kaa_outcome_set_object (&outcome, object);
  kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, FALSE);
}

/**
 * kaa_in_progress_finish_value:
 * @self: a pending [struct@Kaa.InProgress]
 * @value: the result, copied
 *
 * Finishes @self with a copy of @value, as
 * [method@Kaa.InProgress.finish_pointer] does.
 *
 * Since: 0.1
 */
void
kaa_in_progress_finish_value (KaaInProgress *self,
                              const GValue  *value)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  g_return_if_fail (self != NULL);
  g_return_if_fail (G_IS_VALUE (value));

  kaa_outcome_set_value (&outcome, value);
  kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, FALSE);
}

/**
 * kaa_in_progress_fail:
 * @self: a pending [struct@Kaa.InProgress]
 * @error: (transfer full): the error
 *
 * Fails @self with @error, as [method@Kaa.InProgress.finish_pointer]
 * finishes it. Failing with `G_IO_ERROR_CANCELLED` leaves @self cancelled.
 *
 * Since: 0.1
 */
void
kaa_in_progress_fail (KaaInProgress *self,
                      GError        *error)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  g_return_if_fail (self != NULL);
  g_return_if_fail (error != NULL);

  kaa_outcome_take_error (&outcome, error);
  kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, FALSE);
}

/**
 * kaa_in_progress_fail_literal:
 * @self: a pending [struct@Kaa.InProgress]
 * @domain: the error domain
 * @code: the error code
 * @message: the error message
 *
 * Fails @self with a new #GError, as [method@Kaa.InProgress.fail] does.
 *
 * Since: 0.1
 */
void
kaa_in_progress_fail_literal (KaaInProgress *self,
                              GQuark         domain,
                              gint           code,
                              const char    *message)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  g_return_if_fail (self != NULL);
  g_return_if_fail (domain != 0);
  g_return_if_fail (message != NULL);

  kaa_outcome_take_error (&outcome, g_error_new_literal (domain, code, message));
  kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, FALSE);
}

gboolean
kaa_in_progress_try_finish_int64 (KaaInProgress *self,
                                  gint64         result)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  kaa_outcome_set_int64 (&outcome, result);
  return kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, TRUE);
}

gboolean
kaa_in_progress_try_finish_boolean (KaaInProgress *self,
                                    gboolean       result)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  kaa_outcome_set_boolean (&outcome, result);
  return kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, TRUE);
}

gboolean
kaa_in_progress_try_fail (KaaInProgress *self,
                          GError        *error)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  kaa_outcome_take_error (&outcome, error);
  return kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, TRUE);
}

/* A finished @source is forwarded to, not copied: @self keeps it alive
 * and the getters read it (kaa-in-progress-read.c). */
gboolean
kaa_in_progress_try_settle_like (KaaInProgress *self,
                                 KaaInProgress *source)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  g_assert (in_progress_is_final (source));

  if (g_atomic_int_get (&source->state) != KAA_STATE_FINISHED)
    {
      kaa_in_progress_mark_error_seen (source);
      kaa_outcome_take_error (&outcome, g_error_copy (kaa_outcome_get_error (&source->outcome)));
    }
  else
    kaa_outcome_take_pointer (&outcome, KAA_OUTCOME_FORWARD, kaa_in_progress_ref (source),
                              (GDestroyNotify) kaa_in_progress_unref);
  return kaa_in_progress_settle_outcome (self, &outcome, G_STRFUNC, TRUE);
}


/* A claim made apart from its settle, for a producer that must decide
 * under its own lock whom it settles (a channel handing an item to one
 * waiting receiver) but must not run callbacks under it. Between the two,
 * a cancel finds @self claimed and does nothing, as it would after the
 * settle. */
gboolean
kaa_in_progress_try_claim (KaaInProgress *self)
{
  return kaa_in_progress_claim (self, G_STRFUNC, TRUE);
}

void
kaa_in_progress_finish_claimed_pointer (KaaInProgress *self,
                                        gpointer       result,
                                        GDestroyNotify destroy)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  kaa_outcome_take_pointer (&outcome, KAA_OUTCOME_POINTER, result, destroy);
  kaa_in_progress_settle_claimed (self, &outcome);
}

void
kaa_in_progress_finish_claimed_boolean (KaaInProgress *self,
                                        gboolean       result)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  kaa_outcome_set_boolean (&outcome, result);
  kaa_in_progress_settle_claimed (self, &outcome);
}

void
kaa_in_progress_finish_claimed_value (KaaInProgress *self,
                                      GValue        *value)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  kaa_outcome_take_value (&outcome, value);
  kaa_in_progress_settle_claimed (self, &outcome);
}

void
kaa_in_progress_fail_claimed (KaaInProgress *self,
                              GError        *error)
{
  KaaOutcome outcome = KAA_OUTCOME_INIT;

  kaa_outcome_take_error (&outcome, error);
  kaa_in_progress_settle_claimed (self, &outcome);
}

/* For the one consumer of a finished @self whose pointer result it is
 * handed (kaa_channel_await_next()): the result and its destroy notify
 * move out, and @self keeps NULL with no destroy. */
gpointer
kaa_in_progress_steal_pointer (KaaInProgress *self)
{
  g_assert (g_atomic_int_get (&self->state) == KAA_STATE_FINISHED);
  g_assert (self->outcome.kind == KAA_OUTCOME_POINTER);

  self->outcome.destroy = NULL;
  return g_steal_pointer (&self->outcome.v.v_pointer);
}

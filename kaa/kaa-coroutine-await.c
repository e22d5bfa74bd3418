/* kaa-coroutine-await.c: kaa_await() and its forms
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Awaiting takes what it awaits (DESIGN §2), checks the call, and
 * suspends the coroutine through kaa_coroutine_suspend_until() until it
 * settles or the coroutine is cancelled; the typed forms read the result
 * before they let it go. The suspension itself, the await link and what
 * a cancel does to it are kaa-coroutine.c's.
 */
#include "config.h"

#include "kaa-i18n-private.h"
#include "kaa-coroutine-private.h"
#include "kaa-error.h"

static void
set_not_in_coroutine (GError **error)
{
  g_set_error_literal (error, KAA_ERROR, KAA_ERROR_NOT_IN_COROUTINE,
                       _("Awaiting is only possible inside a coroutine"));
}

/* DESIGN §2: an InProgress awaited after its last unref (an await
 * took the reference already, say), named by the critical before. */
static void
set_freed (GError    **error,
           const char *function)
{
  g_set_error (error, KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT,
               _("%s was given an InProgress that was already freed"), function);
}

static void
set_cancelled (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       kaa_gettext_cancelled ());
}

/* Awaiting one's own InProgress would never return: a precondition
 * failure, reported like the g_return_val_if_fail() checks beside it. */
static gboolean
await_is_own (KaaInProgress *in_progress,
              const char    *function,
              GError       **error)
{
  const char *name;

  KaaCoroutine *current = kaa_coroutine_self ();

  if (G_LIKELY (current == NULL || in_progress != current->in_progress))
    return FALSE;
  name = kaa_in_progress_get_name (in_progress);
  name = name != NULL ? name : "(unnamed)";
  g_critical ("%s: coroutine %s awaits its own InProgress, which settles only when its "
              "body returns: it would wait forever", function, name);
  g_set_error (error, KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT,
               _("Coroutine %s cannot await its own InProgress"), name);
  kaa_in_progress_unref (in_progress);
  return TRUE;
}

/* Suspends until @awaited is done. Returns @awaited on success; on
 * failure sets @error and drops it. Takes ownership of @awaited. */
static KaaInProgress *
await_internal (KaaInProgress *awaited,
                const char    *function,
                GError       **error)
{
  KaaCoroutine *self = kaa_coroutine_current_or_warn (function);

  if (self == NULL)
    {
      set_not_in_coroutine (error);
      kaa_in_progress_unref (awaited);
      return NULL;
    }
  if (!self->cancelled && !kaa_in_progress_is_done (awaited) &&
      !kaa_coroutine_suspend_until (self, awaited))
    awaited = NULL;   /* a cancel has already unlinked and released it */
  if (self->cancelled)
    {
      /* Handed over to a cancelled coroutine, which gives up on it at
       * once: like what it was awaiting at the cancel, it is cancelled
       * unless someone else awaits it. Had it failed already, its
       * failure is given up on too, as the waiter's: not unhandled. */
      if (awaited != NULL)
        {
          kaa_await_link_abandon (awaited);
          if (kaa_in_progress_get_state (awaited) == KAA_STATE_FAILED)
            kaa_in_progress_mark_error_seen (awaited);
        }
      set_cancelled (error);
      g_clear_pointer (&awaited, kaa_in_progress_unref);
      return NULL;
    }
  if (!kaa_in_progress_propagate (awaited, error))
    g_clear_pointer (&awaited, kaa_in_progress_unref);
  return awaited;
}

/* Every await: checks the call, then suspends until @in_progress is done.
 * Takes ownership of @in_progress, also when the call is rejected
 * (DESIGN §2); returns it on success, NULL with @error set otherwise. */
static KaaInProgress *
await_owned (KaaInProgress *in_progress,
             const char    *function,
             GError       **error)
{
  if (G_UNLIKELY (in_progress == NULL))
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, function, "in_progress != NULL");
      return NULL;
    }
  if (G_UNLIKELY (!kaa_in_progress_check_alive (in_progress, function)))
    {
      set_freed (error, function);
      return NULL;
    }
  if (G_UNLIKELY (error != NULL && *error != NULL))
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, function, "error == NULL || *error == NULL");
      kaa_in_progress_unref (in_progress);
      return NULL;
    }
  if (await_is_own (in_progress, function, error))
    return NULL;
  return await_internal (in_progress, function, error);
}

/**
 * kaa_await: (skip)
 * @in_progress: (transfer full): what to wait for
 * @error: return location for its error
 *
 * Suspends the calling coroutine until @in_progress is done; an
 * InProgress that is already done does not suspend at all. The coroutine
 * resumes later in the same dispatch of its scheduler, never inside the
 * call that settled @in_progress. Takes ownership of @in_progress, in
 * every case, also when the call fails; keep a reference of your own
 * ([method@Kaa.InProgress.ref]) to read a pointer result afterwards, or
 * use the typed forms, or [func@Kaa.await_borrowed].
 *
 * Once the coroutine is cancelled, this returns at once with
 * `G_IO_ERROR_CANCELLED`, and @in_progress, which it will never wait for,
 * is cancelled unless someone else awaits it. Outside a coroutine it is a critical and fails
 * with `KAA_ERROR_NOT_IN_COROUTINE`; awaiting the calling coroutine's own
 * InProgress, which could never finish, is a critical and fails with
 * `KAA_ERROR_INVALID_ARGUMENT`; so is awaiting one that was already
 * freed (an earlier await took the reference, say).
 *
 * C only, as [func@Kaa.yield] is: language bindings connect a callback
 * with [method@Kaa.InProgress.connect] instead.
 *
 * Returns: %TRUE if @in_progress finished, %FALSE with @error set (its
 *   own domain and code) otherwise
 * Since: 0.1
 */
gboolean
kaa_await (KaaInProgress *in_progress,
           GError       **error)
{
  KaaInProgress *done = await_owned (in_progress, G_STRFUNC, error);

  if (done == NULL)
    return FALSE;
  kaa_in_progress_unref (done);
  return TRUE;
}

/**
 * kaa_await_borrowed: (skip)
 * @in_progress: (transfer none): what to wait for
 * @error: return location for its error
 *
 * [func@Kaa.await] without taking ownership: the caller keeps its
 * reference to @in_progress, and releases it as it always would. This is
 * the await for an InProgress held in a `g_autoptr()` variable:
 *
 * ```c
 * g_autoptr(KaaInProgress) nap = kaa_sleep (5);
 *
 * if (kaa_await_borrowed (nap, &error))
 *   ...   // nap is still yours, and g_autoptr releases it
 * ```
 *
 * Everything else is as for [func@Kaa.await], cancel and failures
 * included. There are no typed borrowing forms: whoever borrows still
 * holds @in_progress, so the result is read from it with the getters
 * ([method@Kaa.InProgress.get_int64] and the others) after the await.
 *
 * C only, as [func@Kaa.await] is.
 *
 * Returns: %TRUE if @in_progress finished, %FALSE with @error set (its
 *   own domain and code) otherwise
 * Since: 0.2
 */
gboolean
kaa_await_borrowed (KaaInProgress *in_progress,
                    GError       **error)
{
  KaaInProgress *done;

  g_return_val_if_fail (in_progress != NULL, FALSE);
  if (!kaa_in_progress_check_alive (in_progress, G_STRFUNC))
    {
      set_freed (error, G_STRFUNC);
      return FALSE;
    }
  done = await_owned (kaa_in_progress_ref (in_progress), G_STRFUNC, error);
  if (done == NULL)
    return FALSE;
  kaa_in_progress_unref (done);
  return TRUE;
}

#define AWAIT_TYPED(type, getter, fallback, gtype)                           \
  G_STMT_START {                                                             \
    KaaInProgress *done;                                                     \
    type result;                                                             \
                                                                             \
    done = await_owned (in_progress, G_STRFUNC, error);                      \
    if (done == NULL)                                                        \
      return fallback;                                                       \
    if (kaa_in_progress_check_result_type (done, gtype, G_STRFUNC, error))   \
      result = getter (done);                                                \
    else                                                                     \
      result = fallback;                                                     \
    kaa_in_progress_unref (done);                                            \
    return result;                                                           \
  } G_STMT_END

/**
 * kaa_await_boolean: (skip)
 * @in_progress: (transfer full): what to wait for
 * @error: return location for its error
 *
 * [func@Kaa.await], returning a boolean result.
 *
 * A result of another type (see [method@Kaa.InProgress.get_value]) is
 * a programming error: a critical, and `KAA_ERROR_WRONG_RESULT_TYPE`
 * naming the type it was.
 *
 * C only, as [func@Kaa.await] is.
 *
 * Returns: the result, or %FALSE with @error set
 * Since: 0.1
 */
gboolean
kaa_await_boolean (KaaInProgress *in_progress,
                   GError       **error)
{
  AWAIT_TYPED (gboolean, kaa_in_progress_get_boolean, FALSE, G_TYPE_BOOLEAN);
}

/**
 * kaa_await_int64: (skip)
 * @in_progress: (transfer full): what to wait for
 * @error: return location for its error
 *
 * [func@Kaa.await], returning an integer result.
 *
 * A result of another type (see [method@Kaa.InProgress.get_value]) is
 * a programming error: a critical, and `KAA_ERROR_WRONG_RESULT_TYPE`
 * naming the type it was.
 *
 * C only, as [func@Kaa.await] is.
 *
 * Returns: the result, or 0 with @error set
 * Since: 0.1
 */
gint64
kaa_await_int64 (KaaInProgress *in_progress,
                 GError       **error)
{
  AWAIT_TYPED (gint64, kaa_in_progress_get_int64, 0, G_TYPE_INT64);
}

/**
 * kaa_await_double: (skip)
 * @in_progress: (transfer full): what to wait for
 * @error: return location for its error
 *
 * [func@Kaa.await], returning a double result.
 *
 * A result of another type (see [method@Kaa.InProgress.get_value]) is
 * a programming error: a critical, and `KAA_ERROR_WRONG_RESULT_TYPE`
 * naming the type it was.
 *
 * C only, as [func@Kaa.await] is.
 *
 * Returns: the result, or 0.0 with @error set
 * Since: 0.1
 */
gdouble
kaa_await_double (KaaInProgress *in_progress,
                  GError       **error)
{
  AWAIT_TYPED (gdouble, kaa_in_progress_get_double, 0.0, G_TYPE_DOUBLE);
}

/**
 * kaa_await_string: (skip)
 * @in_progress: (transfer full): what to wait for
 * @error: return location for its error
 *
 * [func@Kaa.await], returning a copy of a string result.
 *
 * A result of another type (see [method@Kaa.InProgress.get_value]) is
 * a programming error: a critical, and `KAA_ERROR_WRONG_RESULT_TYPE`
 * naming the type it was.
 *
 * C only, as [func@Kaa.await] is.
 *
 * Returns: (transfer full) (nullable): the result, or %NULL with @error set
 * Since: 0.1
 */
char *
kaa_await_string (KaaInProgress *in_progress,
                  GError       **error)
{
  AWAIT_TYPED (char *, kaa_in_progress_dup_string, NULL, G_TYPE_STRING);
}

/**
 * kaa_await_bytes: (skip)
 * @in_progress: (transfer full): what to wait for
 * @error: return location for its error
 *
 * [func@Kaa.await], returning a new reference to a #GBytes result, such
 * as that of [func@Kaa.file_load_contents] or
 * [func@Kaa.input_stream_read_bytes], so that
 * `bytes = kaa_await_bytes (kaa_file_load_contents (file), &error);`
 * leaks nothing.
 *
 * A result that is not a #GBytes (a pointer freed with g_bytes_unref(),
 * or a `G_TYPE_BYTES` value) is a programming error: a critical, and
 * `KAA_ERROR_WRONG_RESULT_TYPE`.
 *
 * C only, as [func@Kaa.await] is.
 *
 * Returns: (transfer full) (nullable): the result, or %NULL with @error
 *   set
 * Since: 0.2
 */
GBytes *
kaa_await_bytes (KaaInProgress *in_progress,
                 GError       **error)
{
  KaaInProgress *done = await_owned (in_progress, G_STRFUNC, error);
  GBytes *bytes;

  if (done == NULL)
    return NULL;
  bytes = kaa_in_progress_dup_bytes (done, G_STRFUNC, error);
  kaa_in_progress_unref (done);
  return bytes;
}

/**
 * kaa_await_pointer: (skip)
 * @in_progress: (transfer full): what to wait for
 * @error: return location for its error
 *
 * [func@Kaa.await], returning a pointer result with its ownership, as
 * g_task_propagate_pointer() does: the result moves out of @in_progress
 * (or out of the InProgress it follows, see
 * [method@Kaa.InProgress.finish_from]), which keeps %NULL and no longer
 * frees it, so that
 * `reply = kaa_await_pointer (kaa_dbus_connection_call (...), &error);`
 * leaks nothing. Free it as the function that made @in_progress says
 * (g_variant_unref() there). To share a result with other readers,
 * await with [func@Kaa.await_borrowed] and read it with
 * [method@Kaa.InProgress.get_pointer] instead.
 *
 * A result that is not a pointer (a string, an object, a number or a
 * #GValue) is a programming error: a critical, and
 * `KAA_ERROR_WRONG_RESULT_TYPE` naming the type it was.
 *
 * C only, as [func@Kaa.await] is.
 *
 * Returns: (transfer full) (nullable): the result, or %NULL with @error
 *   set (or without, when @in_progress finished with %NULL)
 * Since: 0.2
 */
gpointer
kaa_await_pointer (KaaInProgress *in_progress,
                   GError       **error)
{
  KaaInProgress *done = await_owned (in_progress, G_STRFUNC, error);
  gpointer result;

  if (done == NULL)
    return NULL;
  result = kaa_in_progress_take_pointer (done, G_STRFUNC, error);
  kaa_in_progress_unref (done);
  return result;
}

/**
 * kaa_await_object: (skip)
 * @in_progress: (transfer full): what to wait for
 * @error: return location for its error
 *
 * [func@Kaa.await], returning a new reference to an object result, so
 * that `obj = kaa_await_object (start_something (), &error);` leaks
 * nothing.
 *
 * A result of another type (see [method@Kaa.InProgress.get_value]) is
 * a programming error: a critical, and `KAA_ERROR_WRONG_RESULT_TYPE`
 * naming the type it was.
 *
 * C only, as [func@Kaa.await] is.
 *
 * Returns: (type GObject) (transfer full) (nullable): the result, or %NULL
 *   with @error set
 * Since: 0.1
 */
gpointer
kaa_await_object (KaaInProgress *in_progress,
                  GError       **error)
{
  AWAIT_TYPED (gpointer, kaa_in_progress_dup_object, NULL, G_TYPE_OBJECT);
}


/* kaa-error.h: the KAA_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include "kaa-version-macros.h"

G_BEGIN_DECLS

#define KAA_ERROR (kaa_error_quark ())

/**
 * KaaError:
 * @KAA_ERROR_FAILED: a generic failure
 * @KAA_ERROR_INVALID_ARGUMENT: a function was called with an invalid argument
 * @KAA_ERROR_WAIT_NESTING: kaa_in_progress_wait() was nested too deeply
 * @KAA_ERROR_ALL_FAILED: every input of kaa_any_success() failed
 * @KAA_ERROR_NOT_IN_COROUTINE: kaa_await() or kaa_yield() was called
 *   outside a coroutine
 * @KAA_ERROR_IN_COROUTINE: kaa_in_progress_wait(), or another call that
 *   blocks its thread, was called inside a coroutine, which must await
 *   instead (Since: 0.2)
 * @KAA_ERROR_WRONG_RESULT_TYPE: a typed await, such as kaa_await_string(),
 *   met a result of another type (Since: 0.2)
 * @KAA_ERROR_CLOSED: a [struct@Kaa.Channel] (or a stream) was closed: a
 *   send after the close, or a receive once its last item was taken
 *   (Since: 0.2)
 * @KAA_ERROR_OVERFLOW: a stream whose overflow policy is
 *   %KAA_OVERFLOW_FAIL received more than its bound (Since: 0.2)
 *
 * Errors in the `KAA_ERROR` domain. Cancellation and timeouts use
 * `G_IO_ERROR_CANCELLED` and `G_IO_ERROR_TIMED_OUT` instead, so that
 * existing GIO checks work.
 */
typedef enum
{
  KAA_ERROR_FAILED,
  KAA_ERROR_INVALID_ARGUMENT,
  KAA_ERROR_WAIT_NESTING,
  KAA_ERROR_ALL_FAILED,
  KAA_ERROR_NOT_IN_COROUTINE,
  KAA_ERROR_IN_COROUTINE,
  KAA_ERROR_WRONG_RESULT_TYPE,
  KAA_ERROR_CLOSED,
  KAA_ERROR_OVERFLOW,
} KaaError;

KAA_AVAILABLE_IN_ALL
GQuark kaa_error_quark (void);

G_END_DECLS

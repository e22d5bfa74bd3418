/* kaa-signal-args.c: the arguments of one signal emission
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What kaa_in_progress_new_for_signal() finishes with and what a signal
 * stream (kaa_channel_new_for_signal()) queues: the emission's arguments
 * after the instance, copied. In C it is, as it always was, a GArray of
 * GValue that g_array_unref() frees; the boxed type gives it a name that
 * GObject Introspection can carry in a GValue, so that
 * kaa_in_progress_get_value() hands a binding something it can index
 * (the PyGObject overrides make it a Python sequence). Immutable once
 * made, so any thread may read it; its reference count is GArray's.
 */
#include "config.h"

#include "kaa-signal-args-private.h"

/**
 * KaaSignalArgs:
 *
 * The arguments of one signal emission, after the instance: the result
 * of [ctor@Kaa.InProgress.new_for_signal] and each item of
 * [ctor@Kaa.Channel.new_for_signal]. [method@Kaa.InProgress.get_value]
 * gives it to bindings as this boxed type; in Python it is a sequence
 * (`a, b = ip.get_value()`). In C it is a #GArray of #GValue, so
 * `g_array_index (args, GValue, i)` and g_array_unref() work on it.
 *
 * Since: 0.2
 */
G_DEFINE_BOXED_TYPE (KaaSignalArgs, kaa_signal_args, kaa_signal_args_ref, kaa_signal_args_unref)

KaaSignalArgs *
kaa_signal_args_new_for_emission (guint         n_param_values,
                                  const GValue *param_values)
{
  GArray *args;

  g_return_val_if_fail (n_param_values >= 1, NULL);

  args = g_array_sized_new (FALSE, TRUE, sizeof (GValue), n_param_values - 1);
  g_array_set_clear_func (args, (GDestroyNotify) g_value_unset);
  for (guint i = 1; i < n_param_values; i++)
    {
      GValue copy = G_VALUE_INIT;

      g_value_init (&copy, G_VALUE_TYPE (&param_values[i]));
      g_value_copy (&param_values[i], &copy);
      g_array_append_val (args, copy);
    }
  return (KaaSignalArgs *) args;
}

/**
 * kaa_signal_args_ref:
 * @self: a [struct@Kaa.SignalArgs]
 *
 * Takes a reference. Any thread.
 *
 * Returns: (transfer full): @self
 * Since: 0.2
 */
KaaSignalArgs *
kaa_signal_args_ref (KaaSignalArgs *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return (KaaSignalArgs *) g_array_ref ((GArray *) self);
}

/**
 * kaa_signal_args_unref:
 * @self: (transfer full): a [struct@Kaa.SignalArgs]
 *
 * Drops a reference; the last one frees the arguments. The same as
 * g_array_unref() on the #GArray that @self is in C. Any thread.
 *
 * Since: 0.2
 */
void
kaa_signal_args_unref (KaaSignalArgs *self)
{
  g_return_if_fail (self != NULL);

  g_array_unref ((GArray *) self);
}

/**
 * kaa_signal_args_get_length:
 * @self: a [struct@Kaa.SignalArgs]
 *
 * How many arguments the signal was emitted with, the instance not
 * counted.
 *
 * Returns: the number of arguments
 * Since: 0.2
 */
guint
kaa_signal_args_get_length (KaaSignalArgs *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return ((GArray *) self)->len;
}

/**
 * kaa_signal_args_get:
 * @self: a [struct@Kaa.SignalArgs]
 * @index: which argument, from 0 (the first after the instance)
 *
 * Reads one argument of the emission. An @index past the last is a
 * programming error: a critical, and %NULL.
 *
 * Returns: (transfer none) (nullable): the argument, owned by @self
 * Since: 0.2
 */
const GValue *
kaa_signal_args_get (KaaSignalArgs *self,
                     guint          index)
{
  GArray *args = (GArray *) self;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < args->len, NULL);

  return &g_array_index (args, GValue, index);
}

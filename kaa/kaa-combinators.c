/* kaa-combinators.c: sleep, any, all and timeout
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each combinator is a producer of its own InProgress, built on the
 * layer-3 API only: it connects to its inputs, settles with the private
 * try_* calls (several inputs may race to settle it, possibly from
 * different threads when they belong to different contexts), and passes
 * a cancel down to its inputs. The losers of a race are disconnected and
 * their errors marked as seen, so a loser that fails later logs nothing.
 *
 * Timers live in the owner's scheduler heap; a combinator created off the
 * owner thread arms its timer through the scheduler's inbox.
 */
#include "config.h"

#include "kaa-alloc-private.h"
#include "kaa-i18n-private.h"
#include "kaa-combinators.h"
#include "kaa-error.h"
#include "kaa-refcount-private.h"
#include "kaa-in-progress-await-private.h"

/* ------------------------------------------------------------------ sleep */

/* Shared by the producer slot and the armed timer: a timer armed from
 * another thread travels through the inbox and cannot be taken back, so a
 * cancel may release the sleep before its timer is even in the heap. */
typedef struct
{
  KaaProducer     producer;
  KaaRefCount     ref_count;
  KaaTimer        timer;
  KaaInProgress  *self;   /* owned: the timer must be able to finish it */
} Sleep;

static void
sleep_unref (Sleep *sleep)
{
  if (!kaa_ref_count_dec (&sleep->ref_count))
    return;
  kaa_in_progress_unref (sleep->self);
  g_free (sleep);
}

static void
sleep_fire (KaaTimer *timer,
            gboolean  discard)
{
  Sleep *sleep = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (Sleep, timer));

  if (discard)
    kaa_in_progress_cancel (sleep->self);
  else if (!kaa_in_progress_is_done (sleep->self))
    kaa_in_progress_finish_pointer (sleep->self, NULL, NULL);
  sleep_unref (sleep);
}

/* Owner thread. A timer still in the inbox fires later and finds the
 * sleep done. */
static void
sleep_cancel (KaaProducer   *producer,
              KaaInProgress *self)
{
  Sleep *sleep = (Sleep *) producer;

  if (kaa_scheduler_remove_timer (kaa_in_progress_get_scheduler (self), &sleep->timer))
    sleep_unref (sleep);   /* the timer's */
}

/* DESIGN §6: a paused sleep keeps its remaining time. A timer still in
 * the inbox (armed from another thread) cannot be frozen; it fires. */
static void
sleep_pause (KaaProducer   *producer,
             KaaInProgress *self)
{
  Sleep *sleep = (Sleep *) producer;

  kaa_scheduler_freeze_timer (kaa_in_progress_get_scheduler (self), &sleep->timer);
}

static void
sleep_resume (KaaProducer   *producer,
              KaaInProgress *self)
{
  Sleep *sleep = (Sleep *) producer;

  kaa_scheduler_thaw_timer (kaa_in_progress_get_scheduler (self), &sleep->timer);
}

static void
sleep_release (KaaProducer *producer)
{
  sleep_unref ((Sleep *) producer);
}

static void
sleep_describe (KaaProducer   *producer,
                KaaInProgress *self,
                KaaDumpNode   *node)
{
  Sleep *sleep = (Sleep *) producer;

  kaa_dump_node_set_kind (node, "sleep");
  kaa_dump_node_set_timer_state (node, "sleeping", self, &sleep->timer);
}

static const KaaProducerOps sleep_ops = {
  .cancel = sleep_cancel,
  .pause = sleep_pause,
  .resume = sleep_resume,
  .release = sleep_release,
  .describe = sleep_describe,
  .kind = "timer",
};

/**
 * kaa_sleep:
 * @msec: how long to sleep, in milliseconds
 *
 * Returns an InProgress that finishes (with a %NULL result) after @msec
 * milliseconds on the monotonic clock. Cancelling it removes its timer.
 * All sleeps of a context share one timer structure, not a GSource each.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_sleep (guint msec)
{
  KaaInProgress *self = kaa_in_progress_new ();
  KaaScheduler *scheduler = kaa_in_progress_get_scheduler (self);
  Sleep *sleep = kaa_new0 (Sleep);

  sleep->producer.ops = &sleep_ops;
  kaa_ref_count_init (&sleep->ref_count);   /* the producer slot */
  kaa_ref_count_inc (&sleep->ref_count);    /* the timer */
  sleep->timer.fire = sleep_fire;
  sleep->self = kaa_in_progress_ref (self);
  kaa_in_progress_set_static_name (self, "kaa_sleep");
  kaa_in_progress_set_producer (self, &sleep->producer);
  kaa_scheduler_add_timer (scheduler, &sleep->timer,
                           kaa_scheduler_get_time (scheduler) + (gint64) msec * 1000);
  return self;
}

/* ------------------------------------------------------------ any and all */

typedef enum
{
  MODE_ANY,
  MODE_ANY_SUCCESS,
  MODE_ALL,
  MODE_ALL_SUCCESS,
} Mode;

typedef struct _Group Group;

typedef struct
{
  Group         *group;
  KaaInProgress *input;   /* owned */
  KaaAwaitLink   link;    /* first member of an input only: a repeat's
                           * link is never started and does nothing */
  guint          index;
  guint          weight;  /* members with this input if it is the first, else 0 */
} Member;

struct _Group
{
  KaaProducer     producer;
  /* One for the producer slot, one per connected input callback. */
  KaaRefCount     ref_count;
  KaaInProgress  *self;       /* owned */
  KaaDeathWatch  *death;      /* owned: the context's death cancels it */
  Mode            mode;
  KaaCombineFlags flags;
  gint            remaining;  /* atomic: inputs not settled yet */
  guint           n_members;
  Member          members[];
};

static void
group_unref (Group *group)
{
  if (!kaa_ref_count_dec (&group->ref_count))
    return;
  for (guint i = 0; i < group->n_members; i++)
    kaa_in_progress_unref (group->members[i].input);
  kaa_in_progress_unref (group->self);
  g_free (group);
}

/* The race is decided: the other inputs go on alone, or are cancelled
 * when asked, by the cascade's rule (cancel only as their last awaiter).
 * A loser owned by another thread keeps its callback, which then finds
 * nothing to do. A loser's cancel may run its callbacks, and settle
 * other groups, right here: this group is done and holds a reference. */
static void
group_drop_losers (Group *group)
{
  gboolean cancel = (group->flags & KAA_COMBINE_CANCEL_OTHERS) != 0;

  kaa_ref_count_inc (&group->ref_count);
  for (guint i = 0; i < group->n_members; i++)
    {
      if (cancel)
        kaa_await_link_detach_cancelling (&group->members[i].link);
      else
        kaa_await_link_detach (&group->members[i].link);
    }
  group_unref (group);
}

static void
group_member_settled (KaaInProgress *input,
                      gpointer       data)
{
  Member *member = data;
  Group *group = member->group;
  KaaInProgress *self = group->self;
  gboolean finished = kaa_in_progress_get_state (input) == KAA_STATE_FINISHED;
  gboolean last;

  /* The repeats of this input settle with it. */
  last = g_atomic_int_add (&group->remaining, -(gint) member->weight) == (gint) member->weight;
  if (kaa_in_progress_is_done (self))
    return;

  switch (group->mode)
    {
    case MODE_ANY:
      if (kaa_in_progress_try_finish_int64 (self, member->index))
        group_drop_losers (group);
      break;
    case MODE_ANY_SUCCESS:
      if (finished && kaa_in_progress_try_finish_int64 (self, member->index))
        group_drop_losers (group);
      else if (last)
        kaa_in_progress_try_fail (self, g_error_new (KAA_ERROR, KAA_ERROR_ALL_FAILED,
                                                     kaa_ngettext ("The only operation failed",
                                                                   "All %u operations failed",
                                                                   group->n_members),
                                                     group->n_members));
      break;
    case MODE_ALL_SUCCESS:
      if (!finished && kaa_in_progress_try_settle_like (self, input))
        group_drop_losers (group);
      else if (last)
        kaa_in_progress_try_finish_int64 (self, group->n_members);
      break;
    case MODE_ALL:
    default:
      if (last)
        kaa_in_progress_try_finish_int64 (self, group->n_members);
      break;
    }
}

static void
group_member_destroy (gpointer data)
{
  Member *member = data;

  group_unref (member->group);
}

/* Runs @step on the link of every member. An input's hook may settle
 * it at once (a producer of the user's), and with it the group, which
 * would then be released under the loop: it holds a reference. */
static void
group_each_link (Group  *group,
                 void  (*step) (KaaAwaitLink *link))
{
  kaa_ref_count_inc (&group->ref_count);
  for (guint i = 0; i < group->n_members; i++)
    step (&group->members[i].link);
  group_unref (group);
}

/* The cascade (DESIGN §6): the combinator is being cancelled, so are the
 * inputs it alone awaits; shared ones are detached from, and what the
 * group paused of them goes on. */
static void
group_cancel (KaaProducer   *producer,
              KaaInProgress *self)
{
  group_each_link ((Group *) producer, kaa_await_link_cancel);
}

/* Pause goes to the inputs the group still awaits, by the cascade's rule. */
static void
group_pause (KaaProducer   *producer,
             KaaInProgress *self)
{
  group_each_link ((Group *) producer, kaa_await_link_pause);
}

static void
group_resume (KaaProducer   *producer,
              KaaInProgress *self)
{
  group_each_link ((Group *) producer, kaa_await_link_resume);
}

/* Settled, on whichever thread settled it: the group awaits nothing any
 * more. An input it paused (the group settled through another input
 * meanwhile) goes on, when this is its owner thread. With
 * CANCEL_OTHERS, the inputs still pending are cancelled here, right
 * after the outcome was published: not before, since until the group is
 * settled a loser's cancel, carried out on another thread, could still
 * win the race. A coroutine awaiting the group resumes later in the
 * dispatch, so it finds the losers unwound. After a cancel of the group
 * its links were cancelled already, and this finds nothing to do. */
static void
group_release (KaaProducer *producer)
{
  Group *group = (Group *) producer;

  kaa_death_watch_release (g_steal_pointer (&group->death));
  group_drop_losers (group);
  group_unref (group);
}

/* The inputs not settled yet; the group holds a reference to each. */
static void
group_describe (KaaProducer   *producer,
                KaaInProgress *self,
                KaaDumpNode   *node)
{
  static const char *const modes[] = { "any", "any_success", "all", "all_success" };
  Group *group = (Group *) producer;

  kaa_dump_node_set_kind (node, "combinator");
  kaa_dump_node_set_state (node, "%s of %u, %d left", modes[group->mode], group->n_members,
                           g_atomic_int_get (&group->remaining));
  for (guint i = 0; i < group->n_members; i++)
    if (group->members[i].weight != 0 && !kaa_in_progress_is_done (group->members[i].input))
      kaa_dump_node_add_awaited (node, group->members[i].input);
}

static const KaaProducerOps group_ops = {
  .cancel = group_cancel,
  .pause = group_pause,
  .resume = group_resume,
  .release = group_release,
  .describe = group_describe,
  .kind = "combinator",
};

/* Beyond this many inputs, repeats are found through a hash table. */
#define FEW_INPUTS 8

static Member *
member_find_earlier (Group *group,
                     guint  i)
{
  for (guint j = 0; j < i; j++)
    if (group->members[j].weight > 0 && group->members[j].input == group->members[i].input)
      return &group->members[j];
  return NULL;
}

/* An input given more than once is awaited once (issue #15): counted,
 * paused, cancelled and connected through its first member, whose weight
 * says how many members it stands for; its repeats get weight 0. */
static void
group_weigh_members (Group *group)
{
  GHashTable *firsts = group->n_members > FEW_INPUTS ? g_hash_table_new (NULL, NULL) : NULL;

  for (guint i = 0; i < group->n_members; i++)
    {
      Member *member = &group->members[i];
      Member *first = firsts != NULL ? g_hash_table_lookup (firsts, member->input)
                                     : member_find_earlier (group, i);

      if (first != NULL)
        first->weight++;
      else
        {
          member->weight = 1;
          if (firsts != NULL)
            g_hash_table_insert (firsts, member->input, member);
        }
    }
  g_clear_pointer (&firsts, g_hash_table_unref);
}

static KaaInProgress *
group_new (KaaInProgress **inputs,
           guint           n_inputs,
           Mode            mode,
           KaaCombineFlags flags,
           const char     *name)
{
  KaaInProgress *self = kaa_in_progress_new ();
  Group *group;

  kaa_in_progress_set_static_name (self, name);
  if (n_inputs == 0)
    {
      /* Nothing to wait for: any has no winner, all has all of none. */
      kaa_in_progress_finish_int64 (self, mode == MODE_ANY || mode == MODE_ANY_SUCCESS ? -1 : 0);
      return self;
    }

  group = g_malloc0 (sizeof (Group) + n_inputs * sizeof (Member));
  group->producer.ops = &group_ops;
  kaa_ref_count_init (&group->ref_count);
  group->self = kaa_in_progress_ref (self);
  group->mode = mode;
  group->flags = flags;
  group->remaining = n_inputs;
  group->n_members = n_inputs;
  for (guint i = 0; i < n_inputs; i++)
    {
      group->members[i].group = group;
      group->members[i].input = inputs[i];   /* handed over */
      group->members[i].index = i;
    }
  group_weigh_members (group);
  for (guint i = 0; i < n_inputs; i++)
    if (group->members[i].weight > 0)
      kaa_await_link_count (&group->members[i].link, inputs[i]);
  kaa_in_progress_set_producer (self, &group->producer);
  group->death = kaa_death_watch_new (self);

  /* Connected last, once the group is complete: an input owned by another
   * thread may call back at once. */
  for (guint i = 0; i < n_inputs; i++)
    if (group->members[i].weight > 0)
      {
        kaa_ref_count_inc (&group->ref_count);
        kaa_await_link_connect (&group->members[i].link, group_member_settled,
                                &group->members[i], group_member_destroy);
      }
  return self;
}

/* Consuming functions release what they were given also when they
 * reject it (DESIGN §2): the elements that are there, and alive, go. */
static gboolean
inputs_are_valid (KaaInProgress **inputs,
                  guint           n_inputs,
                  const char     *function)
{
  gboolean valid = TRUE;

  if (n_inputs > 0 && inputs == NULL)
    return FALSE;
  for (guint i = 0; i < n_inputs; i++)
    if (inputs[i] == NULL || !kaa_in_progress_check_alive (inputs[i], function))
      valid = FALSE;
  /* A freed one has no reference left to release. */
  for (guint i = 0; !valid && i < n_inputs; i++)
    if (inputs[i] != NULL && kaa_in_progress_check_alive (inputs[i], NULL))
      kaa_in_progress_unref (inputs[i]);
  return valid;
}

/* After inputs_are_valid(), so the inputs are all there: rejected flags
 * release them, as a rejected input does. */
static gboolean
flags_are_valid (KaaInProgress **inputs,
                 guint           n_inputs,
                 KaaCombineFlags flags)
{
  if ((flags & ~KAA_COMBINE_CANCEL_OTHERS) == 0)
    return TRUE;
  for (guint i = 0; i < n_inputs; i++)
    kaa_in_progress_unref (inputs[i]);
  return FALSE;
}

/**
 * kaa_any:
 * @inputs: (array length=n_inputs) (transfer full): the InProgresses to
 *   race; each element is handed over, the array itself stays the caller's
 * @n_inputs: the number of @inputs
 *
 * Returns an InProgress that finishes as soon as the first of @inputs
 * settles, whatever its outcome, with that input's index as its int64
 * result. The others keep running, disconnected: nothing is logged if
 * they fail later. With no inputs it finishes at once with -1. Cancelling
 * it cancels the inputs. An input given more than once is awaited, paused
 * and cancelled as one, and wins with its first index.
 *
 * Takes ownership of every element of @inputs, also when it fails a
 * precondition (a %NULL element); to read an input's outcome afterwards,
 * keep a reference of your own with [method@Kaa.InProgress.ref].
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_any (KaaInProgress **inputs,
         guint           n_inputs)
{
  kaa_return_failed_if_fail (inputs_are_valid (inputs, n_inputs, G_STRFUNC));

  return group_new (inputs, n_inputs, MODE_ANY, KAA_COMBINE_NONE, "kaa_any");
}

/**
 * kaa_any_success:
 * @inputs: (array length=n_inputs) (transfer full): the InProgresses to
 *   race; each element is handed over, the array itself stays the caller's
 * @n_inputs: the number of @inputs
 *
 * Like [func@Kaa.any] (which also says what happens to @inputs), but
 * only an input that finishes successfully wins.
 * If every input fails or is cancelled, the result fails with
 * `KAA_ERROR_ALL_FAILED`. With no inputs it finishes at once with -1.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_any_success (KaaInProgress **inputs,
                 guint           n_inputs)
{
  kaa_return_failed_if_fail (inputs_are_valid (inputs, n_inputs, G_STRFUNC));

  return group_new (inputs, n_inputs, MODE_ANY_SUCCESS, KAA_COMBINE_NONE, "kaa_any_success");
}

/**
 * kaa_all:
 * @inputs: (array length=n_inputs) (transfer full): the InProgresses to
 *   wait for; each element is handed over, the array itself stays the
 *   caller's
 * @n_inputs: the number of @inputs
 *
 * Returns an InProgress that finishes when every one of @inputs has
 * settled, whatever their outcomes (the failures count as seen), with
 * @n_inputs as its int64 result. With no inputs it finishes at once
 * with 0. Cancelling it cancels the inputs. An input given more than
 * once is awaited, paused and cancelled as one.
 *
 * Takes ownership of every element of @inputs, also when it fails a
 * precondition (a %NULL element); to read the outcomes afterwards, keep
 * references of your own with [method@Kaa.InProgress.ref].
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_all (KaaInProgress **inputs,
         guint           n_inputs)
{
  kaa_return_failed_if_fail (inputs_are_valid (inputs, n_inputs, G_STRFUNC));

  return group_new (inputs, n_inputs, MODE_ALL, KAA_COMBINE_NONE, "kaa_all");
}

/**
 * kaa_all_success:
 * @inputs: (array length=n_inputs) (transfer full): the InProgresses to
 *   wait for; each element is handed over, the array itself stays the
 *   caller's
 * @n_inputs: the number of @inputs
 *
 * Like [func@Kaa.all] (which also says what happens to @inputs), but
 * fails fast: as soon as one input fails or is
 * cancelled, the result fails with a copy of its error, and the remaining
 * inputs keep running, disconnected. With no inputs it finishes at once
 * with 0.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_all_success (KaaInProgress **inputs,
                 guint           n_inputs)
{
  kaa_return_failed_if_fail (inputs_are_valid (inputs, n_inputs, G_STRFUNC));

  return group_new (inputs, n_inputs, MODE_ALL_SUCCESS, KAA_COMBINE_NONE, "kaa_all_success");
}

/**
 * kaa_any_with_flags:
 * @inputs: (array length=n_inputs) (transfer full): the InProgresses to
 *   race; each element is handed over, the array itself stays the caller's
 * @n_inputs: the number of @inputs
 * @flags: %KAA_COMBINE_CANCEL_OTHERS to cancel the losers
 *
 * Like [func@Kaa.any] (which also says what happens to @inputs), with
 * options. With %KAA_COMBINE_CANCEL_OTHERS, the inputs still pending when
 * the first one settles are cancelled, each by the rule of the cascade
 * (DESIGN §6): an input that something else also awaits (a coroutine, a
 * combinator) is only detached from and keeps running for the others.
 * Their cancellation is never reported as unhandled. An unknown flag is
 * a programming error: a critical and an already-failed InProgress, and
 * @inputs are released as for any failed precondition.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.2
 */
KaaInProgress *
kaa_any_with_flags (KaaInProgress **inputs,
                    guint           n_inputs,
                    KaaCombineFlags flags)
{
  kaa_return_failed_if_fail (inputs_are_valid (inputs, n_inputs, G_STRFUNC));
  kaa_return_failed_if_fail (flags_are_valid (inputs, n_inputs, flags));

  return group_new (inputs, n_inputs, MODE_ANY, flags, "kaa_any");
}

/**
 * kaa_any_success_with_flags:
 * @inputs: (array length=n_inputs) (transfer full): the InProgresses to
 *   race; each element is handed over, the array itself stays the caller's
 * @n_inputs: the number of @inputs
 * @flags: %KAA_COMBINE_CANCEL_OTHERS to cancel the losers
 *
 * Like [func@Kaa.any_success], with the options of
 * [func@Kaa.any_with_flags]: with %KAA_COMBINE_CANCEL_OTHERS, the first
 * input to finish successfully has the others cancelled (failures before
 * it cancel nothing).
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.2
 */
KaaInProgress *
kaa_any_success_with_flags (KaaInProgress **inputs,
                            guint           n_inputs,
                            KaaCombineFlags flags)
{
  kaa_return_failed_if_fail (inputs_are_valid (inputs, n_inputs, G_STRFUNC));
  kaa_return_failed_if_fail (flags_are_valid (inputs, n_inputs, flags));

  return group_new (inputs, n_inputs, MODE_ANY_SUCCESS, flags, "kaa_any_success");
}

/**
 * kaa_all_success_with_flags:
 * @inputs: (array length=n_inputs) (transfer full): the InProgresses to
 *   wait for; each element is handed over, the array itself stays the
 *   caller's
 * @n_inputs: the number of @inputs
 * @flags: %KAA_COMBINE_CANCEL_OTHERS to cancel the rest on a failure
 *
 * Like [func@Kaa.all_success] (which also says what happens to @inputs),
 * with options. With %KAA_COMBINE_CANCEL_OTHERS, the first failure (or
 * cancel) of an input cancels the inputs still pending, each by the rule
 * of the cascade (DESIGN §6): one that something else also awaits is only
 * detached from. The result fails with a copy of the first error, as
 * without the flag. An unknown flag is rejected as by
 * [func@Kaa.any_with_flags].
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.2
 */
KaaInProgress *
kaa_all_success_with_flags (KaaInProgress **inputs,
                            guint           n_inputs,
                            KaaCombineFlags flags)
{
  kaa_return_failed_if_fail (inputs_are_valid (inputs, n_inputs, G_STRFUNC));
  kaa_return_failed_if_fail (flags_are_valid (inputs, n_inputs, flags));

  return group_new (inputs, n_inputs, MODE_ALL_SUCCESS, flags, "kaa_all_success");
}

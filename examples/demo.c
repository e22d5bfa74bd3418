/* demo.c: a tour of libkaa's futures, without coroutines
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each stop of the tour starts something that takes time, gets a
 * KaaInProgress for it, and connects a callback; the callback prints what
 * happened and moves on to the next stop. Everything runs on the main
 * loop of the global default context (kaa_main_run), except one stop that
 * does its work on a GThread. The whole tour takes about two seconds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <kaa/kaa.h>

static gint64   tour_start;
static GThread *main_thread;
static guint    next_stop;

static void tour_next (void);

/* Prints one line prefixed with the time since the tour began, so that
 * the timings the tour talks about can be checked by eye. */
static void G_GNUC_PRINTF (1, 2)
say (const char *format,
     ...)
{
  va_list args;

  printf ("[%5.2f s] ", (g_get_monotonic_time () - tour_start) / (gdouble) G_USEC_PER_SEC);
  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

static gdouble
ms_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1000.0;
}

/* ----------------------------------------- 1. finished later by a timer */

static gboolean
deep_thought_answers (gpointer user_data)
{
  KaaInProgress *question = user_data;

  kaa_in_progress_finish_int64 (question, 42);
  return G_SOURCE_REMOVE;
}

/* The producer's side of a future: hand out the InProgress now, finish it
 * when the answer is there. The timeout source keeps its own reference,
 * so the caller may drop theirs at any time. */
static KaaInProgress *
ask_deep_thought (void)
{
  KaaInProgress *question = kaa_in_progress_new ();

  kaa_in_progress_set_name (question, "deep-thought");
  g_timeout_add_full (G_PRIORITY_DEFAULT, 300, deep_thought_answers,
                      kaa_in_progress_ref (question),
                      (GDestroyNotify) kaa_in_progress_unref);
  return question;
}

static void
on_answer (KaaInProgress *question,
           gpointer       user_data)
{
  say ("the answer arrived: %" G_GINT64_FORMAT, kaa_in_progress_get_int64 (question));
  tour_next ();
}

static void
stop_timer_result (void)
{
  g_autoptr(KaaInProgress) question = ask_deep_thought ();

  say ("asked a question; a timer will answer in 300 ms");
  kaa_in_progress_connect (question, on_answer, NULL, NULL);
}

/* ------------------------------------------------------------ 2. sleep */

static void
on_slept (KaaInProgress *nap,
          gpointer       user_data)
{
  gint64 *start = user_data;

  say ("kaa_sleep (200) finished after %.0f ms", ms_since (*start));
  tour_next ();
}

static void
stop_sleep (void)
{
  g_autoptr(KaaInProgress) nap = kaa_sleep (200);
  gint64 *start = g_new (gint64, 1);

  *start = g_get_monotonic_time ();
  say ("sleeping 200 ms without blocking the loop");
  kaa_in_progress_connect (nap, on_slept, start, g_free);
}

/* -------------------------------------------------------------- 3. any */

static const char *const nap_names[] = { "the long nap (300 ms)", "the short nap (100 ms)" };

static void
on_any (KaaInProgress *race,
        gpointer       user_data)
{
  gint64 winner = kaa_in_progress_get_int64 (race);

  say ("kaa_any: %s won; the other keeps running on its own", nap_names[winner]);
  tour_next ();
}

static void
stop_any (void)
{
  KaaInProgress *naps[] = { kaa_sleep (300), kaa_sleep (100) };
  g_autoptr(KaaInProgress) race = kaa_any (naps, G_N_ELEMENTS (naps));

  /* kaa_any took the naps; the loser's timer keeps it alive on its own. */
  say ("racing two sleeps with kaa_any");
  kaa_in_progress_connect (race, on_any, NULL, NULL);
}

/* -------------------------------------------------------------- 4. all */

static void
on_all (KaaInProgress *group,
        gpointer       user_data)
{
  gint64 *start = user_data;

  say ("kaa_all: all %" G_GINT64_FORMAT " sleeps done after %.0f ms (the longest was 200)",
       kaa_in_progress_get_int64 (group), ms_since (*start));
  tour_next ();
}

static void
stop_all (void)
{
  KaaInProgress *naps[] = { kaa_sleep (50), kaa_sleep (200), kaa_sleep (120) };
  g_autoptr(KaaInProgress) group = kaa_all (naps, G_N_ELEMENTS (naps));
  gint64 *start = g_new (gint64, 1);

  *start = g_get_monotonic_time ();
  say ("waiting for three sleeps (50, 200 and 120 ms) with kaa_all");
  kaa_in_progress_connect (group, on_all, start, g_free);   /* kaa_all took the naps */
}

/* ---------------------------------------------------------- 5. timeout */

static void
on_timed_out (KaaInProgress *deadline,
              gpointer       user_data)
{
  KaaInProgress *slow = user_data;
  const GError *error = kaa_in_progress_get_error (deadline);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    say ("kaa_timeout failed as it should: \"%s\"", error->message);
  else
    say ("kaa_timeout settled unexpectedly: %s", error != NULL ? error->message : "no error");
  /* cancel_input was TRUE, so the slow sleep was cancelled before this
   * callback ran: its timer is gone and nothing is left behind. */
  say ("the slow sleep is %s",
       kaa_in_progress_get_state (slow) == KAA_STATE_CANCELLED ? "cancelled" : "still running");
  tour_next ();
}

static void
stop_timeout (void)
{
  g_autoptr(KaaInProgress) slow = kaa_sleep (5000);
  /* kaa_timeout takes the sleep: we keep a reference of our own to it. */
  g_autoptr(KaaInProgress) deadline = kaa_timeout (kaa_in_progress_ref (slow), 150, TRUE);

  say ("giving a 5 s sleep a 150 ms deadline with kaa_timeout");
  kaa_in_progress_connect (deadline, on_timed_out, kaa_in_progress_ref (slow),
                           (GDestroyNotify) kaa_in_progress_unref);
}

/* --------------------------------------------------------- 6. progress */

#define JOB_TOTAL_KIB 4096
#define JOB_STEP_KIB  128
#define JOB_TICK_MSEC 20
#define BAR_WIDTH     24

typedef struct
{
  KaaInProgress *job;        /* owned */
  gint64         done_kib;
  gulong         progress_id;
  gboolean       tty;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  kaa_in_progress_unref (job->job);
  g_free (job);
}

/* On a terminal the bar redraws itself in place; in a log every update
 * gets its own line. */
static void
draw_bar (Job     *job,
          gboolean final)
{
  gdouble fraction = kaa_in_progress_get_fraction (job->job);
  gdouble rate = kaa_in_progress_get_rate (job->job);
  gdouble eta = kaa_in_progress_get_eta (job->job);
  gint64 position, total;
  char bar[BAR_WIDTH + 1];
  char eta_text[32];
  guint filled = (guint) (fraction * BAR_WIDTH + 0.5);

  kaa_in_progress_get_progress (job->job, &position, &total);
  for (guint i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < filled ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  if (final)
    g_strlcpy (eta_text, "done", sizeof eta_text);
  else if (eta >= 0)
    g_snprintf (eta_text, sizeof eta_text, "ETA %.1f s", eta);
  else
    g_strlcpy (eta_text, "ETA ?", sizeof eta_text);

  /* On a terminal, pad so that a shorter line covers a longer one. */
  printf ("%s[%5.2f s]   [%s] %3.0f%%  %4" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
          " KiB  %6.0f KiB/s  %-*s%s",
          job->tty ? "\r" : "",
          (g_get_monotonic_time () - tour_start) / (gdouble) G_USEC_PER_SEC,
          bar, fraction * 100, position, total, rate, job->tty ? 10 : 0, eta_text,
          job->tty && !final ? "" : "\n");
  fflush (stdout);
}

static void
on_job_progress (KaaInProgress *job_ip,
                 gpointer       user_data)
{
  draw_bar (user_data, FALSE);
}

static void
on_job_done (KaaInProgress *job_ip,
             gpointer       user_data)
{
  Job *job = user_data;

  /* A throttled notification may still be on its way; the final state
   * is drawn here instead, so the bar never goes backwards. */
  kaa_in_progress_disconnect_progress (job->job, job->progress_id);
  draw_bar (job, TRUE);
  say ("the job finished: %s", kaa_in_progress_get_string (job_ip));
  tour_next ();
}

/* The "work": one chunk per tick. The repeating timeout owns @job and
 * frees it when it returns G_SOURCE_REMOVE. */
static gboolean
job_tick (gpointer user_data)
{
  Job *job = user_data;

  job->done_kib = MIN (job->done_kib + JOB_STEP_KIB, JOB_TOTAL_KIB);
  kaa_in_progress_set_progress (job->job, job->done_kib, JOB_TOTAL_KIB);
  if (job->done_kib < JOB_TOTAL_KIB)
    return G_SOURCE_CONTINUE;

  kaa_in_progress_finish_string (job->job, "4 MiB copied");
  return G_SOURCE_REMOVE;
}

static void
stop_progress (void)
{
  Job *job = g_new0 (Job, 1);

  job->job = kaa_in_progress_new ();
  job->tty = isatty (STDOUT_FILENO);
  kaa_in_progress_set_name (job->job, "copy-job");
  say ("a job copies %d KiB in %d KiB chunks, one every %d ms; progress every 100 ms:",
       JOB_TOTAL_KIB, JOB_STEP_KIB, JOB_TICK_MSEC);

  job->progress_id = kaa_in_progress_connect_progress (job->job, on_job_progress, job, NULL);
  kaa_in_progress_connect (job->job, on_job_done, job, NULL);
  g_timeout_add_full (G_PRIORITY_DEFAULT, JOB_TICK_MSEC, job_tick, job, job_free);
}

/* ---------------------------------------------------- 7. worker thread */

typedef struct
{
  KaaInProgress *result;     /* owned */
  guint          limit;
} PrimeWork;

static gpointer
count_primes (gpointer data)
{
  PrimeWork *work = data;
  gint64 count = 0;

  /* Slow on purpose: this is the blocking work a thread is for. */
  for (guint n = 2; n < work->limit; n++)
    {
      gboolean prime = TRUE;

      for (guint d = 2; d * d <= n && prime; d++)
        prime = n % d != 0;
      count += prime;
    }
  g_usleep (100 * 1000);

  /* Any thread may finish; the callbacks still run on the owner context. */
  kaa_in_progress_finish_int64 (work->result, count);
  kaa_in_progress_unref (work->result);
  g_free (work);
  return NULL;
}

static void
on_primes (KaaInProgress *result,
           gpointer       user_data)
{
  GThread *worker = user_data;

  say ("the worker found %" G_GINT64_FORMAT " primes below 200000; "
       "this callback runs on the %s thread",
       kaa_in_progress_get_int64 (result),
       g_thread_self () == main_thread ? "main" : "WRONG");
  /* The worker has finished its InProgress, and does nothing after that
   * but return: joining it here cannot block for long. */
  g_thread_join (worker);
  tour_next ();
}

static void
stop_thread (void)
{
  PrimeWork *work = g_new0 (PrimeWork, 1);
  g_autoptr(KaaInProgress) result = kaa_in_progress_new ();
  GThread *worker;

  work->result = kaa_in_progress_ref (result);
  work->limit = 200000;
  say ("a GThread counts primes while the loop stays free");
  worker = g_thread_new ("kaa-demo-primes", count_primes, work);
  kaa_in_progress_connect (result, on_primes, worker, NULL);
}

/* ------------------------------------------------------------ the tour */

static const struct
{
  const char *title;
  void      (*start) (void);
} stops[] = {
  { "an InProgress finished later by a timer", stop_timer_result },
  { "kaa_sleep", stop_sleep },
  { "kaa_any", stop_any },
  { "kaa_all", stop_all },
  { "kaa_timeout", stop_timeout },
  { "progress", stop_progress },
  { "a worker thread", stop_thread },
};

/* Called from the last callback of each stop. The final one ends the
 * tour: kaa_main_quit() from inside a callback makes kaa_main_run()
 * return once that callback is done. */
static void
tour_next (void)
{
  if (next_stop == G_N_ELEMENTS (stops))
    {
      say ("tour over, quitting the main loop");
      kaa_main_quit ();
      return;
    }

  printf ("\n%u. %s\n", next_stop + 1, stops[next_stop].title);
  stops[next_stop++].start ();
}

int
main (void)
{
  tour_start = g_get_monotonic_time ();
  main_thread = g_thread_self ();

  printf ("libkaa %d.%d.%d: a tour of futures on the GLib main loop\n",
          KAA_MAJOR_VERSION, KAA_MINOR_VERSION, KAA_MICRO_VERSION);
  tour_next ();
  kaa_main_run ();
  say ("bye");
  return 0;
}

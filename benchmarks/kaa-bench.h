/* kaa-bench.h: what every benchmark program shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A benchmark measures some samples per round (a libkaa way and a peer
 * way of doing the same thing), runs a warm-up round and then several
 * measured rounds, and reports each row (a libkaa sample against a peer
 * sample) as medians with min/max and the ratio peer / libkaa, as a
 * table and as JSON Lines in the schema tools/bench-report.py documents.
 */
#pragma once

#include <kaa/kaa.h>

G_BEGIN_DECLS

typedef enum
{
  KAA_BENCH_NS,      /* nanoseconds per operation */
  KAA_BENCH_BYTES,   /* bytes per object */
} KaaBenchUnit;

typedef struct
{
  gdouble median;
  gdouble min;
  gdouble max;
} KaaBenchStats;

typedef struct
{
  const char  *id;
  const char  *what;
  guint        kaa_sample;
  const char  *peer;
  guint        peer_sample;
  gdouble      goal;        /* ratio aimed for; 0 for none */
  KaaBenchUnit unit;
} KaaBenchRow;

typedef void (*KaaBenchRoundFunc) (gpointer  data,
                                   guint     n_ops,
                                   gdouble  *values);

typedef struct
{
  const char *name;
  gint        runs;
  gint        n_ops;
  gboolean    quick;
  char       *json_path;
  char       *load;
} KaaBench;

void    kaa_bench_init    (KaaBench          *bench,
                           const char        *name,
                           const char        *summary,
                           gint               default_ops,
                           gint               quick_ops,
                           int               *argc,
                           char            ***argv);
void    kaa_bench_clear   (KaaBench          *bench);
gint64  kaa_bench_now_ns  (void);
void    kaa_bench_die     (const char        *format,
                           ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;
void    kaa_bench_measure (KaaBench          *bench,
                           guint              n_samples,
                           KaaBenchRoundFunc  round,
                           gpointer           data,
                           KaaBenchStats     *stats);
void    kaa_bench_report  (KaaBench          *bench,
                           const KaaBenchRow *rows,
                           guint              n_rows,
                           const KaaBenchStats *stats);

gdouble kaa_bench_run_yields (GMainContext      *context,
                              guint              n_coroutines,
                              guint              n_ops);

G_END_DECLS

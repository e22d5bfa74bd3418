/* kaa-progress-private.h: progress state of an InProgress (layer 3)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-in-progress.h"

G_BEGIN_DECLS

typedef struct _KaaProgress KaaProgress;

void          kaa_progress_free                  (KaaProgress   *progress);
void          kaa_progress_flush                 (KaaProgress   *progress);
/* The slot in the InProgress that holds its progress, created lazily. */
KaaProgress **kaa_in_progress_get_progress_slot  (KaaInProgress *self);
void          kaa_progress_set_paused            (KaaInProgress *self,
                                                  gboolean       paused);

G_END_DECLS

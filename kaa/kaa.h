/* kaa.h: the umbrella header, the only one users include
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define KAA_INSIDE
# include "kaa-version-macros.h"
# include "kaa-version.h"
# include "kaa-error.h"
# include "kaa-enum-types.h"
# include "kaa-signal-args.h"
# include "kaa-scheduler.h"
# include "kaa-in-progress.h"
# include "kaa-progress.h"
# include "kaa-dump.h"
# include "kaa-combinators.h"
# include "kaa-coroutine.h"
# include "kaa-thread-pool.h"
# include "kaa-channel.h"
# include "kaa-scope.h"
# include "kaa-gio.h"
# include "kaa-gio-stream.h"
# include "kaa-semaphore.h"
# include "kaa-mutex.h"
#undef KAA_INSIDE

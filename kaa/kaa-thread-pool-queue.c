/* kaa-thread-pool-queue.c: a pool's queued jobs, by priority (layer 4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One FIFO per priority, in a short array sorted by priority, highest
 * first: a program uses a handful of priorities, so submitting and taking
 * a job cost the same whatever the queue's length. The caller serializes
 * (the pool's lock).
 */
#include "config.h"

#include <string.h>

#include "kaa-thread-pool-private.h"

/* The bucket of @priority, or where it would go. */
static guint
bucket_search (KaaJobQueue *queue,
               gint         priority,
               gboolean    *found)
{
  guint low = 0;
  guint high = queue->n_buckets;

  /* Few distinct priorities in practice, so this is a handful of steps. */
  while (low < high)
    {
      guint mid = (low + high) / 2;

      if (queue->buckets[mid].priority == priority)
        {
          *found = TRUE;
          return mid;
        }
      if (queue->buckets[mid].priority > priority)
        low = mid + 1;
      else
        high = mid;
    }
  *found = FALSE;
  return low;
}

static KaaJobBucket *
bucket_get (KaaJobQueue *queue,
            gint         priority)
{
  gboolean found;
  guint index = bucket_search (queue, priority, &found);

  if (found)
    return &queue->buckets[index];
  if (queue->n_buckets == queue->buckets_alloc)
    {
      queue->buckets_alloc = MAX (8, queue->buckets_alloc * 2);
      queue->buckets = g_renew (KaaJobBucket, queue->buckets, queue->buckets_alloc);
    }
  memmove (&queue->buckets[index + 1], &queue->buckets[index],
           (queue->n_buckets - index) * sizeof (KaaJobBucket));
  queue->n_buckets++;
  queue->buckets[index] = (KaaJobBucket) { priority, NULL, NULL };
  return &queue->buckets[index];
}

/* Appends @job to its priority's FIFO: O(log P) for P distinct
 * priorities, whatever the queue's length. A resumed job goes back to its
 * place by sequence number, found from the front, where old jobs are. */
void
kaa_job_queue_insert (KaaJobQueue  *queue,
                      KaaThreadJob *job)
{
  KaaJobBucket *bucket = bucket_get (queue, job->priority);
  KaaThreadJob *before = NULL;

  if (bucket->tail != NULL && bucket->tail->seq > job->seq)
    for (before = bucket->head; before->seq < job->seq; before = before->next)
      ;
  job->next = before;
  job->prev = before != NULL ? before->prev : bucket->tail;
  if (job->prev != NULL)
    job->prev->next = job;
  else
    bucket->head = job;
  if (before != NULL)
    before->prev = job;
  else
    bucket->tail = job;
  job->state = JOB_QUEUED;
}

void
kaa_job_queue_remove (KaaJobQueue  *queue,
                      KaaThreadJob *job)
{
  gboolean found;
  guint index = bucket_search (queue, job->priority, &found);
  KaaJobBucket *bucket = &queue->buckets[index];

  g_assert (found);
  if (job->prev != NULL)
    job->prev->next = job->next;
  else
    bucket->head = job->next;
  if (job->next != NULL)
    job->next->prev = job->prev;
  else
    bucket->tail = job->prev;
  job->prev = job->next = NULL;
  if (bucket->head == NULL)
    {
      queue->n_buckets--;
      memmove (&queue->buckets[index], &queue->buckets[index + 1],
               (queue->n_buckets - index) * sizeof (KaaJobBucket));
    }
}

void
kaa_job_list_add (KaaThreadJob **head,
                  KaaThreadJob  *job)
{
  job->prev = NULL;
  job->next = *head;
  if (*head != NULL)
    (*head)->prev = job;
  *head = job;
}

void
kaa_job_list_remove (KaaThreadJob **head,
                     KaaThreadJob  *job)
{
  if (job->prev != NULL)
    job->prev->next = job->next;
  else
    *head = job->next;
  if (job->next != NULL)
    job->next->prev = job->prev;
  job->prev = job->next = NULL;
}

void
kaa_job_queue_push (KaaJobQueue  *queue,
                    KaaThreadJob *job)
{
  job->seq = queue->next_seq++;
  kaa_job_queue_insert (queue, job);
}

void
kaa_job_queue_clear (KaaJobQueue *queue)
{
  g_clear_pointer (&queue->buckets, g_free);
  queue->n_buckets = queue->buckets_alloc = 0;
}

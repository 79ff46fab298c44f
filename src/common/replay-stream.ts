import { AppError } from '../errors';
import { LiveQueue, MAX_PENDING_EVENTS } from './live-queue';
import type { LiveLog } from './log-tail';

/** One page of a stored log after a cursor, oldest first. */
export type LogPage<T> = (after: string | null) => Promise<{ nodes: T[]; hasNextPage: boolean }>;

/**
 * A subscription to a stored log (alerts, compliance events): replays what was stored after the subscriber's
 * cursor, then goes live, with no gap and no duplicate between the two. It listens before it reads (the live log
 * hands on every entry after the point it was ready, in stored order: see LogTail), holds what arrives while it
 * replays, and delivers only entries later than the last one delivered; `visible` decides what this subscriber may
 * see. A subscriber that stops reading must not
 * hold up the channel, the other subscribers or the process: past MAX_PENDING_EVENTS waiting for it, it is cut off
 * with SUBSCRIBER_TOO_SLOW. What was already waiting still reaches it, in order, then the error naming the last of
 * them, to resume from.
 */
export function replayThenLive<T extends { id: string }>(
  live: LiveLog<T>,
  visible: (entry: T) => boolean,
  after: string | null,
  page: LogPage<T>,
): AsyncIterable<T> {
  const queue = new LiveQueue<T>();
  let last = after; // the id of the last entry queued for the subscriber
  let replaying = true;
  const held: T[] = [];
  const cutOff = () => queue.fail(AppError.subscriberTooSlow(MAX_PENDING_EVENTS, last));
  const later = (entry: T) => last === null || entry.id > last;
  const enqueue = (entry: T) => {
    last = entry.id;
    queue.push(entry);
  };
  const deliverLive = (entry: T) => {
    if (!later(entry)) return;
    if (queue.waiting >= MAX_PENDING_EVENTS) cutOff();
    else enqueue(entry);
  };
  const listening = live.listen((entry) => {
    if (!visible(entry)) return;
    if (!replaying) deliverLive(entry);
    else if (held.length < MAX_PENDING_EVENTS) held.push(entry);
    else cutOff();
  });
  queue.onClose(listening.stop);
  const replay = async () => {
    await listening.ready;
    for (;;) {
      const { nodes, hasNextPage } = await page(last);
      if (queue.isClosed) return;
      for (const entry of nodes) if (later(entry)) enqueue(entry);
      // The next page is read once the subscriber has taken this one: a stalled one holds one page at most.
      await queue.drained();
      if (!hasNextPage || queue.isClosed) break;
    }
    replaying = false;
    for (const entry of held.splice(0)) deliverLive(entry);
  };
  replay().catch((error: unknown) => queue.fail(error));
  return queue;
}

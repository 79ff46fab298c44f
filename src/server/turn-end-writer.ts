import type { ServerResponse } from 'node:http';

interface Answer {
  res: ServerResponse;
  body: string;
}

/**
 * Ends responses together at the end of the event loop's turn (its check phase, once every socket that was ready
 * in the turn has been read and its request served), not each the moment it is ready.
 *
 * Writing an answer wakes the client waiting for it. When that client runs on the same machine (a reverse proxy,
 * a sidecar, a load generator), the wake-up is most of what the write costs in the kernel, and the server pays it
 * for every answer if the client reads each one before the next is written. Written together, the first answer
 * wakes the client and the others reach it awake. An answer waits at most for the rest of its turn's requests,
 * which under load is a turn's worth (a few milliseconds) and otherwise nothing: a lone request's turn ends at once.
 */
export class TurnEndWriter {
  private waiting: Answer[] = [];

  /** Ends `res` with `body` (its status and headers written already) at the end of this turn. */
  end(res: ServerResponse, body: string): void {
    if (this.waiting.push({ res, body }) === 1) setImmediate(() => this.endWaiting());
  }

  private endWaiting(): void {
    const answers = this.waiting;
    this.waiting = [];
    for (const { res, body } of answers) {
      // One broken response must not keep the others unanswered.
      try {
        res.end(body);
      } catch (error) {
        res.destroy(error as Error);
      }
    }
  }
}

import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { TurnEndWriter } from '../../src/server/turn-end-writer';

/** A response that notes when it was ended, and with what; `failing` ones throw as a broken socket's might. */
function response(log: string[], name: string, failing = false) {
  const res = {
    destroyed: null as Error | null,
    end(body: string) {
      if (failing) throw new Error(`${name} broke`);
      log.push(`${name}:${body}`);
    },
    destroy(error: Error) {
      res.destroyed = error;
    },
  };
  return res;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnEndWriter', () => {
  it('ends the responses of one turn together, in their order, once the turn is over', async () => {
    const writer = new TurnEndWriter();
    const log: string[] = [];
    writer.end(response(log, 'a') as unknown as ServerResponse, '1');
    writer.end(response(log, 'b') as unknown as ServerResponse, '2');
    log.push('turn goes on');
    writer.end(response(log, 'c') as unknown as ServerResponse, '3');
    expect(log).toEqual(['turn goes on']);
    await nextTurn();
    expect(log).toEqual(['turn goes on', 'a:1', 'b:2', 'c:3']);
    // A response of a later turn is ended at the end of that turn.
    writer.end(response(log, 'd') as unknown as ServerResponse, '4');
    expect(log).toHaveLength(4);
    await nextTurn();
    expect(log.at(-1)).toBe('d:4');
  });

  it('destroys a response whose end throws and still ends the others', async () => {
    const writer = new TurnEndWriter();
    const log: string[] = [];
    const broken = response(log, 'broken', true);
    writer.end(broken as unknown as ServerResponse, 'x');
    writer.end(response(log, 'fine') as unknown as ServerResponse, 'y');
    await nextTurn();
    expect(broken.destroyed?.message).toBe('broken broke');
    expect(log).toEqual(['fine:y']);
  });
});

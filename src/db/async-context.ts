import { AsyncLocalStorage } from 'node:async_hooks';

/** What Node 20's AsyncLocalStorage has besides its public methods (Node ≥ 24's AsyncContextFrame has no `_enable`). */
interface HookedStorage {
  _enable(): void;
  disable(): void;
  run(store: unknown, callback: (...args: unknown[]) => unknown, ...args: unknown[]): unknown;
  enterWith(store: unknown): void;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null &&
  (typeof value === 'object' || typeof value === 'function') &&
  typeof (value as PromiseLike<unknown>).then === 'function';

let installed = false;

/**
 * Keeps Node's promise hooks off while no AsyncLocalStorage `run` is in progress.
 *
 * On Node 20 an AsyncLocalStorage is built on async_hooks: once it has run, a hook sees every promise the process
 * makes for the rest of its life, giving each an async id and a slot for the store of every such storage (the ORM has
 * four: its transaction context, its flush guard, its request context and its raw fragments). A client call that
 * never touches the ORM paid for it all the same, once any management call had: about a sixth of what a checkout
 * allocated, and the young-generation collections that followed.
 *
 * Installed, every storage that enables itself is remembered, and each `run` is counted until what it returned
 * settles (a callback that returns a promise runs until that promise settles). When none is in progress, every
 * remembered storage is disabled, which turns the hook off; the next `run` turns it on again. Outside a `run` a
 * storage's store is undefined, which is what `getStore()` answers while disabled, so nothing can tell. What a
 * `run`'s callback starts and does not wait for (no promise it returns covers it) would lose its store once every run
 * settled: a storage used that way, or through `enterWith`, or a callback that returns no promise, leaves the
 * storages enabled from then on, as they were before.
 */
export function disableAsyncStorageWhenIdle(): void {
  const prototype = AsyncLocalStorage.prototype as unknown as HookedStorage;
  if (installed || typeof prototype._enable !== 'function') return;
  installed = true;
  const enabled = new Set<HookedStorage>();
  let running = 0;
  // A store set by enterWith, or by a run whose callback returned no promise, has no end that can be waited for.
  let unbounded = false;

  const enable = prototype._enable;
  prototype._enable = function (this: HookedStorage) {
    enabled.add(this);
    enable.call(this);
  };
  const settled = () => {
    running -= 1;
    if (running > 0 || unbounded) return;
    for (const storage of enabled) storage.disable();
    enabled.clear();
  };
  const run = prototype.run;
  prototype.run = function (this: HookedStorage, store, callback, ...args) {
    running += 1;
    let result: unknown;
    try {
      result = run.call(this, store, callback, ...args);
    } catch (error) {
      settled();
      throw error;
    }
    if (isThenable(result)) result.then(settled, settled);
    else {
      unbounded = true;
      settled();
    }
    return result;
  };
  const enterWith = prototype.enterWith;
  prototype.enterWith = function (this: HookedStorage, store) {
    unbounded = true;
    enterWith.call(this, store);
  };
}

import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../common/clock';
import type { RateLimitConfig } from '../config';
import { AppError } from '../errors';
import type { ClientCallLimiter } from '../modules/license/license-credentials';

/**
 * Responsible for rate limits (rate-limiter-flexible): failed authentications per client address, which is what
 * stops guessing keys and tokens, management calls per API token, and client calls per license key where its plan
 * or the license sets a limit (one key may serve thousands of machines, so there is none unless set). Counted in Redis when it is configured, so
 * that every instance counts the same calls; in process otherwise, and while Redis is away (the insurance limiter).
 * An address over its limit is refused before anything is looked up, also for a right key, until its window ends;
 * the refusal is checked in this process's memory (no round trip on the hot path), set by whichever failure
 * found the limit reached.
 */
export class RateLimits implements ClientCallLimiter {
  private readonly failures: RateLimiterAbstract;
  private readonly calls: RateLimiterAbstract | null;
  /** One limiter per limit that licenses have (their setting), made when first needed. */
  private readonly licenseCalls = new Map<number, RateLimiterAbstract>();
  /** The requests counted lately, by license: one that authenticates twice (a checkout that waited) counts once. */
  private readonly counted = new Set<string>();
  /** Addresses refused, until when (epoch ms). */
  private readonly blocked = new Map<string, number>();

  constructor(
    private readonly config: RateLimitConfig,
    redis: Redis | null,
    keyPrefix: string,
    private readonly clock: Clock,
  ) {
    this.failures = limiter(redis, `${keyPrefix}auth-failures`, config.authFailures, config.authFailureWindowS);
    this.calls = config.tokenCallsPerMinute > 0 ? limiter(redis, `${keyPrefix}token-calls`, config.tokenCallsPerMinute, 60) : null;
    this.makeLicenseLimiter = (perMinute) => limiter(redis, `${keyPrefix}license-calls:${perMinute}`, perMinute, 60);
  }

  private readonly makeLicenseLimiter: (perMinute: number) => RateLimiterAbstract;

  /** Counts a client call of a license that has a limit (its plan's or its own setting). */
  async count(licenseId: string, perMinute: number, requestId: string): Promise<AppError | undefined> {
    const call = `${licenseId} ${requestId}`;
    if (this.counted.has(call)) return undefined;
    // Oldest first: a request's second look comes within milliseconds of its first.
    if (this.counted.size >= 10_000) this.counted.delete(this.counted.values().next().value!);
    this.counted.add(call);
    let limiter = this.licenseCalls.get(perMinute);
    if (!limiter) {
      limiter = this.makeLicenseLimiter(perMinute);
      this.licenseCalls.set(perMinute, limiter);
    }
    try {
      await limiter.consume(licenseId);
      return undefined;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return undefined;
      return AppError.rateLimited(
        `This license key made more than ${perMinute} calls in a minute.`,
        Math.ceil(rejection.msBeforeNext / 1000),
      );
    }
  }

  /** The refusal for an address that failed to authenticate too often, if it is refused now. */
  refusalFor(address: string | undefined): AppError | undefined {
    if (!address) return undefined;
    const until = this.blocked.get(address);
    if (until === undefined) return undefined;
    const ms = until - this.clock.now().getTime();
    if (ms <= 0) {
      this.blocked.delete(address);
      return undefined;
    }
    return AppError.rateLimited('Too many failed authentications from this address.', Math.ceil(ms / 1000));
  }

  /** Counts a failed authentication from an address; past the limit, the address is refused for the rest of the window. */
  async failed(address: string | undefined): Promise<void> {
    if (!address) return;
    try {
      await this.failures.consume(address);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) this.blocked.set(address, this.clock.now().getTime() + rejection.msBeforeNext);
    }
  }

  /** Counts a management call of a token; the refusal when it is past the limit. */
  async tokenCall(tokenId: string): Promise<AppError | undefined> {
    if (!this.calls) return undefined;
    try {
      await this.calls.consume(tokenId);
      return undefined;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return undefined;
      return AppError.rateLimited(
        `This token made more than ${this.config.tokenCallsPerMinute} calls in a minute.`,
        Math.ceil(rejection.msBeforeNext / 1000),
      );
    }
  }
}

function limiter(redis: Redis | null, keyPrefix: string, points: number, duration: number): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ keyPrefix, points, duration });
  if (!redis) return memory;
  return new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration, rejectIfRedisNotReady: true, insuranceLimiter: memory });
}

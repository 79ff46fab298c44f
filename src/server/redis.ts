import { Redis } from 'ioredis';

/**
 * The two Redis connections that carry alerts between instances: one publishes, one subscribes (a subscribing
 * connection can do nothing else).
 */
export function connectRedis(url: string) {
  const options = { maxRetriesPerRequest: 3, lazyConnect: false };
  return { publishClient: new Redis(url, options), subscribeClient: new Redis(url, options) };
}

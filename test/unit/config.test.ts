import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

const base = { SECRET_KEY: 'a-secret-key-of-at-least-thirty-two-characters', SQLITE_PATH: ':memory:' };

describe('configuration of alerts and channels', () => {
  it('prefixes Redis channels with license-manager: unless told otherwise, and looks for expiring licenses every minute', () => {
    expect(loadConfig(base)).toMatchObject({ redisChannelPrefix: 'license-manager:', expiryWatchIntervalMs: 60_000 });
    expect(loadConfig({ ...base, REDIS_CHANNEL_PREFIX: 'eu-west.prod:', EXPIRY_WATCH_INTERVAL_MS: '5000' })).toMatchObject({
      redisChannelPrefix: 'eu-west.prod:',
      expiryWatchIntervalMs: 5000,
    });
  });

  it('refuses a channel prefix with spaces, wildcards or over 64 characters, and an interval out of range', () => {
    for (const prefix of ['two words', 'alerts*', 'x'.repeat(65)]) {
      expect(() => loadConfig({ ...base, REDIS_CHANNEL_PREFIX: prefix })).toThrow(ConfigError);
    }
    expect(() => loadConfig({ ...base, EXPIRY_WATCH_INTERVAL_MS: '10' })).toThrow(/EXPIRY_WATCH_INTERVAL_MS must be between/);
  });
});

describe('configuration of the secret', () => {
  it('takes the secret before a rotation, at least 32 characters and not the same as SECRET_KEY', () => {
    const previous = 'the-secret-before-the-rotation-of-32-characters';
    expect(loadConfig({ ...base, SECRET_KEY_PREVIOUS: previous }).secretKeyPrevious).toEqual(Buffer.from(previous));
    expect(loadConfig(base).secretKeyPrevious).toBeUndefined();
    expect(() => loadConfig({ ...base, SECRET_KEY_PREVIOUS: 'short' })).toThrow(/SECRET_KEY_PREVIOUS must be at least 32/);
    expect(() => loadConfig({ ...base, SECRET_KEY_PREVIOUS: base.SECRET_KEY })).toThrow(/must differ from SECRET_KEY/);
  });
});

describe('configuration of observability', () => {
  it('logs one line per request at info unless told otherwise, and none with silent', () => {
    expect(loadConfig(base).requestLogLevel).toBe('info');
    expect(loadConfig({ ...base, REQUEST_LOG_LEVEL: 'debug' }).requestLogLevel).toBe('debug');
    expect(loadConfig({ ...base, REQUEST_LOG_LEVEL: 'silent' }).requestLogLevel).toBe('silent');
    expect(() => loadConfig({ ...base, REQUEST_LOG_LEVEL: 'verbose' })).toThrow(/REQUEST_LOG_LEVEL must be one of/);
  });

  it('takes a metrics token of at least 16 printable characters, and none by default', () => {
    expect(loadConfig(base).metricsToken).toBeUndefined();
    expect(loadConfig({ ...base, METRICS_TOKEN: ' a-scraper-token-1234 ' }).metricsToken).toBe('a-scraper-token-1234');
    for (const token of ['short', 'a token with spaces in it']) {
      expect(() => loadConfig({ ...base, METRICS_TOKEN: token })).toThrow(/METRICS_TOKEN must be at least 16 printable/);
    }
  });
});

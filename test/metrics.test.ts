import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  AlertRaisedDocument,
  AlertsDocument,
  CheckoutSeatDocument,
  OrganizationsDocument,
  SetThresholdRuleDocument,
  ValidateLicenseDocument,
  ViolationsDocument,
} from './generated/graphql';
import { licensed } from './support/factories';
import { until } from './support/processes';
import { DATABASE_KINDS } from './support/databases';
import { describeEachDatabase, startTestServer, type TestServer } from './support/server';

/** A scrape: its text, and the families a Prometheus text parser read in it. */
type Families = ReturnType<typeof parsePrometheusTextFormat> & { text: string };

/** Scrapes /metrics as Prometheus does (from this machine, so without a token) and parses the text. */
async function scrape(t: TestServer, headers: Record<string, string> = {}): Promise<Families> {
  const response = await fetch(t.url.replace(/\/graphql$/, '/metrics'), { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const text = await response.text();
  return Object.assign(parsePrometheusTextFormat(text), { text });
}

/**
 * The value of one sample, 0 when absent; of a histogram, its count (read from the text: the parser keeps the
 * buckets of label-less histograms only).
 */
function sample(families: Families, name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  const fits = (found: Record<string, string> | undefined) => Object.entries(labels).every(([key, value]) => found?.[key] === value);
  if (family?.type === 'HISTOGRAM') {
    const line = families.text
      .split('\n')
      .filter((l) => l.startsWith(`${name}_count{`))
      .find((l) => fits(Object.fromEntries([...l.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))));
    return Number(line?.split(' ').at(-1) ?? 0);
  }
  const found = family?.metrics.find((m) => fits(m.labels));
  return Number(found?.value ?? 0);
}

/** How much each of these samples grew between two scrapes. */
function grown(before: Families, after: Families, samples: [name: string, labels?: Record<string, string>][]) {
  return samples.map(([name, labels]) => sample(after, name, labels) - sample(before, name, labels));
}

describeEachDatabase('metrics', (server) => {
  it('counts exactly what a workload did: checkouts granted and refused, alerts, leases, violations, errors by code', async () => {
    const t = server();
    const license = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 } });
    await t.ok(SetThresholdRuleDocument, {
      input: { licenseId: license.licenseId, metric: 'CONCURRENT_SESSIONS', thresholds: [100], repeatIntervalMinutes: 0 },
    });
    const before = await scrape(t);

    const outcomes: string[] = [];
    for (const fingerprint of ['one', 'two', 'three']) {
      outcomes.push((await t.ok(CheckoutSeatDocument, { key: license.key, fingerprint }, null)).checkoutSeat.outcome);
    }
    expect(outcomes).toEqual(['GRANTED', 'GRANTED', 'NO_SEAT_AVAILABLE']);
    expect(await t.errorCode(ValidateLicenseDocument, { key: 'not a key' }, null)).toBe('BAD_USER_INPUT');
    expect(await t.errorCode(OrganizationsDocument, {}, 'alm_not-a-token')).toBe('UNAUTHENTICATED');
    const alerts = (await t.ok(AlertsDocument, { filter: { licenseId: license.licenseId }, first: 50 })).alerts.nodes;
    expect(alerts.map((a) => [a.kind, a.threshold])).toEqual([['THRESHOLD', 100]]);
    const violations = (await t.ok(ViolationsDocument, { filter: { licenseId: license.licenseId, statuses: ['OPEN'] } })).violations.nodes;

    const after = await scrape(t);
    expect(
      grown(before, after, [
        ['license_manager_seat_checkouts_total', { outcome: 'GRANTED' }],
        ['license_manager_seat_checkouts_total', { outcome: 'NO_SEAT_AVAILABLE' }],
        ['license_manager_alerts_raised_total', { kind: 'THRESHOLD' }],
        ['license_manager_leases_live', { kind: 'ONLINE' }],
        ['license_manager_graphql_errors_total', { code: 'BAD_USER_INPUT', lane: 'client' }],
        ['license_manager_graphql_errors_total', { code: 'UNAUTHENTICATED', lane: 'http' }],
        ['license_manager_request_duration_seconds', { operation: 'checkoutSeat', lane: 'client' }],
        ['license_manager_request_duration_seconds', { operation: 'validateLicense', lane: 'client' }],
        ['license_manager_request_duration_seconds', { operation: 'alerts', lane: 'http' }],
      ]),
    ).toEqual([2, 1, 1, 2, 1, 1, 3, 1, 1]);
    const openByKind = (families: Families) =>
      families.find((f) => f.name === 'license_manager_violations_open')?.metrics.filter((m) => m.labels?.status === 'OPEN') ?? [];
    const openNow = openByKind(after).reduce((sum, m) => sum + Number(m.value), 0);
    expect(openNow - openByKind(before).reduce((sum, m) => sum + Number(m.value), 0)).toBe(violations.length);
  });

  it('has the default process metrics, event-loop lag, the database pool, and no license or organization as a label', async () => {
    const t = server();
    const text = await (await fetch(t.url.replace(/\/graphql$/, '/metrics'))).text();
    const families = parsePrometheusTextFormat(text);
    for (const name of [
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'license_manager_db_pool_connections_in_use',
      'license_manager_db_pool_waiting',
    ]) {
      expect(families.map((f) => f.name)).toContain(name);
    }
    // Without REDIS_URL there is no Redis to be connected to.
    expect(families.map((f) => f.name)).not.toContain('license_manager_redis_connected');
    const labels = new Set(families.flatMap((f) => f.metrics.flatMap((m) => Object.keys(m.labels ?? {}))));
    for (const forbidden of ['license', 'licenseId', 'license_id', 'organization', 'organizationId', 'organization_id', 'key']) {
      expect(labels).not.toContain(forbidden);
    }
  });

  it('labels an operation by its root field when the schema has it, and puts anything else in one bucket', async () => {
    const t = server();
    const before = await scrape(t);
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.admin}` },
      body: JSON.stringify({ query: 'query SomeFreeTextName { noSuchField }' }),
    });
    expect(response.status).toBe(400);
    const after = await scrape(t);
    expect(
      grown(before, after, [
        ['license_manager_request_duration_seconds', { operation: 'unknown', lane: 'http' }],
        ['license_manager_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED', lane: 'http' }],
      ]),
    ).toEqual([1, 1]);
    expect(JSON.stringify(after)).not.toContain('SomeFreeTextName');
    expect(JSON.stringify(after)).not.toContain('noSuchField');
  });

  it('counts WebSocket connections, active subscriptions by operation, and the events delivered to them', async () => {
    const t = server();
    const license = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 } });
    await t.ok(SetThresholdRuleDocument, {
      input: { licenseId: license.licenseId, metric: 'CONCURRENT_SESSIONS', thresholds: [100], repeatIntervalMinutes: 0 },
    });
    const before = await scrape(t);
    const client = createClient({
      url: t.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${t.admin}` },
    });
    const received: unknown[] = [];
    const stop = client.subscribe(
      { query: print(AlertRaisedDocument), variables: { filter: { licenseId: license.licenseId } } },
      { next: (r) => received.push(r), error: () => undefined, complete: () => undefined },
    );
    try {
      await until(async () => sample(await scrape(t), 'license_manager_subscriptions_active', { operation: 'alertRaised' }) === 1);
      await t.ok(CheckoutSeatDocument, { key: license.key, fingerprint: 'one' }, null);
      await until(() => received.length === 1);
      const during = await scrape(t);
      expect(
        grown(before, during, [
          ['license_manager_websocket_connections'],
          ['license_manager_subscriptions_active', { operation: 'alertRaised' }],
          ['license_manager_subscription_events_delivered_total', { operation: 'alertRaised' }],
        ]),
      ).toEqual([1, 1, 1]);
      // Counted once: a second reading adds nothing.
      expect(
        grown(during, await scrape(t), [['license_manager_subscription_events_delivered_total', { operation: 'alertRaised' }]]),
      ).toEqual([0]);
    } finally {
      stop();
      await client.dispose();
    }
    await until(async () => {
      const now = await scrape(t);
      return (
        sample(now, 'license_manager_subscriptions_active', { operation: 'alertRaised' }) === 0 &&
        sample(now, 'license_manager_websocket_connections') === 0
      );
    });
    const lines = t.logs.map((line) => JSON.parse(line) as { msg: string; operation?: string });
    expect(lines.filter((l) => l.operation === 'alertRaised').map((l) => l.msg)).toEqual(['subscription start', 'subscription end']);
  });

  it('logs one JSON line per request with its id, operation, lane, principal, duration and outcome, never the key', async () => {
    const t = server();
    const license = await licensed(t, 'CONCURRENT');
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-me-123' },
      body: JSON.stringify({ query: print(ValidateLicenseDocument), variables: { key: license.key } }),
    });
    expect(response.status).toBe(200);
    await t.ok(OrganizationsDocument, {});
    const lines = t.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const validation = lines.find((l) => l.requestId === 'trace-me-123');
    expect(validation).toMatchObject({
      msg: 'request',
      lane: 'client',
      operation: 'validateLicense',
      principal: 'LICENSE_KEY',
      outcome: 'OK',
    });
    expect(typeof validation?.durationMs).toBe('number');
    const organizations = lines.filter((l) => l.operation === 'organizations').at(-1);
    expect(organizations).toMatchObject({ msg: 'request', lane: 'http', principal: 'API_TOKEN', outcome: 'OK' });
    expect(t.logs.join('\n')).not.toContain(license.key);
    expect(t.logs.join('\n')).not.toContain(t.admin);
  });
});

for (const kind of DATABASE_KINDS) {
  describe(`metrics behind a token [${kind}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer(kind, { metricsToken: 'scraper-token-0123456789', requestLogLevel: 'silent' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('refuses a scrape without the token, or with another, and serves one with it', async () => {
      const url = t.url.replace(/\/graphql$/, '/metrics');
      const without = await fetch(url);
      expect([without.status, without.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="metrics"']);
      expect((await fetch(url, { headers: { authorization: 'Bearer scraper-token-9876543210' } })).status).toBe(401);
      expect(sample(await scrape(t, { authorization: 'Bearer scraper-token-0123456789' }), 'license_manager_websocket_connections')).toBe(
        0,
      );
    });

    it('logs no request line when request logging is silent', async () => {
      await t.ok(OrganizationsDocument, {});
      expect(t.logs.map((line) => JSON.parse(line) as { msg: string }).filter((l) => l.msg === 'request')).toEqual([]);
    });
  });
}
